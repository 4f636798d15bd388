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

import os
import re
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from escape_lens.errors import TargetError, ToolchainError
from escape_lens.parsers.gobuild import BuildParser, ListedPackage
from escape_lens.parsers.inltree import FLAG as INLINE_TABLES_FLAG
from escape_lens.parsers.positions import Positions
from escape_lens.records import CompileOutput, GoToolchain, TypeInfo
from escape_lens.toolchain.golist import iter_json_objects
from escape_lens.toolchain.process import run
from escape_lens.toolchain.stream import StreamedProcess
from escape_lens.toolchain.targets import Targets, check_targets, find_go_mod
from escape_lens.toolchain.typesizes import export_files, type_sizes

LIST_TIMEOUT = 300.0
BUILD_TIMEOUT = 3600.0
GCFLAGS = f"-gcflags=-m=2 -S {INLINE_TABLES_FLAG}"
_LIST_FIELDS = "ImportPath,Dir,Name,Error,DepsErrors,Module,Deps,Imports,Standard,TestGoFiles"


def compile_targets(
    toolchain: GoToolchain,
    targets: Sequence[str],
    *,
    tests: bool = False,
    cwd: str | None = None,
) -> CompileOutput:
    """Build `targets` once with escape diagnostics and assembly; parse per package.

    Raises TargetError (bad targets) or ToolchainError (go failed to run or timed out);
    a package that does not compile is a PackageOutput with `error`, not an exception.
    """
    workdir = os.path.abspath(cwd or os.getcwd())
    checked = check_targets(targets, workdir)
    listed = list_packages(toolchain, checked, workdir)
    root = _root(listed, checked, toolchain)
    parser = BuildParser(listed, Positions(workdir, root), tests=tests)
    command: tuple[str, ...] = ()
    returncode = 0
    prefetch: Future[dict[str, str]] | None = None
    exports: dict[str, str] = {}
    if parser.states:
        with tempfile.TemporaryDirectory(prefix="escape-lens-build-") as tmp:
            buildable = [p for p in listed if p.error is None]
            command = tuple(_build_argv(toolchain, checked, buildable, tests=tests, outdir=tmp))
            with (
                StreamedProcess(command, timeout=BUILD_TIMEOUT, cwd=workdir) as process,
                ThreadPoolExecutor(max_workers=1) as pool,
            ):
                for batch in process.batches():
                    parser.feed_all(batch)
                    if prefetch is None and parser.started:
                        prefetch = pool.submit(_imported_exports, toolchain, buildable, workdir)
                returncode = process.returncode
                exports = prefetch.result() if prefetch is not None else {}
    missing = parser.sized_types() - set(parser.listing_types())
    foreign = _foreign_sizes(toolchain, sorted(missing), workdir, exports) if missing else {}
    outputs = parser.outputs(listed, returncode, foreign)
    return CompileOutput(toolchain=toolchain, root=root, packages=tuple(outputs), command=command)


def _imported_exports(
    toolchain: GoToolchain, packages: Sequence[ListedPackage], cwd: str
) -> dict[str, str]:
    """Export data of the targets' imports, listed while the build output is parsed.

    Types from other packages mostly come from direct imports, so listing them early
    hides most of `go list -export`'s time behind the parsing. It starts only once the
    first target's output arrives: by then the go command has built (and cached) that
    target's imports, so this never compiles anything the build would compile too.
    """
    # Targets are left out: listing their export data would compile them again without
    # our flags, and their types are in their own listings anyway.
    targets = {p.import_path for p in packages}
    imports = sorted(
        {i for p in packages for i in p.imports if i not in targets and i not in ("C", "unsafe")}
    )
    try:
        return export_files(toolchain, imports, cwd) if imports else {}
    except ToolchainError:
        return {}


def _foreign_sizes(
    toolchain: GoToolchain, names: list[str], cwd: str, exports: dict[str, str]
) -> dict[str, TypeInfo]:
    """Sizes from the helper; if it cannot run, those types stay unsized (never guessed)."""
    try:
        return type_sizes(toolchain, names, cwd, exports)
    except ToolchainError as exc:
        print(f"escape-lens: warning: types of other packages left unsized: {exc}", file=sys.stderr)
        return {}


def list_packages(toolchain: GoToolchain, targets: Targets, cwd: str) -> list[ListedPackage]:
    """The target packages as `go list -e` resolves them; TargetError if none match."""
    args = list(targets.files or targets.patterns)
    argv = [toolchain.path, "list", "-e", f"-json={_LIST_FIELDS}", *args]
    result = run(argv, timeout=LIST_TIMEOUT, cwd=cwd, check=False)
    packages = [_listed(raw) for raw in iter_json_objects(result.stdout)]
    nothing = re.search(r'"[^"]*" matched no packages', result.stderr)
    if nothing is not None:
        raise TargetError(nothing.group(0))
    if not packages and result.returncode != 0:
        detail = _last_line(result.stderr) or "no packages"
        raise TargetError(f"{' '.join(args)}: {detail.removeprefix('go: ')}")
    for package in packages:
        if package.error and not package.dir:
            raise TargetError(f"{package.import_path}: {_first_line(package.error)}")
    return packages


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
        has_tests=bool(strings("TestGoFiles")),
        imports=strings("Imports"),
    )


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


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
