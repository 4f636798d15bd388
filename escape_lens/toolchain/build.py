"""Compiling the targets once and collecting what the compiler said about each package.

`compile_targets` is the whole job: check the targets, then one
`go list -e -export -deps -json=... -gcflags='-m=2 -S' TARGETS` that lists the packages
*and* compiles them (`-export` needs the compiled package), with escape diagnostics and
the assembly listing for exactly the packages named on the command line (a `-gcflags`
without a pattern), then parse each target's output.

Invariants (docs/design.md §1, docs/parsers.md#one-go-command):
- One go command for everything: listing, compiling (never one per package), the
  compiled archives (`Export`, read for the inlining trees by parsers/goobj.py), their
  build IDs (`BuildID`, the key of the result cache) and the export data of every
  dependency (for type sizes). It writes nothing into the user's tree: go list links
  nothing, and test variants (`-test`) are compiled, not linked.
- A package that cannot load or compile is reported with go's own message (its `Error`),
  one that imports such a package with the first failed dependency (`DepsErrors`); the
  go command carries on with the independent ones.
- Text `-m=2` output, which a cached build replays (logopt files it does not).
- The compiler's output goes straight into a temporary file and is parsed from there
  once the listing (which comes last, on stdout) says what each block belongs to:
  memory stays flat however large the output, and a package whose result is in the
  result cache (toolchain/resultcache.py) is not parsed at all.
- Type sizes come from the type descriptors in the listings of the target packages and,
  for types defined elsewhere, from `typesizes` (go/types on the dependencies' export
  data); never from a type's name.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from escape_lens import progress
from escape_lens.errors import TargetError, ToolchainError
from escape_lens.records import (
    BuildSettings,
    CompileOutput,
    GoToolchain,
    ListedPackage,
    PackageOutput,
    TypeInfo,
)
from escape_lens.toolchain import watch
from escape_lens.toolchain.golaunch import launch
from escape_lens.toolchain.golist import Listing, read_listing
from escape_lens.toolchain.targets import Targets, check_targets, find_go_mod, has_go_files
from escape_lens.vocab import counted

if TYPE_CHECKING:  # loaded once go has started (build_targets): go waits for nothing else
    import escape_lens.toolchain.resultcache as resultcache
    from escape_lens.toolchain.typesizes import EarlyHelper, WaitingHelper

_Kept = TypeVar("_Kept")


@dataclass(frozen=True, slots=True)
class Stage(Generic[_Kept]):
    """What a build keeps per target package, and so what the result cache stores.

    finish: the parsed output in the form kept, for the build's toolchain (the join, for
    analyze); types: the sized types a kept result offers to the packages parsed beside it.
    """

    kind: type[_Kept]
    finish: Callable[[GoToolchain, PackageOutput], _Kept]
    types: Callable[[_Kept], Iterable[TypeInfo]]


@dataclass(frozen=True, slots=True)
class Built(Generic[_Kept]):
    """One build of the targets: the toolchain, the root, per target its kept result."""

    toolchain: GoToolchain
    root: str
    results: tuple[_Kept, ...]
    command: tuple[str, ...]
    build: BuildSettings
    only_files: tuple[str, ...]


OUTPUTS: Stage[PackageOutput] = Stage(PackageOutput, lambda _, output: output, lambda o: o.types)


def compile_targets(
    go: GoToolchain | Path,
    targets: Sequence[str],
    *,
    tests: bool = False,
    cwd: str | None = None,
    tags: Sequence[str] = (),
    gcflags: Sequence[str] = (),
) -> CompileOutput:
    """Compile `targets` once with escape diagnostics and assembly; parse per package.

    `go` is the toolchain, or its go binary, whose version and platform are then read
    (`go env`) while the build runs. `tags` and `gcflags` are the user's build tags and
    extra compiler flags (toolchain/buildflags.py). Raises TargetError (bad targets) or
    ToolchainError (go failed to run or timed out, is not a supported Go, or builds for
    an architecture whose listings are not read); a package that does not compile is a
    PackageOutput with `error`, not an exception.
    """
    built = build_targets(go, targets, OUTPUTS, tests=tests, cwd=cwd, tags=tags, gcflags=gcflags)
    return CompileOutput(
        toolchain=built.toolchain,
        root=built.root,
        packages=built.results,
        command=built.command,
        build=built.build,
        only_files=built.only_files,
    )


def build_targets(
    go: GoToolchain | Path,
    targets: Sequence[str],
    stage: Stage[_Kept],
    *,
    tests: bool = False,
    cwd: str | None = None,
    tags: Sequence[str] = (),
    gcflags: Sequence[str] = (),
    while_building: Callable[[], object] | None = None,
    ahead: Callable[[Built[_Kept]], object] | None = None,
    store_beside: bool = False,
) -> Built[_Kept]:
    """compile_targets, keeping per package what `stage` makes of its output (in import
    path order); a package whose kept result is in the result cache is not parsed.
    `while_building` is called while go runs, after what the build itself needs; then
    `ahead`, with the Built the last run's results would make (`_guess`), when they were
    all read. What returns is that very object when the listing confirms every result.
    `store_beside`: the result cache entries of a serial parse may still be being
    written by a forked process when this returns (`resultcache.store_beside`: the CLI
    writes the report meanwhile; the process's exit waits for them)."""
    workdir = os.path.realpath(cwd or os.getcwd())
    checked = check_targets(targets, workdir)
    line = progress.current()
    with (
        tempfile.TemporaryDirectory(prefix="escape-lens-build-") as tmp,
        contextlib.ExitStack() as helper_build,
    ):
        listing_path, output_path = os.path.join(tmp, "listing"), os.path.join(tmp, "output")
        early = None
        with (
            open(listing_path, "wb") as stdout,
            open(output_path, "wb") as stderr,
            launch(
                go,
                checked,
                workdir=workdir,
                tests=tests,
                tags=tags,
                gcflags=gcflags,
                stdout=stdout,
                stderr=stderr,
            ) as launched,
        ):
            toolchain, go_env, flags = launched.toolchain, launched.go_env, launched.flags
            checked, command, process = launched.targets, launched.command, launched.process
            # While go runs: the result cache is loaded (go starts as soon as its
            # command line is known), the last run's results are decoded
            # (resultcache.Preload), and, when nothing suggests that the results are all
            # cached, the type-size helper and the parsers are loaded.
            import escape_lens.toolchain.resultcache as resultcache

            preload = resultcache.Preload((workdir, *command), stage.kind)
            line.set(_CompilesDone(output_path))
            if not preload.expected:
                from escape_lens.toolchain.typesizes import EarlyHelper, links_each_run

                if links_each_run(toolchain):
                    # Started now, the helper's link overlaps go's compiles (typesizes.py);
                    # one that cannot start is built when needed, as it was.
                    with contextlib.suppress(ToolchainError):
                        early = helper_build.enter_context(EarlyHelper(toolchain, tmp))
                # Imported here, while go runs, for the CLI's latency: loading the
                # parsers takes tens of milliseconds that the build then overlaps (and
                # a warm run, whose results were all read ahead, does not load them).
                import escape_lens.parsers.gobuild  # noqa: F401
            if while_building is not None:
                while_building()
            guessed = None
            if ahead is not None and preload.expected:
                guessed = _guess(preload, toolchain, command, flags.settings, checked, workdir)
                if guessed is not None:
                    ahead(guessed)
            returncode = process.wait()
        with open(listing_path, encoding="utf-8", errors="replace") as file:
            listing = read_listing(file.read(), tests=tests)
        warnings = _go_warnings(output_path)
        if not listing.targets:
            raise TargetError(_nothing_listed(warnings, checked, returncode, workdir))
        _no_match(warnings, workdir)
        watch.saw_build(checked, workdir, toolchain, go_env, listing)
        root = _root(listing.targets, checked, toolchain, go_env["GOWORK"])
        context = resultcache.Context(toolchain, workdir, root, tests)
        cached = _cached(listing, context, stage.kind, preload)
        known = {t.name: t for kept in cached.values() for t in stage.types(kept)}
        unparsed = [t for t in listing.targets if t.import_path not in cached and _compiled(t)]
        parsed = {}
        if unparsed:
            parsed = _parse(
                unparsed, listing, output_path, known, stage, context, early, store_beside
            )
    results = []
    for listed in sorted(listing.targets, key=lambda t: t.import_path):
        kept = cached.get(listed.import_path)
        if kept is None and listed.import_path in parsed:
            kept = parsed.pop(listed.import_path)  # (stored as it was finished)
        elif kept is None:
            output = PackageOutput(listed.import_path, listed.dir, error=listed.error)
            kept = stage.finish(toolchain, output)
        results.append(kept)
    # (in the results' order: the next run's guess)
    stored = [
        t
        for t in sorted(listing.targets, key=lambda t: t.import_path)
        if t.error is None and t.build_ids
    ]
    entries = [resultcache.entry_path(context, t, stage.kind) for t in stored]
    resultcache.remember(preload, entries, root)
    built = Built(
        toolchain,
        root,
        tuple(results),
        command,
        flags.settings,
        _only_files(checked, workdir, root),
    )
    return guessed if guessed is not None and _confirms(built, guessed) else built


def _only_files(checked: Targets, workdir: str, root: str) -> tuple[str, ...]:
    """The files named as targets, as positions name them (only their sites are kept)."""
    if not checked.only:
        return ()
    from escape_lens.parsers.positions import Positions

    return tuple(Positions(workdir, root).file(f) for f in checked.only)


def _guess(
    preload: resultcache.Preload[_Kept],
    toolchain: GoToolchain,
    command: tuple[str, ...],
    settings: BuildSettings,
    checked: Targets,
    workdir: str,
) -> Built[_Kept] | None:
    """The Built of this run if every package has the last run's result (read ahead while
    go runs) and the same root; `_confirms` says whether it is, once go has listed them."""
    values = preload.guess()
    if values is None or preload.root is None:
        return None
    only_files = _only_files(checked, workdir, preload.root)
    return Built(toolchain, preload.root, tuple(values), command, settings, only_files)


def _confirms(built: Built[_Kept], guessed: Built[_Kept]) -> bool:
    """Whether the run's Built is the guess: the same objects (the entries read ahead are
    what the lookups returned), so everything made of the guess is this run's."""
    return (
        len(built.results) == len(guessed.results)
        and all(real is guess for real, guess in zip(built.results, guessed.results, strict=True))
        and built.root == guessed.root
        and built.only_files == guessed.only_files
        and built.toolchain == guessed.toolchain
        and built.command == guessed.command
        and built.build == guessed.build
    )


def _parse(
    unparsed: list[ListedPackage],
    listing: Listing,
    output_path: str,
    known: dict[str, TypeInfo],
    stage: Stage[_Kept],
    context: resultcache.Context,
    early: EarlyHelper | WaitingHelper | None,
    store_beside: bool,
) -> dict[str, _Kept]:
    """The `unparsed` packages parsed and finished, each stored in the result cache with
    the questions its parsing asked (with `store_beside`, by a forked process while this
    one writes the report: `resultcache.store_beside`); in several processes when there
    are many (toolchain/parallel.py), each storing its own. A toolchain that runs the
    type-size helper from its build cache starts it first, so that go's lookup of it runs
    beside the parsing, which leaves a core idle (typesizes.py)."""
    import escape_lens.toolchain.halves as halves
    import escape_lens.toolchain.parallel as parallel
    import escape_lens.toolchain.resultcache as resultcache
    from escape_lens.parsers.gobuild import BuildParser, final_types, types_to_size
    from escape_lens.parsers.positions import Positions
    from escape_lens.toolchain.typesizes import links_each_run, waiting_helper

    toolchain = context.toolchain
    with contextlib.ExitStack() as started:
        helper: EarlyHelper | WaitingHelper | None = early
        if early is None and not links_each_run(toolchain):
            with contextlib.suppress(ToolchainError):  # (then started when needed)
                helper = started.enter_context(waiting_helper(toolchain))

        def size_foreign(names: list[str]) -> dict[str, TypeInfo]:
            return _foreign_sizes(toolchain, names, listing.exports, helper)

        jobs = parallel.jobs_for(len(unparsed), os.path.getsize(output_path))
        if jobs > 1:
            return parallel.parse(
                unparsed, listing.archives, output_path, known, stage.finish, context, jobs,
                size_foreign,
            )  # fmt: skip
        line = progress.current()
        parser = BuildParser(
            unparsed,
            Positions(context.workdir, context.root, toolchain.goroot),
            tests=context.tests,
            archives=listing.archives,
            goroot=toolchain.goroot,
            goarch=toolchain.goarch,
        )
        size = max(1, os.path.getsize(output_path))
        what = f"{len(parser.states)} of {counted(len(listing.targets), 'package')}"

        def parsed_to(offset: int) -> None:
            line.set(f"parsing {what}: {min(99, offset * 100 // size)}%")

        halves.feed_output(parser, output_path, parser.states, parsed_to)
        summaries = list(parser.summaries().values())
        missing = types_to_size(summaries, known)
        line.set(f"sizing {counted(len(missing), 'type')} of other packages")
        foreign = size_foreign(sorted(missing)) if missing else {}
    outputs = parser.outputs_with(final_types({**known, **foreign}, summaries))
    outputs.reverse()
    listed_as = {t.import_path: t for t in unparsed}
    finished: dict[str, _Kept] = {}
    stored = []
    while outputs:
        output = outputs.pop()  # each output freed once finished
        line.set(f"finishing {len(finished) + 1} of {len(finished) + len(outputs) + 1} packages")
        kept = stage.finish(toolchain, output)
        probes = parser.states[output.import_path].probes
        stored.append((listed_as[output.import_path], kept, probes))
        finished[output.import_path] = kept
    if store_beside:
        resultcache.store_beside(context, stored, parallel.spare_core())
    else:
        for listed, kept, probes in stored:
            resultcache.store(context, listed, kept, probes)
    return finished


class _CompilesDone:
    """The progress line's text while go runs: how many compiles of target packages it
    has finished (the `# pkg` headers in its output so far, read where the last look
    stopped; only the progress line's thread calls this)."""

    def __init__(self, output_path: str) -> None:
        self._path = output_path
        self._offset = 0
        self._count = 0
        self._last = b"\n"

    def __call__(self) -> str:
        with open(self._path, "rb") as file:
            file.seek(self._offset)
            data = file.read()
        if data:
            self._count += (self._last[-1:] + data).count(b"\n# ")
            self._offset += len(data)
            self._last = data[-1:]
        return f"go: {self._count} target compiles done"


def _compiled(listed: ListedPackage) -> bool:
    """Whether there is compiler output of the package to parse. `unsafe` and a directory
    of tests alone compile nothing and have no build ID (without this, they alone would
    make a warm run read all of a large build's output); a package that failed has no
    output to parse either (its error is in the listing)."""
    return listed.error is None and bool(listed.build_ids)


def _cached(
    listing: Listing,
    context: resultcache.Context,
    kind: type[_Kept],
    preload: resultcache.Preload[_Kept],
) -> dict[str, _Kept]:
    import escape_lens.toolchain.resultcache as resultcache

    found = {}
    for listed in listing.targets:
        if listed.error is None and listed.build_ids:
            kept = resultcache.load(context, listed, kind, preload)
            if kept is not None:
                found[listed.import_path] = kept
    return found


def _foreign_sizes(
    toolchain: GoToolchain,
    names: list[str],
    exports: Mapping[str, str],
    early: EarlyHelper | WaitingHelper | None = None,
) -> dict[str, TypeInfo]:
    """Sizes from the helper. If it cannot run (a full disk, a broken toolchain), the run
    fails naming what is missing: sites sized without those types would be wrong, and a
    gate must not judge them."""
    from escape_lens.toolchain.typesizes import type_sizes

    try:
        return type_sizes(toolchain, names, exports, early=early)
    except ToolchainError as exc:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise ToolchainError(
            f"cannot size {counted(len(names), 'type')} of other packages ({shown}): {exc}"
        ) from exc


def _go_warnings(output_path: str) -> list[str]:
    """The go command's own lines, before the first compile's `# pkg` block."""
    with open(output_path, encoding="utf-8", errors="replace") as file:
        head = file.read(1 << 16)
    lines = []
    for line in head.splitlines():
        if line.startswith("# "):
            break
        lines.append(line)
    return lines


def _nothing_listed(
    warnings: Sequence[str], targets: Targets, returncode: int, workdir: str
) -> str:
    """The one line that says why go listed no package at all."""
    for line in warnings:
        nothing = _MATCHED_NOTHING.search(line)
        if nothing is not None:
            return nothing.group(0) + _excluded_files(nothing.group(1), workdir)
    args = " ".join(targets.files or targets.patterns)
    detail = _last_line("\n".join(warnings)) if returncode != 0 else ""
    return f"{args}: {(detail or 'no packages').removeprefix('go: ')}"


def _no_match(warnings: Sequence[str], workdir: str) -> None:
    """A pattern that matched nothing is an error even when another one matched."""
    for line in warnings:
        nothing = _MATCHED_NOTHING.search(line)
        if nothing is not None:
            raise TargetError(nothing.group(0) + _excluded_files(nothing.group(1), workdir))


_MATCHED_NOTHING = re.compile(r'"([^"]*)" matched no packages')


def _excluded_files(pattern: str, workdir: str) -> str:
    """Why a directory pattern (`./x/...`) that holds .go files matched nothing, as go
    says for one directory (`analyze ./x`): build constraints exclude them all."""
    if not pattern.startswith((".", "/")) or not pattern.endswith("/..."):
        return ""
    top = os.path.normpath(os.path.join(workdir, pattern.removesuffix("/...")))
    if not os.path.isdir(top) or not has_go_files(top, recursive=True):
        return ""
    return f" (build constraints exclude all Go files under {top}: see --tags)"


def _root(
    listed: Sequence[ListedPackage], targets: Targets, toolchain: GoToolchain, gowork: str
) -> str:
    """The directory positions are relative to: the workspace (go.work), the main module,
    GOROOT/src, or the files'."""
    if gowork and gowork != "off" and any(p.module_dir for p in listed):
        return os.path.dirname(os.path.realpath(gowork))
    for package in listed:
        if package.module_dir:
            return package.module_dir
    if any(p.standard for p in listed) and toolchain.goroot:
        return os.path.join(toolchain.goroot, "src")
    if targets.files:
        # go list gives files no Module; the module around them is still the natural root.
        directory = os.path.dirname(targets.files[0])
        return find_go_mod(directory) or directory
    return listed[0].dir if listed else ""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
