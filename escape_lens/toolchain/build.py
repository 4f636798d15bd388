"""Compiling the targets once and collecting what the compiler said about each package.

`compile_targets` is the whole job: check the targets, resolve them with one
`go list -e -json`, build the packages that can build with one `go build` whose
`-gcflags=-m=2 -S` (no package pattern, so it applies to exactly the packages named on
the command line) asks for escape diagnostics and the assembly listing, and parse that
output while it streams.

Invariants:

- One `go build` for all targets, run in the caller's directory, writing nothing into the
  user's tree (`-o /dev/null`; test binaries go to a temporary directory).
- Text `-m=2` output, not `-json=0,DIR` logopt files: the go build cache replays a
  cached compile's stdout/stderr but not its side files, so only what the compiler prints
  gives the same CompileOutput from a cached build as from a fresh one (docs/parsers.md).
- The go command prints each package's compiler output as one block after a `# pkg`
  header (`# pkg [pkg.test]` for test variants), so lines are routed by header and
  parsed as they come; nothing holds a whole listing.
- A package go list cannot load (syntax error, missing import) is left out of the build
  and reported with go list's message, so it cannot stop the others. A package that
  fails to type-check stops only the packages that import it (the go command carries on
  with independent ones); they are reported with the compiler's message or the
  dependency that failed.
- Type sizes come from the type descriptors in the listings of the target packages and,
  for types defined elsewhere, from `typesizes` (go/types on the packages' export data);
  never from a type's name.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from escape_lens.errors import TargetError
from escape_lens.parsers.asm import AsmParser, component_types
from escape_lens.parsers.escape import POS_LINE_RE, EscapeParser
from escape_lens.parsers.positions import Positions
from escape_lens.records import (
    CompileOutput,
    EscapeDiagnostic,
    FunctionSpan,
    GoToolchain,
    PackageOutput,
    TypeInfo,
)
from escape_lens.toolchain.process import run
from escape_lens.toolchain.stream import StreamedProcess
from escape_lens.toolchain.targets import Targets, check_targets

LIST_TIMEOUT = 300.0
BUILD_TIMEOUT = 3600.0
GCFLAGS = "-gcflags=-m=2 -S"
_LIST_FIELDS = (
    "ImportPath,Dir,Name,Error,DepsErrors,Module,Deps,Standard,GoFiles,TestGoFiles,XTestGoFiles"
)
_HEADER = re.compile(r"^# (?P<path>\S+)(?: \[(?P<variant>\S+)\])?$")


@dataclass(slots=True)
class ListedPackage:
    """What `go list -e -json` says about one target package."""

    import_path: str
    dir: str
    name: str
    error: str | None
    deps: tuple[str, ...]
    module_dir: str
    standard: bool
    has_tests: bool


@dataclass(slots=True)
class _PackageState:
    """The parsers of one target package while its output streams."""

    listed: ListedPackage
    escape: EscapeParser
    asm: AsmParser
    diagnostics: list[EscapeDiagnostic] = field(default_factory=list)
    seen: bool = False


def compile_targets(
    toolchain: GoToolchain,
    targets: Sequence[str],
    *,
    tests: bool = False,
    cwd: str | None = None,
) -> CompileOutput:
    """Build `targets` once with escape diagnostics and assembly; parse per package."""
    workdir = os.path.abspath(cwd or os.getcwd())
    checked = check_targets(targets, workdir)
    listed = list_packages(toolchain, checked, workdir, tests=tests)
    root = _root(listed, checked, toolchain)
    positions = Positions(workdir, root)
    buildable = [p for p in listed if p.error is None and (p.has_tests or not tests)]
    states = {
        p.import_path: _PackageState(
            p, EscapeParser(positions), AsmParser(positions, p.import_path, _symbol_prefix(p))
        )
        for p in buildable
    }
    command: tuple[str, ...] = ()
    failures: dict[str, list[str]] = {}
    preamble: list[str] = []
    returncode = 0
    if buildable:
        with tempfile.TemporaryDirectory(prefix="escape-lens-build-") as tmp:
            argv = _build_argv(toolchain, checked, buildable, tests=tests, outdir=tmp)
            command = tuple(argv)
            returncode = _stream_build(argv, workdir, states, failures, preamble)
    errors = _compile_errors(states, failures, preamble, returncode)
    foreign = _resolve_foreign_types(toolchain, states, workdir)
    outputs = [_package_output(p, states.get(p.import_path), errors, foreign) for p in listed]
    outputs.sort(key=lambda o: o.import_path)
    return CompileOutput(toolchain=toolchain, root=root, packages=tuple(outputs), command=command)


def _symbol_prefix(package: ListedPackage) -> str:
    """How the package's symbols are spelled: `main.f` for commands, else `path.f`."""
    return "main" if package.name == "main" else package.import_path


def list_packages(
    toolchain: GoToolchain, targets: Targets, cwd: str, *, tests: bool = False
) -> list[ListedPackage]:
    """The target packages as `go list -e` resolves them; TargetError if none match."""
    args = list(targets.files or targets.patterns)
    argv = [toolchain.path, "list", "-e", f"-json={_LIST_FIELDS}", *args]
    result = run(argv, timeout=LIST_TIMEOUT, cwd=cwd, check=False)
    packages = [_listed(raw) for raw in _json_stream(result.stdout)]
    matched_nothing = re.findall(r"matched no packages", result.stderr)
    if matched_nothing or (not packages and result.returncode != 0):
        detail = _last_line(result.stderr) or "no packages"
        raise TargetError(f"{' '.join(args)}: {detail.removeprefix('go: ')}")
    for package in packages:
        if package.error and not package.dir:
            raise TargetError(f"{package.import_path}: {_first_line(package.error)}")
    if tests and not any(p.has_tests for p in packages):
        raise TargetError(f"{' '.join(args)}: no test files (--tests needs _test.go files)")
    return packages


def _json_stream(text: str) -> Iterator[dict[str, object]]:
    decoder = json.JSONDecoder()
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return
        value, index = decoder.raw_decode(text, index)
        if isinstance(value, dict):
            yield value


def _listed(raw: dict[str, object]) -> ListedPackage:
    def text(key: str) -> str:
        value = raw.get(key)
        return value if isinstance(value, str) else ""

    def strings(key: str) -> tuple[str, ...]:
        value = raw.get(key)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    errors = []
    own = raw.get("Error")
    if isinstance(own, dict) and own.get("Err"):
        errors.append(str(own["Err"]))
    deps_errors = raw.get("DepsErrors")
    if isinstance(deps_errors, list):
        errors.extend(
            str(e.get("Err")) for e in deps_errors if isinstance(e, dict) and e.get("Err")
        )
    module = raw.get("Module")
    module_dir = str(module.get("Dir") or "") if isinstance(module, dict) else ""
    return ListedPackage(
        import_path=text("ImportPath"),
        dir=text("Dir"),
        name=text("Name"),
        error="\n".join(errors) or None,
        deps=strings("Deps"),
        module_dir=module_dir,
        standard=bool(raw.get("Standard")),
        has_tests=bool(strings("TestGoFiles") or strings("XTestGoFiles")),
    )


def _root(listed: Sequence[ListedPackage], targets: Targets, toolchain: GoToolchain) -> str:
    """The directory positions are relative to: the main module, GOROOT/src, or the files'."""
    for package in listed:
        if package.module_dir:
            return package.module_dir
    if any(p.standard for p in listed) and toolchain.goroot:
        return os.path.join(toolchain.goroot, "src")
    if targets.files:
        return os.path.dirname(targets.files[0])
    return listed[0].dir if listed else ""


def _build_argv(
    toolchain: GoToolchain,
    targets: Targets,
    packages: Sequence[ListedPackage],
    *,
    tests: bool,
    outdir: str,
) -> list[str]:
    names = list(targets.files) if targets.files else [p.import_path for p in packages]
    if tests:
        # One test binary per package into a private directory (deleted afterwards):
        # go test -c compiles the package with its _test.go files, scoped flags and all.
        return [toolchain.path, "test", "-c", "-o", outdir + os.sep, GCFLAGS, *names]
    return [toolchain.path, "build", "-o", os.devnull, GCFLAGS, *names]


def _stream_build(
    argv: Sequence[str],
    cwd: str,
    states: dict[str, _PackageState],
    failures: dict[str, list[str]],
    preamble: list[str],
) -> int:
    """Run the build and feed each line to the parsers of the package it belongs to."""
    current: _PackageState | None = None
    sink: list[str] | None = preamble
    with StreamedProcess(argv, timeout=BUILD_TIMEOUT, cwd=cwd) as process:
        for line in process.lines():
            header = _HEADER.match(line)
            if header is not None:
                path = header.group("path").removesuffix("_test")
                current = states.get(path)
                if current is None:
                    sink = failures.setdefault(path, [])
                else:
                    current.seen = True
                    sink = None
                continue
            if current is None:
                if sink is not None and line.strip():
                    sink.append(line)
                continue
            if POS_LINE_RE.match(line):
                current.diagnostics.extend(current.escape.feed(line))
            else:
                current.asm.feed(line)
        return process.returncode


def _resolve_foreign_types(
    toolchain: GoToolchain, states: dict[str, _PackageState], cwd: str
) -> dict[str, TypeInfo]:
    """Types every target's listing dumped, plus sizes of the others from `typesizes`."""
    known: dict[str, TypeInfo] = {}
    for state in states.values():
        known.update(state.asm.types)
    missing = {name for state in states.values() for name in _sized_types(state)} - set(known)
    if missing:
        from escape_lens.toolchain.typesizes import type_sizes

        known.update(type_sizes(toolchain, sorted(missing), cwd))
    return known


def _sized_types(state: _PackageState) -> set[str]:
    """Types the package's calls need sizes for: passed ones, and map/chan components."""
    names = state.asm.type_refs()
    return names | {part for name in names for part in component_types(name)}


def _package_output(
    listed: ListedPackage,
    state: _PackageState | None,
    errors: dict[str, str],
    types: dict[str, TypeInfo],
) -> PackageOutput:
    if listed.error is not None:
        return PackageOutput(listed.import_path, listed.dir, error=listed.error)
    if state is None:  # --tests and the package has no test files
        return PackageOutput(listed.import_path, listed.dir, error="no test files")
    error = errors.get(listed.import_path)
    if error is not None:
        return PackageOutput(listed.import_path, listed.dir, error=error)
    escape = state.escape
    spans, calls = state.asm.finish(escape.decls, escape.inline_calls, types)
    diagnostics = [*state.diagnostics, *escape.finish()]
    prefix = _symbol_prefix(listed)
    diagnostics = [_with_function(d, spans, prefix) for d in diagnostics]
    return PackageOutput(
        import_path=listed.import_path,
        dir=listed.dir,
        diagnostics=tuple(sorted(diagnostics, key=_diagnostic_key)),
        calls=tuple(sorted(calls, key=lambda c: (c.pos, c.function, c.entry))),
        functions=tuple(sorted(spans, key=lambda f: (f.file, f.first_line, f.name))),
        types=tuple(sorted(_package_types(state, types).values(), key=lambda t: t.name)),
    )


def _package_types(state: _PackageState, known: dict[str, TypeInfo]) -> dict[str, TypeInfo]:
    """The listing's own descriptors plus every other type its calls were sized from."""
    types = dict(state.asm.types)
    for name in _sized_types(state):
        if name in known:
            types.setdefault(name, known[name])
    return types


def _compile_errors(
    states: dict[str, _PackageState],
    failures: dict[str, list[str]],
    preamble: Sequence[str],
    returncode: int,
) -> dict[str, str]:
    """The compiler's message for each target package that did not compile.

    A package that failed prints its errors under its own header; a package that was not
    compiled because an import failed prints nothing, so it is matched to the failed
    dependency (a target or not) through go list's Deps.
    """
    errors: dict[str, str] = {}
    if returncode == 0:
        return errors
    for path, state in states.items():
        if state.seen and not state.asm.text_symbols and state.escape.other:
            errors[path] = "\n".join(state.escape.other)
    failed = {path: lines[0] for path, lines in failures.items() if lines}
    failed.update({path: message.splitlines()[0] for path, message in errors.items()})
    for path, state in states.items():
        if path in errors or state.asm.text_symbols:
            continue
        dep = next((d for d in state.listed.deps if d in failed), None)
        if dep is not None:
            errors[path] = f"not compiled: dependency {dep} failed: {failed[dep]}"
        elif not state.seen and preamble:
            errors[path] = "\n".join(preamble)
    return errors


def _with_function(
    diagnostic: EscapeDiagnostic, spans: Sequence[FunctionSpan], prefix: str
) -> EscapeDiagnostic:
    """Qualify the compiler's short function name, or find the function by position."""
    if diagnostic.function:
        return replace(diagnostic, function=f"{prefix}.{diagnostic.function}")
    best: FunctionSpan | None = None
    for span in spans:
        if (
            span.file == diagnostic.pos.file
            and span.first_line <= diagnostic.pos.line <= span.last_line
            and (
                best is None or span.last_line - span.first_line < best.last_line - best.first_line
            )
        ):
            best = span
    return replace(diagnostic, function=best.name) if best is not None else diagnostic


def _diagnostic_key(d: EscapeDiagnostic) -> tuple[object, ...]:
    return (d.pos, d.kind, d.subject, d.message)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def iter_build_lines(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(package, line) for a captured `go build` output: the routing `compile_targets` does."""
    package = ""
    for line in lines:
        header = _HEADER.match(line)
        if header is not None:
            package = header.group("path")
            continue
        yield package, line
