"""Matching and comparing sites (no Go needed: predictions come from the real model)."""

from __future__ import annotations

from dataclasses import replace

from escape_lens import model
from escape_lens.diff import compare, diff_sites, match_sites
from escape_lens.fingerprint import assign_fingerprints
from escape_lens.records import GoVersion, Site, SourcePos, TypeInfo

RULES = model.rules_for(GoVersion.parse("1.27.3"))


def site(
    line: int, size: int, *, expr: str = "&T{...}", function: str = "F", type_name: str = "m.T"
) -> Site:
    return Site(
        pos=SourcePos("p/p.go", line, 2),
        package="example.com/m/p",
        function=function,
        construct="composite-literal",
        type=TypeInfo(type_name, size, 8),
        count=None,
        diagnostic=None,
        call=None,
        prediction=model.predict(size, True, RULES),
        expr=expr,
    )


def test_line_shift_matches_by_fingerprint() -> None:
    old = assign_fingerprints([site(10, 48), site(20, 48, function="G")])
    new = assign_fingerprints([site(14, 48), site(3, 48, function="G")])
    result = diff_sites(old, new)
    assert result.changes == ()
    assert result.unchanged == 2


def test_grown_across_a_size_class() -> None:
    old = assign_fingerprints([site(10, 48)])
    new = assign_fingerprints([site(10, 56)])
    kind, how = compare(old[0], new[0])
    assert kind == "grown"
    assert "48 B small (class 5) -> 64 B small (class 6)" in how
    assert diff_sites(old, new).regressed
    assert compare(new[0], old[0])[0] == "shrunk"


def test_same_class_is_unchanged() -> None:
    old = assign_fingerprints([site(10, 40)])
    new = assign_fingerprints([site(10, 48)])
    assert compare(old[0], new[0]) == (None, "")


def test_small_to_large_grows() -> None:
    old = assign_fingerprints([site(10, 1024)])
    new = assign_fingerprints([site(10, 40000)])
    kind, how = compare(old[0], new[0])
    assert kind == "grown"
    assert how.endswith("large")


def test_new_and_removed() -> None:
    old = assign_fingerprints([site(10, 48)])
    new = assign_fingerprints([site(10, 48), site(11, 16, type_name="m.U", expr="&U{}")])
    result = diff_sites(old, new)
    assert [c.kind for c in result.changes] == ["new"]
    assert result.changes[0].new is not None
    assert result.changes[0].new.pos.line == 11
    back = diff_sites(new, old)
    assert [c.kind for c in back.changes] == ["removed"]
    assert not back.regressed


def test_edited_expression_pairs_loosely() -> None:
    old = assign_fingerprints([site(10, 48, expr="&T{a: 1}")])
    new = assign_fingerprints([site(10, 48, expr="&T{a: 1, b: 2}")])
    assert old[0].fingerprint != new[0].fingerprint
    pairs, only_new, only_old = match_sites(old, new)
    assert len(pairs) == 1
    assert not only_new
    assert not only_old


def test_non_allocating_sites_do_not_count() -> None:
    new = assign_fingerprints([replace(site(10, 48), allocates=False)])
    assert diff_sites([], new).changes == ()


def test_the_one_site_of_a_construct_left_in_a_function_pairs_with_the_one_it_replaced() -> None:
    """`new([64]byte)` -> `new([128]byte)`: expression and type both changed, yet it is the
    function's only such site on both sides, so it grew rather than went and came."""
    old = assign_fingerprints([site(10, 64, expr="new([64]byte)", type_name="[64]uint8")])
    new = assign_fingerprints([site(10, 128, expr="new([128]byte)", type_name="[128]uint8")])
    result = diff_sites(old, new)
    assert [c.kind for c in result.changes] == ["grown"]
    assert result.changes[0].reason.startswith("64 B")
    assert "-> 128 B" in result.changes[0].reason


def test_two_left_on_a_side_stay_new_and_removed() -> None:
    """Nothing says which of two replaced sites became the new one."""
    old = assign_fingerprints(
        [site(10, 64, expr="new(A)", type_name="m.A"), site(12, 48, expr="new(B)", type_name="m.B")]
    )
    new = assign_fingerprints([site(10, 128, expr="new(C)", type_name="m.C")])
    result = diff_sites(old, new)
    assert sorted(c.kind for c in result.changes) == ["new", "removed", "removed"]
    other_function = assign_fingerprints(
        [site(10, 128, expr="new(C)", type_name="m.C", function="G")]
    )
    assert sorted(c.kind for c in diff_sites(old[:1], other_function).changes) == [
        "new",
        "removed",
    ]
