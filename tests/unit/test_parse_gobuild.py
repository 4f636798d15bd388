"""Routing a captured multi-package build and reporting the broken packages."""

from __future__ import annotations

import pytest

from escape_lens.parsers.gobuild import BuildParser, ListedPackage
from escape_lens.parsers.positions import Positions
from escape_lens.records import SourcePos
from escape_lens.toolchain.typesizes import rewrite
from tests.unit.parse_captured import MOD, MOD_PACKAGES, VERSIONS, captured_lines, parse_mod


@pytest.mark.parametrize("version", VERSIONS)
def test_a_broken_package_does_not_stop_independent_ones(version: str) -> None:
    outputs = parse_mod(version)
    broken = outputs["example.com/m/broken"]
    assert broken.error is not None
    assert 'broken/x.go:3:23: cannot use "x"' in broken.error
    assert broken.calls == ()
    assert broken.diagnostics == ()
    dependent = outputs["example.com/m/c"]
    assert dependent.error is not None
    assert "example.com/m/broken" in dependent.error
    a = outputs["example.com/m/a"]
    assert a.error is None
    assert [c.pos for c in a.calls][:1] == [SourcePos("a/a.go", 7)]
    assert {d.function for d in a.diagnostics} >= {"example.com/m/a.New", "example.com/m/a.Buf"}


@pytest.mark.parametrize("version", VERSIONS)
def test_a_successful_build_has_no_errors_even_with_unknown_lines(version: str) -> None:
    parser = BuildParser(MOD_PACKAGES, Positions(MOD, MOD))
    parser.feed_all(captured_lines(version, "mod"))
    assert parser.errors(0) == {}


def test_list_errors_are_reported_without_building() -> None:
    listed = ListedPackage("example.com/m/x", "/m/x", "x", error="x.go:1:1: expected 'package'")
    parser = BuildParser([listed], Positions("/m", "/m"))
    assert parser.states == {}
    (output,) = parser.outputs([listed], 0)
    assert output.error == "x.go:1:1: expected 'package'"


def test_test_variants_are_kept_once() -> None:
    listed = ListedPackage("example.com/m/t", "/m/t", "t", has_tests=True)
    parser = BuildParser([listed], Positions("/m", "/m"), tests=True)
    lines = [
        "# example.com/m/t",
        "example.com/m/t.F STEXT size=1 args=0x0 locals=0x0",
        "\t0x0000 00000 (/m/t/t.go:3)\tTEXT\texample.com/m/t.F(SB), ABIInternal, $0-0",
        "# example.com/m/t [example.com/m/t.test]",
        "example.com/m/t.F STEXT size=1 args=0x0 locals=0x0",
        "\t0x0000 00000 (/m/t/t.go:3)\tTEXT\texample.com/m/t.F(SB), ABIInternal, $0-0",
        "# example.com/m/t_test [example.com/m/t.test]",
        "t/x_test.go:7:12: tt does not escape",
        "example.com/m/t_test.TestX STEXT size=1 args=0x0 locals=0x0",
        "\t0x0000 00000 (/m/t/x_test.go:7)\tTEXT\texample.com/m/t_test.TestX(SB), $0-0",
        "# example.com/m/t.test",
        "main.main STEXT size=1 args=0x0 locals=0x0",
    ]
    parser.feed_all(lines)
    (output,) = parser.outputs([listed], 0)
    assert [f.name for f in output.functions] == ["example.com/m/t.F", "example.com/m/t_test.TestX"]
    (diagnostic,) = output.diagnostics
    assert diagnostic.function == "example.com/m/t_test.TestX"


def test_type_names_are_rewritten_for_go_parser() -> None:
    assert rewrite("bytes.Buffer") == ("p0.Buffer", {"p0": "bytes"})
    assert rewrite("[]net/http.Header") == ("[]p0.Header", {"p0": "net/http"})
    assert rewrite("map[string]*example.com/m/a.T") == (
        "map[string]*p0.T",
        {"p0": "example.com/m/a"},
    )
    assert rewrite("int") == ("int", {})
    assert rewrite("noalg.struct { F uintptr; X0 int }") is None
    assert rewrite("main.Stack[go.shape.int]") is None
