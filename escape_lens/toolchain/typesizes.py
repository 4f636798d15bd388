"""Sizes of types whose descriptors are not in the targets' `-S` listings.

The compiler dumps the descriptor of every type a package defines (and of the unnamed
and instantiated types it uses) in that package's listing, so a type defined in a target
package is always sized from its own descriptor. A type defined in a package that is not
a target (`bytes.Buffer`, `int`, `sync.Mutex`) has its descriptor only in that package's
object file. Its size comes from the same facts the compiler used: the package's export
data (named by the build's `go list -export -deps`, in the build cache) read by
go/types with the gc layout (`types.SizesFor("gc", GOARCH)`), and pointer bytes by the
compiler's own rule (`PtrDataSize`). The helper `typesizes.go` is a standard-library-only
Go program built by the user's toolchain from the source shipped here, so it reads that
toolchain's export format and builds offline. A type it cannot resolve is left without
a size; nothing is guessed.

From go1.24 it runs with `go run`, which keeps the executable in the go build cache
under the action ID of its inputs, as it keeps every compiled package: a cache lookup
(~0.1 s) instead of a link (~0.4 s of CPU), trusting that cache no further than a link
from its archives would. A build with packages to parse starts it as the parsing starts
(`WaitingHelper`): the lookup then runs on a core the parsing leaves idle instead of
after it. Older toolchains link it into the run's temporary directory, a build not
expected to be all cached as go starts (`EarlyHelper`, overlapping go's compiles). The
request is one line of JSON on the helper's stdin, however it was started. Nothing is
ever run from escape-lens's own cache directory (docs/parsers.md).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from escape_lens.errors import UsageError
from escape_lens.gotypes import with_parts
from escape_lens.records import GoToolchain, GoVersion, TypeInfo
from escape_lens.toolchain.golist import iter_json_objects
from escape_lens.toolchain.process import failed, finish, run, running
from escape_lens.toolchain.stream import FileProcess

HELPER = Path(__file__).with_name("typesizes.go")
TIMEOUT = 600.0
# The first release whose `go run` keeps the executable in the go build cache.
_RUN_CACHES_EXECUTABLES = GoVersion(1, 24)

# `example.com/m/pkg.Name`: an import path, a dot, an identifier. The path is matched
# greedily and gives back its last `.x` only if an identifier must follow.
_QUALIFIED = re.compile(r"(?<![\w./~-])(?P<path>[\w~-]+(?:[./][\w~-]+)*)\.(?P<ident>[A-Za-z_]\w*)")
_UNSUPPORTED = ("noalg.", "go.shape.", "go:", "struct {")  # compiler-internal spellings


def rewrite(name: str, *, written: bool = False) -> tuple[str, dict[str, str]] | None:
    """`[]net/http.Header` -> (`[]p0.Header`, {"p0": "net/http"}); None if unreadable.
    A type a person `written` (`sizeclass --type`) may spell a struct type literal."""
    if not written and any(marker in name for marker in _UNSUPPORTED):
        return None
    idents: dict[str, str] = {}
    paths: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        path = match.group("path")
        if path == "unsafe":
            return match.group(0)
        ident = paths.get(path)
        if ident is None:
            ident = f"p{len(paths)}"
            paths[path] = ident
            idents[ident] = path
        return f"{ident}.{match.group('ident')}"

    return _QUALIFIED.sub(replace, name), idents


def type_sizes(
    toolchain: GoToolchain,
    names: Sequence[str],
    exports: Mapping[str, str] | None = None,
    *,
    written: bool = False,
    early: EarlyHelper | WaitingHelper | None = None,
) -> dict[str, TypeInfo]:
    """TypeInfo for each of `names` (descriptor spelling) the helper can resolve.

    `exports` maps import paths to export data files: the build's listing names every
    dependency's (`go list -export -deps`), so a type of a package without one is
    simply left unsized. `early`: the helper this run started (or started building)
    before it knew it would need it.
    """
    requests: list[dict[str, object]] = []
    packages: set[str] = set()
    for name in names:
        rewritten = rewrite(name, written=written)
        if rewritten is None:
            continue
        expr, imports = rewritten
        requests.append({"name": name, "expr": expr, "imports": imports})
        packages.update(imports.values())
    if not requests:
        return {}
    exports = {path: exports[path] for path in sorted(packages) if exports and path in exports}
    sizes: dict[str, TypeInfo] = {}
    for line in _helper_lines(toolchain, requests, exports, early):
        found = _type_info(line.split("\t"))
        if found is not None:
            sizes[found.name] = found
    return sizes


def _helper_lines(
    toolchain: GoToolchain,
    requests: Sequence[dict[str, object]],
    exports: Mapping[str, str],
    early: EarlyHelper | WaitingHelper | None = None,
) -> list[str]:
    request = {"goarch": toolchain.goarch, "exports": exports, "types": requests}
    line = json.dumps(request).encode("utf-8") + b"\n"  # (JSON escapes any newline)
    if isinstance(early, WaitingHelper) and early.waiting:
        return early.ask(line)
    with tempfile.TemporaryDirectory(prefix="escape-lens-types-") as tmp:
        if isinstance(early, EarlyHelper):
            argv, env = [str(early.binary())], None
        elif links_each_run(toolchain):
            argv, env = [str(build_helper(toolchain, tmp))], None
        else:
            argv, env = _go_command(toolchain, "run"), _BUILD_ENV
        result = run(argv, timeout=TIMEOUT, cwd=tmp, env=env, input=line)
    return result.stdout.splitlines()


def links_each_run(toolchain: GoToolchain) -> bool:
    """Whether `toolchain` links the helper afresh for each run (before go1.24); a newer
    one runs it from the go build cache."""
    return toolchain.version < _RUN_CACHES_EXECUTABLES


def layout_of(toolchain: GoToolchain, written: str) -> TypeInfo:
    """Size and pointer bytes of a Go type as a person writes it (`struct{ a int64; b
    []byte }`, `[4]*bytes.Buffer`, packages by import path), laid out for the
    toolchain's GOARCH; UsageError naming the problem if it cannot be. Only the standard
    library's packages are looked up: they are listed in an empty directory, so nothing
    of the current module is built or read."""
    rewritten = rewrite(written, written=True)
    if rewritten is None or not written.isprintable():
        raise UsageError(f"--type {written!r}: not a Go type on one line")
    expr, imports = rewritten
    with tempfile.TemporaryDirectory(prefix="escape-lens-types-") as tmp:
        exports = _std_exports(toolchain, sorted(set(imports.values())), tmp)
    request: dict[str, object] = {"name": written, "expr": expr, "imports": imports}
    [line] = _helper_lines(toolchain, [request], exports)
    columns = line.split("\t")
    info = _type_info([written, *columns[1:]])
    if info is None:
        reason = columns[2] if len(columns) > 2 and columns[1] == "-" else "unreadable"
        raise UsageError(f"--type {written!r}: {reason}")
    return info


def _std_exports(toolchain: GoToolchain, paths: Sequence[str], directory: str) -> dict[str, str]:
    if not paths:
        return {}
    result = run(
        [toolchain.path, "list", "-e", "-export", "-json=ImportPath,Export,Error", "--", *paths],
        timeout=TIMEOUT,
        cwd=directory,
        env={"GOFLAGS": "", "GO111MODULE": "on", "GOWORK": "off"},
    )
    exports = {}
    for listed in iter_json_objects(result.stdout):
        if listed.get("Error") or not listed.get("Export"):
            raise UsageError(
                f"--type: cannot read package {listed.get('ImportPath')} (only the standard "
                "library's packages are looked up)"
            )
        exports[str(listed["ImportPath"])] = str(listed["Export"])
    return exports


def _type_info(columns: list[str]) -> TypeInfo | None:
    """One output line of the helper: name, size, ptrbytes, and for a defined map or
    channel type `map`/`chan` then its key and element as name, size, ptrbytes each."""
    if len(columns) < 3 or not (columns[1].isdigit() and columns[2].isdigit()):
        return None
    info = TypeInfo(columns[0], int(columns[1]), int(columns[2]))
    if len(columns) == 10 and columns[3] in ("map", "chan"):
        key = _type_info(columns[4:7]) if columns[3] == "map" else None
        elem = _type_info(columns[7:10])
        if elem is not None and (key is not None or columns[3] == "chan"):
            info = with_parts(info, key, elem)
    return info


def build_helper(toolchain: GoToolchain, directory: str) -> Path:
    """The helper linked by `toolchain` into `directory` (a temporary one of the run): a
    toolchain that caches no `go run` executable links it every time it is needed."""
    binary = Path(directory) / "typesizes"
    run(_build_argv(toolchain, binary), timeout=TIMEOUT, cwd=directory, env=_BUILD_ENV)
    return binary


# It runs here: built for this machine even when the targets are not.
_BUILD_ENV = {"GOFLAGS": "", "GO111MODULE": "on", "GOWORK": "off", "GOOS": "", "GOARCH": ""}


def _build_argv(toolchain: GoToolchain, binary: Path) -> list[str]:
    return _go_command(toolchain, "build", "-o", str(binary))


def _go_command(toolchain: GoToolchain, *command: str) -> list[str]:
    return [toolchain.path, *command, "--", str(HELPER)]


class EarlyHelper:
    """The helper being built, started before the run knows it will need it: a build
    whose packages are compiled afresh mostly does, and the link then overlaps the
    compiles instead of following the parsing. Built by this run into `directory` (a
    temporary one of the run), as `build_helper` builds it; a context manager that
    stops the build if it still runs when the block ends."""

    def __init__(self, toolchain: GoToolchain, directory: str) -> None:
        self._binary = Path(directory) / "typesizes"
        self._log_path = Path(directory) / "typesizes-build.log"
        self._log = open(self._log_path, "wb")  # noqa: SIM115 (closed by __exit__)
        self._argv = _build_argv(toolchain, self._binary)
        try:
            self._process = FileProcess(
                self._argv,
                stdout=self._log,
                stderr=self._log,
                timeout=TIMEOUT,
                cwd=directory,
                env=_BUILD_ENV,
            )
        except BaseException:
            self._log.close()
            raise
        self._built: Path | None = None

    def binary(self) -> Path:
        """The built helper, once the build has ended; ToolchainError if it failed."""
        if self._built is None:
            code = self._process.wait()
            if code != 0:
                raise failed(self._argv, code, self._log_path.read_text(errors="replace"))
            self._built = self._binary
        return self._built

    def __enter__(self) -> EarlyHelper:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._process.__exit__(exc_type, exc, tb)
        finally:
            self._log.close()


class WaitingHelper:
    """The helper started with `go run` before the run knows what to ask it (go1.24+),
    waiting for its request on stdin: the go command's start and cache lookup overlap
    the parsing. Asked once (`ask`); made by `waiting_helper`."""

    def __init__(self, argv: list[str], process: subprocess.Popen[bytes]) -> None:
        self.argv, self.process = argv, process
        self.waiting = True  # (once asked, a later question starts a helper of its own)

    def ask(self, request: bytes) -> list[str]:
        """The helper's lines for `request` (one line of JSON); ToolchainError if it
        failed."""
        self.waiting = False
        return finish(self.process, self.argv, timeout=TIMEOUT, input=request).stdout.splitlines()


@contextlib.contextmanager
def waiting_helper(toolchain: GoToolchain) -> Iterator[WaitingHelper]:
    """A `WaitingHelper`, stopped when the block ends if it was not asked (as go would be
    at ^C), its pipes closed. It runs outside any module of the user's."""
    argv = _go_command(toolchain, "run")
    pipe = subprocess.PIPE
    with (
        tempfile.TemporaryDirectory(prefix="escape-lens-types-") as directory,
        running(
            argv, stdin=pipe, stdout=pipe, stderr=pipe, cwd=directory, env=_BUILD_ENV
        ) as process,
    ):
        try:
            yield WaitingHelper(argv, process)
        finally:
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
