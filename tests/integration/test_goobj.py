"""The object file's inlining trees (parsers/goobj.py) against the compiler's own tables.

Each toolchain of the matrix (go1.21.13 ... go1.26.6 from PyPI, go1.27.3 pinned) compiles
fixtures/constructs with `go list -export -gcflags='-S -d=pctab=pctoinline'`; the pinned
one also net/http (large, go1.27 inlined closures whose listing names carry `#hash#`)
and syscall (ABI0 wrappers that share their function's name). For every function of the
`-S` listing and every pc of its instructions, `InlineTrees.call_site` on the package's
archive must name the same root call, file and line, as `InlineTables` (parsers/
inltree.py) reads from the pctab lines (the object has no columns), and None where the
table says -1. The build cache is the user's (deps are shared with the other tests); a
replay of a standard package's listing may name another installation of the same Go
(parsers/positions.py), so a `$GOROOT` name also matches a listing path with the same
`/src/...` tail.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from escape_lens.errors import ObjectFormatError
from escape_lens.parsers.goobj import ABI0, InlineTrees, listing_file, text_abi
from escape_lens.parsers.inltree import FunctionRef, InlineTables
from escape_lens.parsers.positions import Positions
from escape_lens.toolchain import read_toolchain, run
from escape_lens.toolchain.golist import iter_json_objects
from tests.conftest import FIXTURES, fetch_toolchain

pytestmark = pytest.mark.slow

CONSTRUCTS = FIXTURES / "constructs"
GCFLAGS = "-gcflags=-S -d=pctab=pctoinline"
_STEXT = re.compile(r"^(?P<name>\S.*?) STEXT\b.*? size=(?P<size>\d+) ")
_INSTRUCTION = re.compile(
    r"^\t0x[0-9a-f]{4,} (?P<pc>\d{5,}) \((?P<where>[^\t]*)\)\t(?P<op>\S+)(?:\t(?P<args>.*))?$"
)


@dataclass
class _Listed:
    name: str
    abi: str
    size: int
    where: str
    pcs: list[int] = field(default_factory=list)


@dataclass
class _Checked:
    functions: int = 0
    pcs: int = 0
    inlined: int = 0
    hashed_names: int = 0
    abi0: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Build:
    exports: dict[str, str]
    blocks: dict[str, list[str]]
    goroot: str
    cwd: str


def _build(go: Path, patterns: list[str], cwd: Path) -> _Build:
    result = run(
        [str(go), "list", "-e", "-export", "-json=ImportPath,Export", GCFLAGS, *patterns],
        cwd=str(cwd),
        env={"GOFLAGS": ""},
        timeout=900,
    )
    exports = {
        str(p["ImportPath"]): str(p["Export"])
        for p in iter_json_objects(result.stdout)
        if p.get("Export")
    }
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in result.stderr.splitlines():
        if line.startswith("# "):
            current = blocks.setdefault(line[2:].split(" ", 1)[0], [])
        elif current is not None:
            current.append(line)
    return _Build(exports, blocks, read_toolchain(go).goroot, str(cwd))


def _listing(lines: list[str], tables: InlineTables) -> list[_Listed]:
    """Feed the pctab lines to `tables`; the listing's functions with their pcs."""
    functions: list[_Listed] = []
    size = -1
    for line in lines:
        if tables.feed(line):
            continue
        header = _STEXT.match(line)
        if header is not None:
            size = int(header.group("size"))
            continue
        instruction = _INSTRUCTION.match(line)
        if instruction is None:
            continue
        if instruction.group("op") == "TEXT":
            args = instruction.group("args")
            name, _, rest = args.rpartition("(SB)")
            parts = rest.split(", ")
            flags = parts[1] if len(parts) == 3 else ""
            functions.append(_Listed(name, text_abi(flags), size, instruction.group("where")))
        if functions:
            functions[-1].pcs.append(int(instruction.group("pc")))
    return functions


def _same_file(listed: str, name: str, goroot: str) -> bool:
    if listing_file(name, goroot) == listed:
        return True
    # A cache replay naming another installation of the same Go (module docstring).
    return name.startswith("$GOROOT/") and listed.endswith(name[len("$GOROOT") :])


def _check(build: _Build, package: str, checked: _Checked) -> None:
    tables = InlineTables(Positions(build.cwd, ""), package)
    trees = InlineTrees.from_archive(build.exports[package])
    for function in _listing(build.blocks[package], tables):
        checked.functions += 1
        checked.hashed_names += "#" in function.name
        checked.abi0 += function.abi == ABI0
        name, abi, size = function.name, function.abi, function.size
        if not tables.has(FunctionRef(name, function.where)):
            checked.problems.append(f"{package} {name}: no pctab table")
            continue
        if not trees.has(name, abi, size):
            checked.problems.append(f"{package} {name} {abi} size={size}: not in the object")
            continue
        for pc in function.pcs:
            checked.pcs += 1
            expected = tables.call_pos(FunctionRef(name, function.where), pc)
            got = trees.call_site(name, abi, pc, size)
            if expected is None and got is None:
                continue
            checked.inlined += 1
            if (
                expected is None
                or got is None
                or got[1] != expected.line
                or not _same_file(expected.file, got[0], build.goroot)
            ):
                checked.problems.append(f"{package} {name} pc={pc}: pctab {expected}, obj {got}")


def _check_all(build: _Build, packages: list[str]) -> _Checked:
    checked = _Checked()
    for package in packages:
        assert package in build.blocks, f"no compiler output for {package}"
        _check(build, package, checked)
    assert not checked.problems, "\n".join(checked.problems[:20])
    return checked


@pytest.fixture(scope="module")
def pinned_build(pinned_go: Path) -> _Build:
    return _build(pinned_go, ["./...", "net/http", "syscall"], CONSTRUCTS)


def _constructs(build: _Build) -> list[str]:
    return sorted(p for p in build.exports if p.startswith("example.com/constructs/"))


def test_constructs_pinned(pinned_build: _Build) -> None:
    checked = _check_all(pinned_build, _constructs(pinned_build))
    assert checked.functions > 50
    assert checked.inlined > 50


def test_net_http_and_abi_wrappers_pinned(pinned_build: _Build) -> None:
    checked = _check_all(pinned_build, ["net/http", "syscall"])
    assert checked.functions > 1000
    assert checked.inlined > 10000
    assert checked.hashed_names > 0  # go1.27: inlined closures, `log.Printf.func1#...#`
    assert checked.abi0 > 0  # syscall's ABI0 wrappers, named like their functions


@pytest.mark.toolchains
@pytest.mark.parametrize("version", ["1.21.13", "1.22.10", "1.24.11", "1.25.5", "1.26.6"])
def test_constructs_older_toolchains(version: str) -> None:
    build = _build(fetch_toolchain(version), ["./..."], CONSTRUCTS)
    packages = _constructs(build)
    assert len(packages) >= 15
    checked = _check_all(build, packages)
    assert checked.inlined > 40


def test_symbol_names_of_main_command_line_and_dotted_packages(
    pinned_go: Path, tmp_path: Path
) -> None:
    """`main.F` for main packages (also given as files), `command-line-arguments.F` for
    other packages given as files, `%2e` in a path's last element; methods, closures
    and generic instantiations; a call under a `//line` directive (both name the
    directive's file, made absolute, and line)."""
    (tmp_path / "go.mod").write_text("module example.com/names\n\ngo 1.21\n")
    (tmp_path / "yaml.v3").mkdir()
    (tmp_path / "yaml.v3" / "y.go").write_text(
        "package yaml\n\nfunc mk() *[4]int { return new([4]int) }\n\n"
        "func New() *[4]int { return mk() }\n"
    )
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "lib.go").write_text(
        "package lib\n\ntype T struct{ b []byte }\n\n"
        "func mk(n int) *T { return &T{b: make([]byte, n)} }\n\n"
        "func (t *T) Grow(n int) *T { return mk(n + len(t.b)) }\n\n"
        "func Use() func() *T { x := 3; return func() *T { return mk(x) } }\n\n"
        "func Stack[E any](n int) []E { return make([]E, n) }\n\n"
        "func Ints() []int { return Stack[int](4) }\n"
    )
    (tmp_path / "lined").mkdir()
    (tmp_path / "lined" / "a.go").write_text(
        "package lined\n\ntype T struct{ a, b int }\n\n"
        "func mk(n int) *T { return &T{n, n} }\n\n"
        "//line gen/tmpl.y:100\nfunc F() *T { return mk(3) }\n"
    )
    (tmp_path / "cmd").mkdir()
    (tmp_path / "cmd" / "main.go").write_text(
        'package main\n\nimport "fmt"\n\ntype P struct{ x, y int }\n\n'
        "func mk(x int) *P { return &P{x, x} }\n\n"
        "func main() { fmt.Println(mk(3)) }\n"
    )
    names: set[str] = set()
    for patterns, packages in (
        (["./..."], ["example.com/names/yaml.v3", "example.com/names/lib"]),
        (["./lined"], ["example.com/names/lined"]),
        (["cmd/main.go"], ["command-line-arguments"]),
        (["lib/lib.go"], ["command-line-arguments"]),
    ):
        build = _build(pinned_go, patterns, tmp_path)
        checked = _check_all(build, packages)
        assert checked.inlined > 0
        for package in packages:
            names.update(
                f.name
                for f in _listing(
                    build.blocks[package], InlineTables(Positions(build.cwd, ""), package)
                )
            )
    assert {
        "example.com/names/yaml%2ev3.New",
        "example.com/names/lib.(*T).Grow",
        "example.com/names/lib.Use.func1",
        "example.com/names/lib.Stack[go.shape.int]",
        "main.main",
        "command-line-arguments.(*T).Grow",
        "command-line-arguments.Stack[int]",
    } <= names


# --- malformed and foreign files ---------------------------------------------------------


def _one_line_error(path: Path) -> str:
    with pytest.raises(ObjectFormatError) as caught:
        InlineTrees.from_archive(str(path)).call_site("x.F", "ABIInternal", 0)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message


@pytest.fixture(scope="module")
def archive(pinned_build: _Build) -> bytes:
    return Path(pinned_build.exports["example.com/constructs/methods"]).read_bytes()


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9, 0.999])
def test_truncated_archive(archive: bytes, tmp_path: Path, keep: float) -> None:
    path = tmp_path / "truncated.a"
    path.write_bytes(archive[: int(len(archive) * keep)])
    assert "truncated" in _one_line_error(path)


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "text.a"
    path.write_text("package main\n")
    assert "not a Go package archive" in _one_line_error(path)


def test_elf_binary(pinned_go: Path, tmp_path: Path) -> None:
    path = tmp_path / "go"
    shutil.copyfile(pinned_go, path)
    assert "not a Go package archive" in _one_line_error(path)


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read" in _one_line_error(tmp_path / "missing.a")


def test_corrupt_block_table(archive: bytes, tmp_path: Path) -> None:
    start = archive.index(b"\n!\n\x00go120ld") + 3
    # The File block's offset (third of the header's offsets) beyond the object's end.
    offset = start + 8 + 8 + 4 + 2 * 4
    path = tmp_path / "corrupt.a"
    path.write_bytes(archive[:offset] + b"\xff\xff\xff\x7f" + archive[offset + 4 :])
    assert "corrupt Go object" in _one_line_error(path)
