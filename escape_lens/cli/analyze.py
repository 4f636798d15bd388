"""`escape-lens analyze`: every heap allocation site of Go source (or of a Go binary).

Exit codes: 0 report written (even when some packages were skipped: their compiler
errors go to stderr), 1 `--cross-check` found disagreements, 2 nothing could be analysed
or bad input (a bad, truncated or non-heap `--profile` too). With `--profile` or
`--bench` the heap profile is joined to the sites (escape_lens.profile, docs/profiles.md).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import click

from escape_lens import progress
from escape_lens.analyze import analyze_targets
from escape_lens.cli import print_compiler_messages, reportcache
from escape_lens.cli.buildopts import build_options
from escape_lens.cli.logs import print_to_stderr
from escape_lens.cli.options import progress_options
from escape_lens.cli.output import check_writable, html_output, output_stream, say_html_written
from escape_lens.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from escape_lens.focus import DEFAULT_SORT, HIDES_QUIET_LINES, SORT_KEYS, Focus, apply_focus
from escape_lens.log import LOGGER
from escape_lens.profile import DEFAULT_SAMPLE
from escape_lens.records import Report
from escape_lens.reporters import Reporter, formats, get_reporter
from escape_lens.toolchain.targets import in_one_module
from escape_lens.toolchain.wheel import go_option
from escape_lens.vocab import ProfileSample, SitePath

if TYPE_CHECKING:  # the profile readers load protobuf (~50 ms): only with a profile
    from escape_lens.gate.config import FunctionPattern
    from escape_lens.profile.bench import BenchRun
    from escape_lens.profile.reader import HeapProfile


@click.command("analyze")
@click.argument("targets", nargs=-1)
@click.option(
    "--go",
    "gos",
    multiple=True,
    metavar="PATH|VERSION",
    help="Go toolchain: a go binary, a GOROOT or a version (1.22.10, fetched); "
    "more than once: what changes between the versions.",
)
@click.option("--tests", is_flag=True, help="Include _test.go files.")
@build_options
@click.option(
    "--format", "fmt", type=click.Choice(formats("analyze")), default="text", show_default=True
)
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE, not stdout.")
@click.option("-v", "--verbose", is_flag=True, help="Show the go command line and flow chains.")
@click.option("--binary", metavar="PATH", help="Analyse a compiled Go ELF binary instead.")
@click.option(
    "--package",
    "packages",
    multiple=True,
    metavar="PATTERN",
    help="With --binary: functions of these packages (default: the main module's).",
)
@progress_options
@click.option(
    "--cross-check",
    is_flag=True,
    help="Also build the targets into a binary and report where the two modes disagree.",
)
@click.option(
    "--function",
    "function_pattern",
    metavar="PATTERN",
    help="Only functions matching PATTERN (the `hot` pattern grammar; closures included).",
)
@click.option("--file", "file_glob", metavar="GLOB", help="Only sites in files matching GLOB.")
@click.option(
    "--path",
    "paths",
    multiple=True,
    type=click.Choice([path.value for path in SitePath]),
    help="Only sites taking this allocator path (repeatable).",
)
@click.option(
    "--min-bytes",
    type=click.IntRange(min=0),
    metavar="N",
    help="Only sites taking at least N size-class bytes per execution.",
)
@click.option(
    "--sort",
    "sort_order",
    type=click.Choice(list(SORT_KEYS)),
    default=DEFAULT_SORT,
    show_default=True,
    help="Order of the sites (bytes, waste, observed: largest first).",
)
@click.option(
    "--top", type=click.IntRange(min=1), metavar="N", help="Only the first N allocating sites."
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Text: also the escape lines that allocate nothing (JSON always lists them).",
)
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    metavar="FILE",
    help="Join a Go heap profile (pprof, e.g. go test -memprofile); repeatable.",
)
@click.option(
    "--profile-sample",
    type=click.Choice([sample.value for sample in ProfileSample]),
    default=DEFAULT_SAMPLE.value,
    show_default=True,
    help="Which values of the profile to use.",
)
@click.option(
    "--bench",
    metavar="REGEXP",
    help="Run the package's benchmarks matching REGEXP, recording every allocation.",
)
@click.option(
    "--benchtime",
    default="1000x",
    show_default=True,
    metavar="Nx",
    help="With --bench: iterations per benchmark.",
)
def command(
    targets: Sequence[str],
    gos: Sequence[str],
    tests: bool,
    tags: tuple[str, ...],
    gcflags: tuple[str, ...],
    fmt: str,
    output: str | None,
    verbose: bool,
    binary: str | None,
    packages: Sequence[str],
    cross_check: bool,
    function_pattern: str | None,
    file_glob: str | None,
    paths: Sequence[str],
    min_bytes: int | None,
    sort_order: str,
    top: int | None,
    show_all: bool,
    profiles: Sequence[str],
    profile_sample: str,
    bench: str | None,
    benchtime: str,
) -> int:
    """Every heap allocation in TARGET... (Go files, directories or package patterns)."""
    print_to_stderr(verbose)
    focus = Focus(
        function=_function_pattern(function_pattern),
        file=file_glob,
        paths=tuple(SitePath(path) for path in paths),
        min_bytes=min_bytes,
        sort=sort_order,
        top=top,
        quiet_lines=show_all or fmt not in HIDES_QUIET_LINES,
    )
    inputs = [*targets, *([binary] if binary else []), *profiles]
    asked, output = output, html_output(fmt, output)
    if output is not None:
        check_writable(output, inputs)  # before the build
    _check_profile_options(targets, binary, profiles, bench, benchtime, sort_order)
    if len(gos) > 1:
        # Imported here: the matrix (and the diff it uses) is ~10 ms of start-up that a
        # single toolchain's run, waiting to start go, does not need.
        from escape_lens.cli.matrix import MatrixRequest, check_matrix_options, run_matrix

        others = {"--binary/--package": binary is not None or bool(packages)}
        others |= {"--cross-check": cross_check}
        others |= {"--profile/--bench": bool(profiles) or bench is not None}
        others |= {"--sort": sort_order != DEFAULT_SORT}
        check_matrix_options(fmt, focus, others)
        request = MatrixRequest(
            tuple(gos), tuple(targets), tests, tags, gcflags, focus, fmt, output
        )
        return run_matrix(request, _print_notes)
    go = go_option(gos[0]) if gos else None
    sample = ProfileSample(profile_sample)
    heap = None
    if profiles:  # bad profiles fail first
        from escape_lens.profile.reader import read_profiles

        heap = read_profiles(list(profiles))
    reporters: list[Reporter] = []

    def load_reporter() -> None:  # while go runs (a bad format still fails before the end)
        if not reporters:
            reporters.append(_reporter(fmt, verbose, sort_order))

    def arranged(report: Report) -> _Arranged:
        load_reporter()
        reporter = reporters[0]
        focused = apply_focus(report, focus)
        summary = focused.summary(focus)
        # text says what the focus left out under its totals; a machine format's bytes stay
        # the format's, so there it goes to stderr
        if summary and fmt == "text":
            from escape_lens.reporters.text import TextReporter

            assert isinstance(reporter, TextReporter)
            reporter = reporter.noting(summary)
        return _Arranged(report, focused.report, summary, reporter)

    ahead: list[_Rendered] = []

    def render_ahead(report: Report) -> None:
        """While go runs, the report the last run's results make (analyze_targets), which
        this run's is when they all hold: written at once then."""
        if len(report.sites) > _AHEAD_SITES:
            return
        # A guess: whatever rendering it meets, the run meets again if the guess holds
        # (rendering after go, as without a guess); a failure here only costs the speed.
        try:
            ahead.append(_Rendered.of(arranged(report)))
        except Exception:
            LOGGER.debug("the report rendered ahead failed", exc_info=True)

    # A run that reads only source through go, and writes one report, can be answered
    # from the report cache next time (escape_lens/reportcache.py).
    cacheable = not (verbose or cross_check or profiles or binary is not None)
    cacheable = cacheable and bench is None and asked == output
    with reportcache.recording(cacheable, output, inputs) as run:
        speculate = heap is None and bench is None and binary is None
        with progress.running() as line:
            if bench is not None:
                report = _analyze_bench(
                    targets[0], bench, benchtime, sample, go, load_reporter, (tags, gcflags)
                )
            else:
                report = _analyze(
                    targets,
                    go,
                    tests,
                    binary,
                    packages,
                    cross_check,
                    load_reporter,
                    (tags, gcflags),
                    render_ahead if speculate else None,
                )
            if heap is not None:
                report = _join(report, heap, sample, binary)
            rendered = ahead[0] if ahead and ahead[0].arranged.report is report else None
            chosen = rendered.arranged if rendered is not None else arranged(report)
            summary = chosen.summary
            if output is not None:  # on stdout the report and the line would interleave
                line.set(f"writing {output}")
                _write(chosen, rendered, output, inputs, run, create=asked != output)
        if asked != output and output is not None:
            say_html_written(output)
        if binary is None:
            print_compiler_messages(((s.package, s.reason) for s in report.skipped), "skipped ")
        _print_model_note(report)
        if output is None:
            _write(chosen, rendered, output, inputs, run)
        for summary_line in summary.splitlines() if fmt != "text" else ():
            click.echo(f"escape-lens: {summary_line}", err=True)
        if cross_check:
            # (a machine format on stdout stays that format's bytes: the lines go to stderr)
            return _cross_check(report, list(targets), to_stderr=output is None and fmt != "text")
        if run is not None:
            run.store()
        return EXIT_OK


# A report rendered ahead is held twice (records and text) until it is written: not
# worth it for the largest builds (std: ~35 000 sites), whose go command replays for
# seconds anyway.
_AHEAD_SITES = 20_000


@dataclass(frozen=True, slots=True)
class _Arranged:
    """A report as written: focused, with the reporter and the focus's summary."""

    report: Report
    focused: Report
    summary: str
    reporter: Reporter


@dataclass(frozen=True, slots=True)
class _Rendered:
    """A report rendered into text for a stream that is no terminal (colour and width
    are a terminal's only)."""

    arranged: _Arranged
    text: str

    @classmethod
    def of(cls, arranged: _Arranged) -> _Rendered:
        buffer = io.StringIO()
        arranged.reporter.render(arranged.focused, buffer)
        return cls(arranged, buffer.getvalue())


def _analyze(
    targets: Sequence[str],
    go: str | None,
    tests: bool,
    binary: str | None,
    packages: Sequence[str],
    cross_check: bool,
    while_building: Callable[[], None],
    build: tuple[Sequence[str], Sequence[str]],
    ahead: Callable[[Report], None] | None = None,
) -> Report:
    build_tags, extra_gcflags = build
    if binary is not None:
        if targets or cross_check or tests or build_tags or extra_gcflags:
            raise UsageError(
                "--binary takes no TARGET, --tests, --tags, --gcflags or --cross-check"
            )
        # Imported here to keep source mode from loading capstone and the ELF readers.
        from escape_lens.binary_report import analyze_binary

        report = analyze_binary(binary, list(packages) or None)
    else:
        if packages:
            raise UsageError("--package only applies to --binary")
        if not targets:
            raise UsageError("no TARGET given (a Go file, a directory or a package pattern)")
        report = analyze_targets(
            list(targets),
            go=go,
            tests=tests,
            tags=build_tags,
            gcflags=extra_gcflags,
            while_building=while_building,
            ahead=ahead,
            store_beside=True,  # (written while the report is: the exit waits for it)
        )
    return report


def _function_pattern(text: str | None) -> FunctionPattern | None:
    if text is None:
        return None
    # Imported here, as everything only some options need: what runs before go starts
    # delays the whole run (the gate's configuration reader loads tomllib).
    from escape_lens.gate.config import FunctionPattern

    try:
        return FunctionPattern.parse(text)
    except ValueError as exc:
        raise UsageError(f"--function: invalid pattern {text!r}: {exc}") from exc


def _check_profile_options(
    targets: Sequence[str],
    binary: str | None,
    profiles: Sequence[str],
    bench: str | None,
    benchtime: str,
    sort_by: str,
) -> None:
    if bench is not None:
        from escape_lens.profile.bench import check_benchtime

        if binary is not None or profiles:
            raise UsageError("--bench runs the benchmarks itself: no --binary or --profile")
        if len(targets) != 1:
            raise UsageError("--bench takes exactly one TARGET package")
        check_benchtime(benchtime)
    if sort_by == "observed" and not (profiles or bench):
        raise UsageError("--sort observed needs --profile FILE or --bench REGEXP")


def _join(report: Report, heap: HeapProfile, sample: ProfileSample, binary: str | None) -> Report:
    from escape_lens.profile.join import join_profile

    callee = None
    if binary is not None:
        # Imported here, like binary_report: only binary mode needs the ELF readers. The
        # program the profile is of names the calls where no site is.
        from escape_lens.profile.callees import callee_reader

        callee = callee_reader(binary)
    return join_profile(report, heap, sample, callee=callee)


def _analyze_bench(
    target: str,
    pattern: str,
    benchtime: str,
    sample: ProfileSample,
    go: str | None,
    while_building: Callable[[], None],
    build: tuple[Sequence[str], Sequence[str]],
) -> Report:
    """The package with its tests (benchmarks allocate too), joined to a benchmark run."""
    from escape_lens.profile.bench import with_bench_profile

    if build[0] or build[1]:
        # go test would build the benchmarks without them: the profile would not be of the
        # build the sites come from
        raise UsageError("--bench takes no --tags or --gcflags")
    report = analyze_targets([target], go=go, tests=True, while_building=while_building)

    def join(path: str, bench_run: BenchRun) -> Report:
        from escape_lens.profile.join import join_profile
        from escape_lens.profile.reader import read_profiles

        joined = join_profile(report, read_profiles([path]), sample, bench_run.operations)
        assert joined.profile is not None
        profile = replace(joined.profile, files=(), benchmarks=bench_run.benchmarks)
        return replace(joined, profile=profile)

    return with_bench_profile(target, pattern, benchtime, join, go=go)


def _reporter(fmt: str, verbose: bool, sort_by: str = "position") -> Reporter:
    if fmt == "text" and sort_by == "observed":
        # Imported here, as get_reporter imports formats: while go runs, and only this one.
        from escape_lens.reporters.text import TextReporter

        return TextReporter(verbose=verbose, sort_by=sort_by)
    try:
        return get_reporter(fmt, verbose=verbose)
    except ModuleNotFoundError as exc:
        raise UsageError(f"--format {fmt} is not available in this installation") from exc


def _print_notes(report: Report) -> None:
    """A matrix's report: its skipped packages and model note, naming the version."""
    from escape_lens.model import rules_for

    for skipped in report.skipped:
        click.echo(f"escape-lens: {report.toolchain.version}: skipped {skipped.package}", err=True)
    note = rules_for(report.toolchain.version, report.toolchain.goexperiment).note
    if note:
        click.echo(f"escape-lens: note: {report.toolchain.version}: {note}", err=True)


def _print_model_note(report: Report) -> None:
    """Say when the model is not exactly the toolchain's (a newer Go, an unknown experiment)."""
    from escape_lens.model import rules_for  # (loaded while go ran, by the reporter)

    note = rules_for(report.toolchain.version, report.toolchain.goexperiment).note
    if note:
        click.echo(f"escape-lens: note: {note}", err=True)


def _write(
    arranged: _Arranged,
    rendered: _Rendered | None,
    output: str | None,
    inputs: list[str],
    run: reportcache.Recording | None,
    *,
    create: bool = False,
) -> None:
    """The report into the output, the text rendered ahead when it is what rendering
    into this stream would write; kept for the report cache when `run` records."""
    with output_stream(output, inputs, create=create) as stream:
        if run is not None:
            stream = run.tap(stream)
        if rendered is not None and not stream.isatty():
            stream.write(rendered.text)
        else:
            arranged.reporter.render(arranged.focused, stream)


def _cross_check(report: Report, targets: list[str], *, to_stderr: bool) -> int:
    # Imported here: only --cross-check needs the binary readers (capstone).
    from escape_lens.crosscheck import build_and_cross_check
    from escape_lens.reporters.text_layout import counted

    cwd = None
    found = in_one_module(targets, os.getcwd())  # as analyze_targets builds them
    if found is not None:
        cwd, targets = found
    disagreements = build_and_cross_check(report.toolchain, targets, report, cwd=cwd)
    for disagreement in disagreements:
        click.echo(str(disagreement), err=to_stderr)
    if disagreements:
        click.echo(f"escape-lens: {counted(len(disagreements), 'disagreement')}", err=True)
        return EXIT_FINDINGS
    click.echo("escape-lens: source and binary agree", err=True)
    return EXIT_OK
