"""Allocation calls whose type the listing gives only past a branch (fixtures/afterbranch).

A boxing's type word loaded after a nil check or after an inlined append's growslice
block (parsers/boxedtype.py), and a growslice element type loaded before the branches
that lead to the call (parsers/registers.py `arguments_reaching`), built with the pinned
toolchain and go1.21.13; a type that comes from a generic dictionary stays unknown.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.records import Report
from tests.conftest import FIXTURES, fetch_toolchain

MODULE = FIXTURES / "afterbranch"
PACKAGE = "example.com/afterbranch"


@pytest.fixture(scope="module", params=["pinned", "1.21.13"])
def report(request: pytest.FixtureRequest, pinned_go: Path) -> Report:
    go = pinned_go if request.param == "pinned" else fetch_toolchain(str(request.param))
    return analyze_targets(["./..."], go=str(go), cwd=str(MODULE))


def _types(report: Report, function: str, entry: str) -> list[tuple[str, int] | None]:
    return [
        (site.type.name, site.type.size) if site.type is not None else None
        for site in report.sites
        if site.pos.file == "afterbranch.go" and site.function == function and site.entry == entry
    ]


def test_a_key_boxed_before_a_nil_check_has_its_type(report: Report) -> None:
    # Between convT64 and `LEAQ type:uintptr(SB)` the value's itab is nil-checked: a
    # conditional branch and a jump over its other arm, both landing on the type word.
    assert _types(report, "(*cfg).AddMatcher", "convT64") == [("uintptr", 8)]
    assert _types(report, "(*cfg).AddAny", "convT64") == [("uintptr", 8)]


def test_a_value_boxed_into_an_inlined_append_has_its_type(report: Report) -> None:
    # The itab is stored beside the data word after add's growslice block and the
    # slice header's write barrier (41 lines after the call on go1.27.3).
    assert _types(report, "(*route).Methods", "convTslice") == [(f"{PACKAGE}.methods", 24)]


def test_an_element_type_loaded_before_a_branch_reaches_growslice(report: Report) -> None:
    # `LEAQ type:*T(SB), SI` is compared by the type assertion; SI then reaches
    # growslice through the branch to its block, the only way in.
    assert _types(report, "Collect", "growslice") == [(f"*{PACKAGE}.T", 8)]


def test_a_dictionarys_type_stays_unknown(report: Report) -> None:
    # The shape instance boxes with the type word its dictionary holds: no name.
    assert _types(report, "AppendBoxed[go.shape.uint64]", "convT64") == [None]
    assert _types(report, "AppendBoxed[uint64]", "convT64") == [("uint64", 8)]
