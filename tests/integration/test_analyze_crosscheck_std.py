"""Source mode against binary mode on real standard-library packages (go1.27.3, and
go1.21.13 for the agreement itself).

encoding/json, fmt and net/http inline heavily (helpers of the same file, of other files,
of other packages, closures, nested inlining), initialise package-level maps, and box
values into interfaces: the cases where source mode used to place a call at the wrong
line, pair it with an unrelated escape line or lose its constant. Binary mode reads the
compiler's inline tree from `.gopclntab`, so the two must agree on every site of every
function both see: no disagreement of any kind is allowed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.crosscheck import build_and_cross_check
from escape_lens.gonames import short_function
from escape_lens.records import GoToolchain, Report, Site
from escape_lens.toolchain.build import compile_targets
from tests.conftest import fetch_toolchain

TARGETS = ["encoding/json", "fmt", "net/http"]


@pytest.fixture(scope="module")
def std_report(pinned_go: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    cwd = tmp_path_factory.mktemp("std")
    return analyze_targets(TARGETS, go=str(pinned_go), cwd=str(cwd))


def _sites(report: Report, function: str, file: str, entry: str) -> list[Site]:
    return [
        s
        for s in report.sites
        if s.function == function and s.pos.file == file and s.entry == entry and s.allocates
    ]


@pytest.mark.parametrize("version", ["1.27.3", "1.21.13"])
def test_source_and_binary_agree_on_std(version: str, std_report: Report, tmp_path: Path) -> None:
    report = std_report
    if version != "1.27.3":
        report = analyze_targets(TARGETS, go=str(fetch_toolchain(version)), cwd=str(tmp_path))
    assert str(report.toolchain.version) == f"go{version}"
    with_call = [s for s in report.sites if s.call is not None]
    assert len(with_call) > 1000  # the comparison covers the packages, not a corner
    disagreements = build_and_cross_check(report.toolchain, TARGETS, report, cwd=str(tmp_path))
    assert [str(d) for d in disagreements] == []


def test_inlined_calls_sit_at_their_call_lines(std_report: Report) -> None:
    # Three inlined constructor calls of one function, each at its own line (the
    # callee's code is in another file).
    send = _sites(std_report, "send", "net/http/client.go", "newobject")
    assert {s.pos.line for s in send} >= {249, 256, 262}
    assert all(s.inlined_from is not None and s.pos.col > 0 for s in send)
    # tok.String() (inlined) converts at each of its calls; none belongs to the `switch`
    # at line 243, whose `tok.Kind()` escape line a guessed position used to take.
    token = _sites(
        std_report, "(*Decoder).Token", "encoding/json/v2_stream.go", "slicebytetostring"
    )
    assert sorted(s.pos.line for s in token) == [251, 254, 258]


def test_constants_survive_inlining(std_report: Report) -> None:
    # bufio.NewWriterSize(w, 4096) / newBufioReader's make: inlined, count still known.
    for function, file, line in (
        ("(*Request).write", "net/http/request.go", 679),
        ("newBufioReader", "net/http/server.go", 909),
    ):
        (site,) = [s for s in _sites(std_report, function, file, "makeslice") if s.pos.line == line]
        assert site.count == 4096


def test_package_level_maps_are_at_their_declarations(std_report: Report) -> None:
    init_maps = [s for s in std_report.sites if s.function == "init" and s.construct == "map"]
    assert init_maps
    assert all(not s.pos.file.startswith("<") for s in init_maps)
    assert ("net/http/request.go", 100) in {(s.pos.file, s.pos.line) for s in init_maps}


def test_a_constant_from_another_path_is_no_count(std_report: Report) -> None:
    # fmtUnicode: `MOVL $68, SI; JMP` ends one path; the path that reaches the makeslice
    # joins at a branch target with SI = width, not 68.
    (site,) = _sites(std_report, "(*fmt).fmtUnicode", "fmt/format.go", "makeslice")
    assert site.count is None


def test_closure_copies_are_the_only_difference_in_crypto_tls(
    pinned_toolchain: GoToolchain, tmp_path: Path
) -> None:
    """crypto/tls has closures whose enclosing functions are inlined: the compiler lists a
    copy per inlining (`F.func1#<hash>#`) and a program keeps the copies it reaches (the
    class sites.py documents). Every disagreement must be of that class: an allocation
    source mode has, in a function the listing holds more than once."""
    output = compile_targets(pinned_toolchain, ["crypto/tls"], cwd=str(tmp_path))
    (package,) = output.packages
    listed = Counter((span.name, span.file, span.first_line) for span in package.functions)
    copied = {short_function(name) for (name, _, _), count in listed.items() if count > 1}
    assert copied  # the case exists, so the exclusion below is about something
    report = analyze_targets(["crypto/tls"], go=pinned_toolchain.path, cwd=str(tmp_path))
    disagreements = build_and_cross_check(
        report.toolchain, ["crypto/tls"], report, cwd=str(tmp_path)
    )
    others = [
        d for d in disagreements if not (d.what == "missing-in-binary" and d.function in copied)
    ]
    assert [str(d) for d in others] == []
    # and source mode says so where it happens
    in_copies = [s for s in report.sites if s.function in copied and s.call is not None]
    assert in_copies
    assert all("copies of this closure" in s.note for s in in_copies)
