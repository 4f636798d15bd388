"""Compiling the targets once and collecting what the compiler said about each package.

`compile_targets` is the whole job: check the targets, then one
`go list -e -export -deps -json=... -gcflags='-m=2 -S' TARGETS` that lists the packages
*and* compiles them (`-export` needs the compiled package), with escape diagnostics and
the assembly listing for exactly the packages named on the command line (a `-gcflags`
without a pattern), then parse each target's output.

Invariants:

- One go command for everything: listing, compiling (never one per package), the
  compiled archives (`Export`, read for the inlining trees by parsers/goobj.py), their
  build IDs (`BuildID`, the key of the result cache) and the export data of every
  dependency (for type sizes). It writes nothing into the user's tree: go list links
  nothing, and test variants (`-test`) are compiled, not linked.
- A package that cannot load or compile is reported with go's own message (its `Error`),
  one that imports such a package with the first failed dependency (`DepsErrors`); the
  go command carries on with the independent ones, so one broken package never stops
  the others.
- Text `-m=2` output, not `-json=0,DIR` logopt files: the go build cache replays a
  cached compile's output but not its side files, so only what the compiler prints
  gives the same CompileOutput from a cached build as from a fresh one (docs/parsers.md).
  go list writes that output to stderr, one block after a `# pkg` header per compile.
- The compiler's output goes straight into a temporary file and is parsed from there
  once the listing (which comes last, on stdout) says what each block belongs to:
  memory stays flat however large the output, and a package whose result is in the
  result cache (toolchain/resultcache.py) is not parsed at all.
- Type sizes come from the type descriptors in the listings of the target packages and,
  for types defined elsewhere, from `typesizes` (go/types on the dependencies' export
  data); never from a type's name.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from escape_lens.errors import TargetError, ToolchainError
from escape_lens.log import warn
from escape_lens.records import CompileOutput, GoToolchain, ListedPackage, PackageOutput, TypeInfo
from escape_lens.toolchain import resultcache
from escape_lens.toolchain.golist import iter_json_objects
from escape_lens.toolchain.locate import read_toolchain
from escape_lens.toolchain.stream import FileProcess, read_batches
from escape_lens.toolchain.targets import Targets, check_targets, find_go_mod
from escape_lens.toolchain.typesizes import type_sizes

BUILD_TIMEOUT = 3600.0
GCFLAGS = "-gcflags=-m=2 -S"
_LIST_FIELDS = (
    "ImportPath,Dir,Name,Error,DepsErrors,Module,Standard,TestGoFiles,XTestGoFiles,"
    "Export,BuildID,DepOnly,ForTest"
)


@dataclass(slots=True)
class Listing:
    """What the go command said about the targets and everything they import.

    targets: one ListedPackage per target package (with the build IDs of its compiles),
    in go list's order; archives: per compiled package as go list names it (`pkg`,
    `pkg [pkg.test]`, `pkg_test [pkg.test]`), its compiled archive; exports: the
    archive (export data) of every package, by plain import path.
    """

    targets: list[ListedPackage] = field(default_factory=list)
    archives: dict[str, str] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)


def compile_targets(
    go: GoToolchain | Path,
    targets: Sequence[str],
    *,
    tests: bool = False,
    cwd: str | None = None,
) -> CompileOutput:
    """Compile `targets` once with escape diagnostics and assembly; parse per package.

    `go` is the toolchain, or its go binary, whose version and platform are then read
    (`go env`) while the build runs. Raises TargetError (bad targets) or ToolchainError
    (go failed to run or timed out, or is not a supported Go); a package that does not
    compile is a PackageOutput with `error`, not an exception.
    """
    workdir = os.path.abspath(cwd or os.getcwd())
    checked = check_targets(targets, workdir)
    go_path = go.path if isinstance(go, GoToolchain) else str(go)
    command = tuple(_build_argv(go_path, checked, tests=tests))
    with tempfile.TemporaryDirectory(prefix="escape-lens-build-") as tmp:
        listing_path, output_path = os.path.join(tmp, "listing"), os.path.join(tmp, "output")
        with (
            open(listing_path, "wb") as stdout,
            open(output_path, "wb") as stderr,
            FileProcess(
                command, stdout=stdout, stderr=stderr, timeout=BUILD_TIMEOUT, cwd=workdir
            ) as process,
        ):
            toolchain = go if isinstance(go, GoToolchain) else read_toolchain(go)
            # Imported here, while go runs, for the CLI's latency: loading the parsers
            # takes tens of milliseconds that the build then overlaps.
            from escape_lens.parsers.gobuild import BuildParser
            from escape_lens.parsers.positions import Positions

            returncode = process.wait()
        with open(listing_path, encoding="utf-8", errors="replace") as file:
            listing = read_listing(file.read(), tests=tests)
        warnings = _go_warnings(output_path)
        if not listing.targets:
            raise TargetError(_nothing_listed(warnings, checked, returncode))
        _no_match(warnings)
        root = _root(listing.targets, checked, toolchain)
        context = resultcache.Context(toolchain, workdir, root, tests)
        cached = _cached(listing, context)
        parser = BuildParser(
            [t for t in listing.targets if t.import_path not in cached],
            Positions(workdir, root),
            tests=tests,
            archives=listing.archives,
            goroot=toolchain.goroot,
        )
        if parser.states:
            for batch in read_batches(output_path):
                parser.feed_all(batch)
    known = {t.name: t for output in cached.values() for t in output.types}
    missing = parser.sized_types() - set(parser.listing_types()) - set(known)
    missing |= parser.defined_containers()
    foreign = _foreign_sizes(toolchain, sorted(missing), listing.exports) if missing else {}
    known.update(foreign)
    parsed = {o.import_path: o for o in parser.outputs(known)}
    outputs = []
    for listed in listing.targets:
        output = cached.get(listed.import_path) or parsed.get(listed.import_path)
        if output is None:
            output = PackageOutput(listed.import_path, listed.dir, error=listed.error)
        elif listed.import_path in parsed and listed.build_ids:
            resultcache.store(context, listed, output, parser.states[listed.import_path].probes)
        outputs.append(output)
    outputs.sort(key=lambda o: o.import_path)
    return CompileOutput(toolchain=toolchain, root=root, packages=tuple(outputs), command=command)


def _cached(listing: Listing, context: resultcache.Context) -> dict[str, PackageOutput]:
    found = {}
    for listed in listing.targets:
        if listed.error is None and listed.build_ids:
            output = resultcache.load(context, listed)
            if output is not None:
                found[listed.import_path] = output
    return found


def _foreign_sizes(
    toolchain: GoToolchain, names: list[str], exports: Mapping[str, str]
) -> dict[str, TypeInfo]:
    """Sizes from the helper; if it cannot run, those types stay unsized (never guessed)."""
    try:
        return type_sizes(toolchain, names, exports)
    except ToolchainError as exc:
        warn(f"types of other packages left unsized: {exc}")
        return {}


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


def _nothing_listed(warnings: Sequence[str], targets: Targets, returncode: int) -> str:
    """The one line that says why go listed no package at all."""
    for line in warnings:
        nothing = re.search(r'"[^"]*" matched no packages', line)
        if nothing is not None:
            return nothing.group(0)
    args = " ".join(targets.files or targets.patterns)
    detail = _last_line("\n".join(warnings)) if returncode != 0 else ""
    return f"{args}: {(detail or 'no packages').removeprefix('go: ')}"


def _no_match(warnings: Sequence[str]) -> None:
    """A pattern that matched nothing is an error even when another one matched."""
    for line in warnings:
        nothing = re.search(r'"[^"]*" matched no packages', line)
        if nothing is not None:
            raise TargetError(nothing.group(0))


def read_listing(text: str, *, tests: bool = False) -> Listing:
    """The Listing of `go list -e -export -deps -json` output; TargetError for a target
    that names no package at all (a pattern with no directory behind it)."""
    listing = Listing()
    build_ids: dict[str, str] = {}
    raws = list(iter_json_objects(text))
    variants: dict[str, list[dict[str, object]]] = {}
    for raw in raws:
        path = str(raw.get("ImportPath") or "")
        export, build_id = raw.get("Export"), raw.get("BuildID")
        if isinstance(export, str) and export:
            listing.archives[path] = export
            if " [" not in path:
                listing.exports[path] = export
        if isinstance(build_id, str) and build_id:
            build_ids[path] = build_id
        for_test = raw.get("ForTest")
        if isinstance(for_test, str) and for_test:
            variants.setdefault(for_test, []).append(raw)
        elif path.endswith(".test") and not raw.get("DepOnly"):
            variants.setdefault(path.removesuffix(".test"), []).append(raw)
    for raw in raws:
        path = str(raw.get("ImportPath") or "")
        if raw.get("DepOnly") or raw.get("ForTest") or " [" in path:
            continue
        if tests and path.endswith(".test") and path.removesuffix(".test") in variants:
            continue  # the generated test main
        listed = _listed(raw)
        if listed.error and not listed.dir:
            raise TargetError(f"{listed.import_path}: {_first_line(listed.error)}")
        if tests:
            listed = _with_tests(listed, variants.get(path, []))
        compiled = _compiled_blocks(listed, tests)
        ids = tuple(build_ids.get(block, "") for block in compiled)
        if all(ids):
            listed = replace(listed, build_ids=ids)
        listing.targets.append(listed)
    return listing


def _compiled_blocks(listed: ListedPackage, tests: bool) -> tuple[str, ...]:
    """The compiles whose output makes up the package's result (parsers/gobuild.py)."""
    path = listed.import_path
    if not tests:
        return (path,)
    own = f"{path} [{path}.test]" if listed.has_tests else path
    return (own, *((f"{path}_test [{path}.test]",) if listed.has_xtests else ()))


def _with_tests(listed: ListedPackage, variants: Sequence[dict[str, object]]) -> ListedPackage:
    """The package with the first error of its test variants (a broken _test.go file)."""
    if listed.error is not None:
        return listed
    # The variants with the test files first; the test main only repeats their errors.
    ordered = sorted(variants, key=lambda v: str(v.get("ImportPath", "")).endswith(".test"))
    for variant in ordered:
        error = _listed(variant).error
        if error is not None:
            return replace(listed, error=error)
    return listed


def _listed(raw: dict[str, object]) -> ListedPackage:
    def text(key: str) -> str:
        value = raw.get(key)
        return value if isinstance(value, str) else ""

    def strings(key: str) -> tuple[str, ...]:
        value = raw.get(key)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    error = None
    own = raw.get("Error")
    if isinstance(own, dict) and own.get("Err"):
        error = _without_header(str(own["Err"]))
    deps_errors = raw.get("DepsErrors")
    if error is None and isinstance(deps_errors, list):
        for failed in deps_errors:
            message = str(failed.get("Err") or "") if isinstance(failed, dict) else ""
            header = re.match(r"# (\S+)", message)
            if header is not None:
                first = _first_line(_without_header(message))
                error = f"not compiled: dependency {header.group(1)} failed: {first}"
                break
            if message and error is None:
                error = message.strip()
    module = raw.get("Module")
    module_dir = str(module.get("Dir") or "") if isinstance(module, dict) else ""
    return ListedPackage(
        import_path=text("ImportPath"),
        dir=text("Dir"),
        name=text("Name"),
        error=error,
        module_dir=module_dir,
        standard=bool(raw.get("Standard")),
        has_tests=bool(strings("TestGoFiles")),
        has_xtests=bool(strings("XTestGoFiles")),
    )


def _without_header(message: str) -> str:
    """go's `# pkg` line before a compile error's message goes: the report names it."""
    text = message.strip("\n")
    if text.startswith("# "):
        text = text.partition("\n")[2]
    return text.strip("\n")


def _root(listed: Sequence[ListedPackage], targets: Targets, toolchain: GoToolchain) -> str:
    """The directory positions are relative to: the main module, GOROOT/src, or the files'."""
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


def _build_argv(go: str, targets: Targets, *, tests: bool) -> list[str]:
    names = list(targets.files or targets.patterns)
    test = ["-test"] if tests else []
    return [
        go,
        "list",
        "-e",
        "-export",
        "-deps",
        *test,
        f"-json={_LIST_FIELDS}",
        GCFLAGS,
        *names,
    ]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
