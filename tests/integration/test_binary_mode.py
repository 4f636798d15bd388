"""Binary mode on real Go binaries, built here with go1.21.13, go1.24.11 and go1.27.3.

Every expectation is either read from the fixture source (line numbers are found by
their text, not written down) or checked against an independent reader: `go tool
objdump` (file:line and callee of each CALL) and `go version -m` (build info).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from escape_lens import model
from escape_lens.analyze import analyze_targets
from escape_lens.binary.disasm import Disassembler
from escape_lens.binary.entries import entry_spec
from escape_lens.binary.program import FIXED_BOXINGS, GoProgram
from escape_lens.binary_report import analyze_binary
from escape_lens.errors import UsageError
from escape_lens.records import GoToolchain, Report, Site
from escape_lens.toolchain import read_toolchain, run
from escape_lens.toolchain.link import build_binary
from tests.conftest import FIXTURES, fetch_toolchain

VERSIONS = ("1.21.13", "1.24.11", "1.27.3")
BINFIX = FIXTURES / "binaries"
QUICKSTART = FIXTURES / "quickstart" / "main.go"


@dataclass(frozen=True)
class Built:
    toolchain: GoToolchain
    fixture: Path
    quickstart: Path
    fixture_stripped: Path
    quickstart_stripped: Path


def _line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


@pytest.fixture(scope="session")
def toolchains(pinned_go: Path) -> dict[str, GoToolchain]:
    found = {}
    for version in VERSIONS:
        go = pinned_go if version == "1.27.3" else fetch_toolchain(version)
        found[version] = read_toolchain(go)
    assert str(found["1.27.3"].version) == "go1.27.3"
    return found


@pytest.fixture(scope="session")
def built(
    toolchains: dict[str, GoToolchain], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Built]:
    result = {}
    for version, toolchain in toolchains.items():
        out = tmp_path_factory.mktemp(f"bin{version}")
        paths = {}
        for strip in (False, True):
            suffix = "-s" if strip else ""
            paths[f"fixture{suffix}"] = build_binary(
                toolchain, ["."], out / f"fix{suffix}", strip=strip, cwd=str(BINFIX)
            )
            paths[f"quickstart{suffix}"] = build_binary(
                toolchain, [str(QUICKSTART)], out / f"qs{suffix}", strip=strip, cwd=str(out)
            )
        result[version] = Built(
            toolchain,
            paths["fixture"],
            paths["quickstart"],
            paths["fixture-s"],
            paths["quickstart-s"],
        )
    return result


@pytest.fixture(scope="session")
def reports(built: dict[str, Built]) -> dict[tuple[str, str, bool], Report]:
    found = {}
    for version, b in built.items():
        found[version, "fixture", False] = analyze_binary(b.fixture)
        found[version, "fixture", True] = analyze_binary(b.fixture_stripped)
        found[version, "quickstart", False] = analyze_binary(b.quickstart)
        found[version, "quickstart", True] = analyze_binary(b.quickstart_stripped)
    return found


def _rules(report: Report) -> model.AllocRules:
    return model.rules_for(report.toolchain.version, report.toolchain.goexperiment)


def _sites(report: Report, function: str) -> list[Site]:
    return [s for s in report.sites if s.function == function]


@pytest.mark.parametrize("stripped", [False, True], ids=["plain", "stripped"])
@pytest.mark.parametrize("version", VERSIONS)
def test_quickstart_small_struct(
    reports: dict[tuple[str, str, bool], Report], version: str, stripped: bool
) -> None:
    report = reports[version, "quickstart", stripped]
    assert str(report.toolchain.version) == f"go{version}"
    assert report.origin == "binary"
    (site,) = _sites(report, "newSmallStruct")
    assert site.origin == "binary"
    assert (site.pos.file, site.pos.line) == ("main.go", _line_of(QUICKSTART, "&smallStruct{}"))
    assert site.pos.line == 14
    assert site.type is not None
    assert (site.type.name, site.type.size, site.type.ptrbytes) == ("main.smallStruct", 32, 0)
    rules = _rules(report)
    assert site.entry == (model.specialized_entry(32, False, rules) or "newobject")
    assert site.prediction is not None
    assert (site.prediction.size_class, site.prediction.class_bytes) == (4, 32)
    assert site.prediction.span_class == 9


@pytest.mark.parametrize("stripped", [False, True], ids=["plain", "stripped"])
@pytest.mark.parametrize("version", VERSIONS)
def test_inlined_allocation_is_attributed_to_the_caller(
    reports: dict[tuple[str, str, bool], Report], version: str, stripped: bool
) -> None:
    report = reports[version, "fixture", stripped]
    inlined = [s for s in report.sites if s.inlined_from is not None]
    assert len(inlined) == 1
    (site,) = inlined
    assert site.function == "main"
    assert site.package == "example.com/binfix"
    assert (site.pos.file, site.pos.line) == (
        "main.go",
        _line_of(BINFIX / "main.go", "keptRect = shapes.NewRect"),
    )
    shapes = BINFIX / "shapes" / "shapes.go"
    assert site.inlined_from == type(site.pos)("shapes/shapes.go", _line_of(shapes, "&Rect{"))
    assert site.type is not None
    assert (site.type.name, site.type.size, site.type.ptrbytes) == ("shapes.Rect", 24, 0)
    assert site.prediction is not None
    assert site.prediction.class_bytes == 24


@pytest.mark.parametrize("version", VERSIONS)
def test_makeslice_with_constant_length(
    reports: dict[tuple[str, str, bool], Report], version: str
) -> None:
    report = reports[version, "fixture", False]
    (site,) = _sites(report, "constSlice")
    assert site.entry == "makeslice"
    assert site.construct == "make-slice"
    assert site.count == 10
    assert site.type is not None
    assert (site.type.name, site.type.size) == ("int64", 8)
    assert site.prediction is not None
    assert site.prediction.requested_bytes == 80
    assert site.prediction.class_bytes == model.roundupsize(80, True, _rules(report))
    (variable,) = _sites(report, "varSlice")
    assert variable.count is None
    assert variable.prediction is not None
    assert variable.prediction.path == "dynamic"


@pytest.mark.parametrize("version", VERSIONS)
def test_constants_and_descriptors_of_other_constructs(
    reports: dict[tuple[str, str, bool], Report], version: str
) -> None:
    report = reports[version, "fixture", False]
    (chan,) = _sites(report, "pointerChan")
    assert (chan.entry, chan.count) == ("makechan", 4)
    assert chan.call is not None
    assert chan.call.type is not None
    assert chan.call.type.name == "chan *main.point"
    (hinted,) = _sites(report, "hintedMap")
    assert (hinted.entry, hinted.count) == ("makemap", 100)
    (boxed,) = _sites(report, "box")
    assert boxed.type is not None
    assert (boxed.entry, boxed.type.name, boxed.type.size) == ("convTnoptr", "[3]int64", 24)
    (buffer,) = _sites(report, "newBuffer")
    assert buffer.type is not None
    assert (buffer.type.name, buffer.type.size, buffer.type.ptrbytes) == ("main.buffer", 200, 0)
    point = _sites(report, "newPoint")[0]
    assert point.type is not None
    assert (point.type.name, point.type.size, point.type.ptrbytes) == ("main.point", 24, 24)
    closure = [s for s in _sites(report, "counter") if s.construct == "closure"]
    assert len(closure) == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_stripped_binary_gives_the_same_sites(
    reports: dict[tuple[str, str, bool], Report], version: str
) -> None:
    for program in ("fixture", "quickstart"):
        plain = reports[version, program, False]
        stripped = reports[version, program, True]
        # Addresses move when the symbol table goes, so the disassembly text differs.
        assert _without_asm(plain) == _without_asm(stripped)
        assert plain.packages == stripped.packages


def _without_asm(report: Report) -> list[Site]:
    return [
        replace(s, call=replace(s.call, asm=()) if s.call is not None else None)
        for s in report.sites
    ]


_OBJDUMP_CALL = re.compile(r"^\s+(\S+):(\d+)\s+0x([0-9a-f]+)\s+\S+\s+CALL (runtime\.\w+)\(SB\)")


@pytest.mark.parametrize("version", VERSIONS)
def test_calls_match_go_tool_objdump(built: dict[str, Built], version: str) -> None:
    """Every allocation CALL objdump shows in the main package, at the same pc, file:line."""
    b = built[version]
    dump = run(
        [b.toolchain.path, "tool", "objdump", "-s", r"^main\.", str(b.fixture)], timeout=300
    ).stdout
    expected = set()
    for line in dump.splitlines():
        match = _OBJDUMP_CALL.match(line)
        if match and entry_spec(match.group(4)) is not None:
            file, number, pc, callee = match.groups()
            expected.add((int(pc, 16), file, int(number), callee.removeprefix("runtime.")))
    assert len(expected) >= 10
    program = GoProgram.load(b.fixture)
    found = set()
    for function in program.iter_alloc_calls(program.iter_functions(["main"])):
        for call in function.calls:
            pc = int(call.asm[-1].split(":")[0], 16)
            found.add((pc, call.pos.file.rsplit("/", 1)[-1], call.pos.line, call.entry))
    assert found == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_moduledata_found_by_scan_matches_the_symbol_table(
    built: dict[str, Built], version: str
) -> None:
    """Stripped binaries rely on the scan; with symbols it must find what they name."""
    program = GoProgram.load(built[version].fixture)
    wanted = {"runtime.firstmoduledata", "runtime.types", "runtime.etypes", "runtime.text"}
    wanted.add("go:func.*")
    symbols = {name: value for name, value, _ in program.elf.iter_symbols() if name in wanted}
    assert symbols == {
        "runtime.firstmoduledata": program.module.addr,
        "runtime.types": program.module.types,
        "runtime.etypes": program.module.etypes,
        "runtime.text": program.module.text,
        "go:func.*": program.module.gofunc,
    }
    stripped = GoProgram.load(built[version].fixture_stripped)
    assert list(stripped.elf.iter_symbols()) == []
    assert stripped.module.types == stripped.types.types


@pytest.mark.parametrize("version", VERSIONS)
def test_build_info_matches_go_version_m(built: dict[str, Built], version: str) -> None:
    b = built[version]
    text = run([b.toolchain.path, "version", "-m", str(b.fixture_stripped)], timeout=60).stdout
    program = GoProgram.load(b.fixture_stripped)
    assert text.splitlines()[0].endswith(program.build.go_version)
    assert f"\tpath\t{program.build.path}\n" in text
    assert f"\tmod\t{program.build.module}\t" in text
    for key, value in program.build.settings:
        assert f"\tbuild\t{key}=" in text
        assert value in text
    assert program.build.module == "example.com/binfix"
    assert program.build.setting("GOARCH") == "amd64"


def test_package_patterns(built: dict[str, Built]) -> None:
    b = built["1.27.3"]
    runtime = analyze_binary(b.fixture, ["runtime"])
    assert runtime.packages == ("runtime",)
    assert any(s.function == "malg" and s.entry == "newobject" for s in runtime.sites)
    everything = analyze_binary(b.fixture, ["..."])
    assert set(runtime.packages) < set(everything.packages)
    assert len(everything.sites) > len(runtime.sites)
    with pytest.raises(UsageError, match=r"no function of the binary belongs to nosuch/\.\.\."):
        analyze_binary(b.fixture, ["nosuch/..."])
    for blank in ("", " "):
        with pytest.raises(UsageError, match="an empty package pattern names no package"):
            analyze_binary(b.fixture, [blank])
    by_module = analyze_binary(b.fixture, ["example.com/binfix/..."])
    default = analyze_binary(b.fixture)
    assert _without_asm(by_module) == _without_asm(default)


@pytest.mark.parametrize("flags", [["-buildmode=pie"], ["-trimpath"]], ids=["pie", "trimpath"])
@pytest.mark.parametrize("version", ["1.21.13", "1.27.3"])
def test_pie_and_trimpath_give_the_same_sites(
    built: dict[str, Built],
    reports: dict[tuple[str, str, bool], Report],
    version: str,
    flags: list[str],
    tmp_path: Path,
) -> None:
    """PIE leaves moduledata's pointers to load-time relocations (and go1.21 renames the
    pclntab section); -trimpath makes file names module-relative."""
    b = built[version]
    path = build_binary(b.toolchain, ["."], tmp_path / "fix", cwd=str(BINFIX), flags=flags)
    assert _without_asm(analyze_binary(path)) == _without_asm(reports[version, "fixture", False])


def test_goexperiment_from_the_build_info_drives_the_model(
    built: dict[str, Built], tmp_path: Path
) -> None:
    """go1.27 with size-specialized mallocs turned off calls newobject for `&smallStruct{}`:
    the report must carry the experiment and the model must agree with that compiler."""
    b = built["1.27.3"]
    path = build_binary(
        b.toolchain,
        [str(QUICKSTART)],
        tmp_path / "qs",
        cwd=str(tmp_path),
        env={"GOEXPERIMENT": "nosizespecializedmalloc"},
    )
    report = analyze_binary(path)
    assert report.toolchain.goexperiment == ("nosizespecializedmalloc",)
    (site,) = _sites(report, "newSmallStruct")
    assert site.entry == "newobject"
    assert model.specialized_entry(32, False, _rules(report)) is None
    default = _sites(analyze_binary(b.quickstart), "newSmallStruct")[0]
    assert default.entry == model.specialized_entry(32, False, _rules(analyze_binary(b.quickstart)))
    assert default.entry != "newobject"


@pytest.mark.parametrize("stripped", [False, True], ids=["plain", "stripped"])
@pytest.mark.parametrize("version", VERSIONS)
def test_the_types_fixed_conversions_box_are_read_after_the_call(
    reports: dict[tuple[str, str, bool], Report],
    toolchains: dict[str, GoToolchain],
    version: str,
    stripped: bool,
) -> None:
    """`fmt.Println(p.x, len(b.data), ...)`: convT64 boxes ints (lens, caps, f()) and
    int64s (p.x, Area()), convTstring a string. Which type is the interface's type word
    the code loads after each call, read as source mode reads it from the listing
    (binary/goasm.py spells the machine code as one), stripped or not: the same types."""
    line = _line_of(BINFIX / "main.go", "fmt.Println(p.x")

    def boxed(sites: Iterable[Site]) -> list[str]:
        return sorted(
            s.type.name if s.type else "?"
            for s in sites
            if s.function == "main" and s.pos.line == line and s.entry in FIXED_BOXINGS
        )

    source = analyze_targets(["."], go=toolchains[version].path, cwd=str(BINFIX))
    from_source = boxed(source.sites)
    assert len(from_source) >= 8
    assert "?" not in from_source
    assert {"int", "int64", "string"} == set(from_source)
    report = reports[version, "fixture", stripped]
    assert boxed(report.sites) == from_source


def test_a_type_word_is_a_descriptors_start(built: dict[str, Built]) -> None:
    """The types' range holds every descriptor's fields too: an address inside one (an
    access to its fields) is no type word, only its start is."""
    program = GoProgram.load(built["1.27.3"].fixture)
    disasm = Disassembler(program.goarch, program.entry_points)
    text = program.elf.section(".text")
    assert text is not None
    code = program.elf.section_bytes(text)
    starts = set()
    for func in program.iter_functions(["main"]):
        chunk = code[func.entry - text.addr : func.end - text.addr].tobytes()
        starts |= {c.type_addr for c in disasm.iter_calls(chunk, func.entry) if c.type_addr}
    assert starts
    for start in starts:
        assert program._type_word(start) == start
        for field in (8, 16, 24, 40):  # PtrBytes, Hash, Equal, Str: inside it
            assert program.types.is_type(start + field)
            assert program._type_word(start + field) is None


def test_arm64_binary_gives_the_same_sites_as_amd64(
    built: dict[str, Built], tmp_path: Path
) -> None:
    b = built["1.27.3"]
    arm = build_binary(b.toolchain, ["."], tmp_path / "fix-arm64", goarch="arm64", cwd=str(BINFIX))
    arm_report = analyze_binary(arm)
    amd_report = analyze_binary(b.fixture)
    assert arm_report.toolchain.goarch == "arm64"

    def summary(report: Report) -> list[tuple[object, ...]]:
        return [(s.pos, s.function, s.entry, s.type, s.count, s.inlined_from) for s in report.sites]

    assert summary(arm_report) == summary(amd_report)


def test_cli_binary_json(built: dict[str, Built], capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from escape_lens.cli import main

    assert main(["analyze", "--binary", str(built["1.27.3"].quickstart), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (site,) = [s for s in data["sites"] if s["line"] == 14]
    assert (site["type"], site["size"]) == ("main.smallStruct", 32)


def test_truncated_copy_is_a_clear_error(
    built: dict[str, Built], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from escape_lens.cli import main

    source = built["1.27.3"].fixture.read_bytes()
    for fraction in (0.01, 0.3, 0.7, 0.95):
        cut = tmp_path / f"cut{fraction}"
        cut.write_bytes(source[: int(len(source) * fraction)])
        assert main(["analyze", "--binary", str(cut)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert str(cut) in err
        assert "Traceback" not in err


def test_non_go_elf_text_file_directory_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from escape_lens.cli import main

    ls = shutil.which("ls")
    assert ls is not None
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    cases = {
        ls: "not a Go program",
        str(text): "not an ELF binary",
        str(tmp_path): "is a directory",
        str(tmp_path / "missing"): "cannot read",
    }
    for path, message in cases.items():
        assert main(["analyze", "--binary", path]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert message in err


def test_a_test_binary_includes_the_root_packages_external_tests(
    pinned_go: Path, tmp_path: Path
) -> None:
    # `go test -c` links the root package's external tests as `m_test`, outside `m/...`:
    # the main module's packages include them by default, as its subpackages' `m/x_test`.
    (tmp_path / "go.mod").write_text("module example.com/tb\n\ngo 1.21\n")
    (tmp_path / "tb.go").write_text(
        "package tb\n\ntype T struct{ a, b int }\n\n//go:noinline\nfunc New() *T { return &T{} }\n"
    )
    (tmp_path / "tb_ext_test.go").write_text(
        'package tb_test\n\nimport (\n\t"testing"\n\n\t"example.com/tb"\n)\n\n'
        "type U struct{ a, b, c int }\n\nvar (\n\tsink  *U\n\tsinkT *tb.T\n)\n\n"
        "//go:noinline\nfunc make3() *U { return &U{} }\n\n"
        "func TestU(t *testing.T) { sink, sinkT = make3(), tb.New() }\n"
    )
    binary = tmp_path / "tb.test"
    run([str(pinned_go), "test", "-c", "-o", str(binary), "."], cwd=str(tmp_path), timeout=300)
    report = analyze_binary(binary)
    assert {"example.com/tb", "example.com/tb_test"} <= set(report.packages)
    (site,) = [s for s in report.sites if s.function == "make3"]
    assert site.package == "example.com/tb_test"
    assert site.type is not None
    assert (site.type.size, site.entry) == (24, "mallocgcSmallNoScanSC3")
    (other,) = [s for s in report.sites if s.function == "New"]
    assert other.package == "example.com/tb"
