"""The -m=2 parser on captured go1.21 / go1.24 / go1.27 output (fixtures/captured/)."""

from __future__ import annotations

import pytest

from escape_lens.parsers.escape import iter_diagnostics
from escape_lens.parsers.positions import Positions
from escape_lens.records import EscapeDiagnostic, SourcePos
from tests.unit.parse_captured import KINDS, VERSIONS, captured_lines, parse_kinds


def find(
    diagnostics: tuple[EscapeDiagnostic, ...], line: int, col: int, kind: str
) -> EscapeDiagnostic:
    found = [d for d in diagnostics if d.pos == SourcePos("main.go", line, col) and d.kind == kind]
    assert len(found) == 1, (line, col, kind, found)
    return found[0]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_kind_is_recognised_with_its_subject(version: str) -> None:
    diagnostics = parse_kinds(version).diagnostics
    assert find(diagnostics, 22, 2, "moved-to-heap").subject == "x"
    assert find(diagnostics, 19, 14, "leaking-param-content").subject == "ps"
    assert find(diagnostics, 17, 11, "leaking-param-to-result").subject == "p"
    assert find(diagnostics, 31, 12, "leaking-param").subject == "v"
    assert find(diagnostics, 27, 2, "captured-by-ref").subject == "n"
    assert find(diagnostics, 57, 10, "captured-by-value").subject == "n"
    assert find(diagnostics, 62, 11, "does-not-escape").subject == "make([]int, 4)"
    assert find(diagnostics, 55, 37, "escapes").subject == "&errors.errorString{...}"
    assert find(diagnostics, 42, 11, "escapes").subject == "make(map[int]int, n)"


@pytest.mark.parametrize("version", VERSIONS)
def test_flow_steps_come_from_the_explanation_block(version: str) -> None:
    moved = find(parse_kinds(version).diagnostics, 22, 2, "moved-to-heap")
    texts = [step.text for step in moved.flow]
    assert texts[0].startswith("flow: {heap}")
    assert "from &x (address-of)" in texts
    address_of = next(s for s in moved.flow if s.text == "from &x (address-of)")
    assert address_of.pos == SourcePos("main.go", 23, 10)
    # a statement without an explanation block has no flow
    assert find(parse_kinds(version).diagnostics, 62, 11, "does-not-escape").flow == ()


@pytest.mark.parametrize("version", VERSIONS)
def test_functions_are_symbols_from_the_header_or_the_spans(version: str) -> None:
    diagnostics = parse_kinds(version).diagnostics
    assert find(diagnostics, 22, 2, "moved-to-heap").function == "main.moved"
    assert find(diagnostics, 31, 12, "leaking-param").function == "main.iface"
    assert find(diagnostics, 79, 7, "moved-to-heap").function == "main.main"
    # the func literal belongs to the function that makes it, not to the closure
    assert find(diagnostics, 28, 9, "escapes").function == "main.closure"
    assert find(diagnostics, 27, 2, "captured-by-ref").function == "main.closure"


@pytest.mark.parametrize("version", VERSIONS)
def test_inlined_subjects_keep_the_summary_spelling(version: str) -> None:
    diagnostics = parse_kinds(version).diagnostics
    at_81 = sorted(d.subject for d in diagnostics if d.pos == SourcePos("main.go", 81, 7))
    assert "1000" in at_81
    assert "v" in at_81
    assert {"s", '"s"'} & set(at_81)


def test_append_subject_takes_the_header_spelling() -> None:
    # go1.24+ print `append escapes to heap` with the header `append(s, i) escapes ...`
    diagnostics = parse_kinds("go1.27.3").diagnostics
    assert find(diagnostics, 50, 13, "escapes").subject == "append(s, i)"


@pytest.mark.parametrize("version", VERSIONS)
def test_iter_diagnostics_is_lazy_and_matches_the_build_parser(version: str) -> None:
    lines = captured_lines(version, "kinds")
    positions = Positions(KINDS.dir, KINDS.dir)
    stream = iter_diagnostics(iter(lines), positions)
    first = next(stream)
    assert isinstance(first, EscapeDiagnostic)
    rest = list(stream)
    assert len(rest) + 1 == len(parse_kinds(version).diagnostics)


def test_no_explanation_block_is_left_unclaimed() -> None:
    for version in VERSIONS:
        unclaimed = [d for d in parse_kinds(version).diagnostics if d.message.endswith(":")]
        assert unclaimed == []


@pytest.mark.parametrize("version", VERSIONS)
def test_a_parameters_explanation_is_skipped_and_an_objects_kept(version: str) -> None:
    # Both kinds of block have flow lines in the captured output; only the object's are read.
    lines = captured_lines(version, "kinds")
    headers = [i for i, line in enumerate(lines) if " leaks to " in line and line.endswith(":")]
    assert headers
    assert all("  flow: " in lines[i + 1] for i in headers)
    diagnostics = parse_kinds(version).diagnostics
    leaking = [d for d in diagnostics if d.kind.value.startswith("leaking-param")]
    escaping = [d for d in diagnostics if d.kind.value == "escapes" and d.flow]
    assert leaking
    assert escaping
    assert all(d.flow == () for d in leaking)
