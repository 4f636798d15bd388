"""Cross-check: source mode and binary mode agree on every fixture, on three Go versions.

Every source-mode site with an allocation call must be found by binary mode with the
same type, size and size class, except in functions the linker left out of the program;
that exception is itself checked (the function really is absent from the binary's
pclntab), and so is how much was compared, so an empty comparison cannot pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.binary.program import GoProgram, package_of
from escape_lens.binary_report import analyze_binary
from escape_lens.crosscheck import build_and_cross_check, code_line
from escape_lens.gonames import short_function
from escape_lens.records import Report, Site
from escape_lens.toolchain.link import build_linking_all
from tests.conftest import FIXTURES, fetch_toolchain

VERSIONS = ("1.21.13", "1.24.11", "1.27.3")

# fixture directory, targets, the least number of source sites the comparison must cover
CASES = {
    "quickstart": (FIXTURES / "quickstart", ["main.go"], 1),
    "binaries": (FIXTURES / "binaries", ["./..."], 18),
    "constructs": (FIXTURES / "constructs", ["./..."], 45),
}


@pytest.fixture(scope="session", params=VERSIONS)
def go_version(request: pytest.FixtureRequest, pinned_go: Path) -> tuple[str, Path]:
    version = str(request.param)
    return version, pinned_go if version == "1.27.3" else fetch_toolchain(version)


def _with_call(report: Report) -> list[Site]:
    return [s for s in report.sites if s.call is not None and s.allocates]


@pytest.mark.parametrize("case", sorted(CASES))
def test_source_and_binary_agree(go_version: tuple[str, Path], case: str, tmp_path: Path) -> None:
    version, go = go_version
    directory, targets, least = CASES[case]
    source = analyze_targets(targets, go=str(go), cwd=str(directory))
    assert str(source.toolchain.version) == f"go{version}"
    binaries = build_linking_all(source.toolchain, targets, tmp_path, cwd=str(directory))
    found: set[tuple[str, str, int, str | None]] = set()
    linked: set[tuple[str, str]] = set()
    for path in binaries:
        report = analyze_binary(path, [*source.packages, "main"])
        found |= {(s.package, s.function, s.pos.line, s.entry) for s in report.sites}
        linked |= _linked_functions(GoProgram.load(path))
    assert build_and_cross_check(source.toolchain, targets, source, cwd=str(directory)) == []

    # Every source site with a call is in a linked function (the generated program keeps
    # the libraries' functions), and binary mode found it there.
    with_call = _with_call(source)
    assert len(with_call) >= least
    for site in with_call:
        if (site.package, site.function) not in linked:
            # Only what the generated program cannot name may be missing: unexported
            # functions inlined into all their callers, and generic code (compiled per
            # instantiation, under the instantiating package's shapes).
            name = site.function.split("[")[0].rsplit(".", 1)[-1]
            assert "[" in site.function or not name[:1].isupper(), site
            continue
        assert (site.package, site.function, code_line(site), site.entry) in found, site


def _linked_functions(program: GoProgram) -> set[tuple[str, str]]:
    """(package, function) of every function in the binary, named as Sites name them."""
    linked = set()
    for func in program.pcln.iter_functions():
        package = package_of(func.name)
        if package == "main":
            package = program.build.path
        linked.add((package, short_function(func.name)))
    return linked


def test_build_and_cross_check_builds_into_a_temporary_directory(pinned_go: Path) -> None:
    directory = FIXTURES / "binaries"
    before = sorted(p.name for p in directory.iterdir())
    source = analyze_targets(["./..."], go=str(pinned_go), cwd=str(directory))
    assert build_and_cross_check(source.toolchain, ["./..."], source, cwd=str(directory)) == []
    assert sorted(p.name for p in directory.iterdir()) == before


def test_cross_check_reports_a_disagreement(pinned_go: Path) -> None:
    """A binary of other code disagrees: the check is not vacuous."""
    directory = FIXTURES / "binaries"
    source = analyze_targets(["./..."], go=str(pinned_go), cwd=str(directory))
    sites = tuple(
        s for s in source.sites if not (s.function == "counter" and s.construct == "closure")
    )
    assert len(sites) == len(source.sites) - 1
    fewer = Report(source.tool_version, source.toolchain, source.packages, sites)
    found = build_and_cross_check(source.toolchain, ["./..."], fewer, cwd=str(directory))
    assert [(d.function, d.what) for d in found] == [("counter", "missing-in-source")]
    assert "struct { F uintptr; X0 *int } 16 B" in str(found[0])


def test_cli_cross_check(
    pinned_go: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from escape_lens.cli import main

    monkeypatch.chdir(FIXTURES / "constructs")
    assert main(["analyze", "./...", "--go", str(pinned_go), "--cross-check"]) == 0
    captured = capsys.readouterr()
    assert "source and binary agree" in captured.err
    assert "Traceback" not in captured.err


_CLOSURE_COPIES = """package d

type Conn struct{ ekm func(string) []byte }

func ekmFrom(secret []byte) func(string) []byte {
	return func(label string) []byte {
		out := make([]byte, 0, len(secret)+len(label))
		return append(append(out, secret...), label...)
	}
}

func (c *Conn) Client(s []byte) { c.ekm = ekmFrom(s) }
func (c *Conn) Server(s []byte) { c.ekm = ekmFrom(s) }
func (c *Conn) Ekm() []byte     { return c.ekm("x") }
"""

_MAIN = """package main

import "example.com/d"

func main() {
	var c, s d.Conn
	c.Client([]byte("a"))
	s.Server([]byte("b"))
	println(len(c.Ekm()))
}
"""


def test_cli_cross_check_disagreements_keep_a_machine_format_whole(
    tmp_path: Path,
    pinned_go: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A closure's copies inlined into two callers (documented disagreements): with JSON
    on stdout the disagreement lines go to stderr, and stdout is the JSON alone."""
    import json

    from escape_lens.cli import main

    (tmp_path / "cmd").mkdir()
    (tmp_path / "go.mod").write_text("module example.com/d\n\ngo 1.22\n")
    (tmp_path / "d.go").write_text(_CLOSURE_COPIES)
    (tmp_path / "cmd" / "main.go").write_text(_MAIN)
    monkeypatch.chdir(tmp_path)
    assert (
        main(["analyze", "./...", "--go", str(pinned_go), "--cross-check", "--format", "json"]) == 1
    )
    captured = capsys.readouterr()
    assert json.loads(captured.out)["sites"]
    lines = captured.err.splitlines()
    assert lines[-1].endswith("disagreements"), lines
    assert len(lines) > 2, lines  # one line each, then the count
    assert main(["analyze", "./...", "--go", str(pinned_go), "--cross-check"]) == 1
    text = capsys.readouterr()
    assert len(text.out.splitlines()) > len(lines)  # the report, then the lines
