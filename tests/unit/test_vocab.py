"""The typed vocabulary (escape_lens.vocab) and the structured records built on it:
flow steps parsed once, coded notes, the entry table, and diff's ranking of unknown sizes.

Real oracles: the captured go1.21/1.24/1.27 compiler output (fixtures/captured/) parsed and
joined by the real parser and join, predictions from the real model.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

from escape_lens import model
from escape_lens.diff import compare, diff_sites, path_of
from escape_lens.entries import ENTRIES, EXPLAINS, alloc_entry, entry_family
from escape_lens.findings import RULES
from escape_lens.fingerprint import assign_fingerprints
from escape_lens.parsers.escape import flow_step
from escape_lens.records import (
    FlowStepKind,
    GoToolchain,
    GoVersion,
    Note,
    Report,
    Site,
    SourcePos,
    TypeInfo,
)
from escape_lens.reporters.json_report import (
    load_report,
    report_to_dict,
    site_from_dict,
    site_to_dict,
    write_report,
)
from escape_lens.sites import join_package
from escape_lens.vocab import (
    AllocPath,
    Construct,
    EntryFamily,
    EscapeKind,
    FindingRule,
    NoteCode,
)
from tests.unit.parse_captured import VERSIONS, parse_kinds, parse_mod

RULES_127 = model.rules_for(GoVersion.parse("1.27.3"))


def _sites(version: str) -> list[Site]:
    rules = model.rules_for(GoVersion.parse(version))
    outputs = [parse_kinds(version), *parse_mod(version).values()]
    return [site for output in outputs for site in join_package(output, rules)]


# --- the enums ----------------------------------------------------------------------------


def test_members_are_their_strings_in_json() -> None:
    assert (
        json.dumps([Construct.COMPOSITE_LITERAL, AllocPath.NONE]) == '["composite-literal", "none"]'
    )
    assert f"{FindingRule.GROWN_ALLOCATION}" == "EL002"
    assert Construct("make-slice") is Construct.MAKE_SLICE
    assert set(RULES) == set(FindingRule)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_parser_emits_escape_kinds_and_the_join_constructs(version: str) -> None:
    kinds = {d.kind for d in parse_kinds(version).diagnostics}
    assert all(type(kind) is EscapeKind for kind in kinds)
    # kinds.go has a statement of every kind the compiler prints about it
    assert kinds == set(EscapeKind) - {EscapeKind.LEAKING_CLOSURE_REF}
    sites = _sites(version)
    assert all(type(site.construct) is Construct for site in sites)
    assert {Construct.NEW, Construct.MAP, Construct.CHAN, Construct.CLOSURE} <= {
        s.construct for s in sites
    }


def test_the_documented_kinds_are_the_emitted_ones() -> None:
    # records.py once documented a `leaking-result` kind that the parser never emits
    assert "leaking-result" not in {kind.value for kind in EscapeKind}


def test_one_entry_table_names_every_family() -> None:
    assert entry_family("newobject") is EntryFamily.OBJECT
    assert entry_family("mallocgcSmallScanNoHeaderSC12") is EntryFamily.OBJECT
    assert entry_family("concatstring3") is EntryFamily.STRING_CONCAT
    assert entry_family("moveSliceNoCapNoScan") is EntryFamily.APPEND
    assert entry_family("mapassign_faststr") is None
    assert {spec.family for spec in ENTRIES.values()} == set(EntryFamily) == set(EXPLAINS)
    name, spec = alloc_entry("internal/bytealg.MakeNoZero") or ("", None)
    assert (name, spec and spec.family) == ("bytealg.MakeNoZero", EntryFamily.MAKE_SLICE)
    # every family other than OBJECT is named as the construct it implements
    assert {f.value for f in EntryFamily} - {"object"} <= {c.value for c in Construct}


# --- flow steps -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_flow_steps_are_parsed_into_parts_once(version: str) -> None:
    moved = next(
        d
        for d in parse_kinds(version).diagnostics
        if d.pos == SourcePos("main.go", 22, 2) and d.kind == EscapeKind.MOVED_TO_HEAP
    )
    hop, *edges = moved.flow
    assert (hop.kind, hop.destination, hop.source) == (FlowStepKind.HOP, "{heap}", "&x")
    address_of = next(s for s in edges if s.reason == "address-of")
    assert (address_of.kind, address_of.expression) == (FlowStepKind.EDGE, "&x")
    assert address_of.pos == SourcePos("main.go", 23, 10)
    assigned = next(s for s in edges if s.reason == "assign")
    assert assigned.expression == "sinkp = &x"
    # every step of every chain is one of the two forms the compiler prints
    for diagnostic in parse_kinds(version).diagnostics:
        for step in diagnostic.flow:
            assert step.kind in (FlowStepKind.HOP, FlowStepKind.EDGE), step.text


def test_flow_step_parts_of_both_arrow_spellings() -> None:
    for arrow in ("←", "="):  # go1.22+, go1.21
        step = flow_step(None, f"flow: {{storage for x == y}} {arrow} &{{storage for s}}")
        assert (step.destination, step.source) == ("{storage for x == y}", "&{storage for s}")
    call = flow_step(None, "from fmt.Println(... argument) (call parameter)")
    assert (call.expression, call.reason) == ("fmt.Println(... argument)", "call parameter")
    assert flow_step(None, "spill").kind == FlowStepKind.OTHER


# --- notes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_every_note_has_a_code_and_the_joined_text(version: str) -> None:
    sites = _sites(version)
    codes = {note.code for site in sites for note in site.notes}
    assert NoteCode.UNCODED not in codes
    assert {NoteCode.NO_BOXING, NoteCode.POOLED_RECORD, NoteCode.STATEMENT_WRAPPER} <= codes
    for site in sites:
        assert site.note == "; ".join(note.text for note in site.notes)
        assert all(note.text for note in site.notes)


def test_json_keeps_note_adds_codes_and_reads_old_reports() -> None:
    sites = _sites("go1.27.3")
    site = next(s for s in sites if len(s.notes) == 1)
    data = site_to_dict(site)
    assert data["note"] == site.notes[0].text
    assert data["notes"] == [{"code": site.notes[0].code.value, "text": site.notes[0].text}]
    assert site_from_dict(data).notes == site.notes
    old = {k: v for k, v in data.items() if k != "notes"}  # written before notes had codes
    assert site_from_dict(old).notes == (Note(NoteCode.UNCODED, site.notes[0].text),)
    report = Report(
        "0", GoToolchain("go", GoVersion.parse("go1.27.3"), "linux", "amd64"), (), tuple(sites)
    )
    out = io.StringIO()
    write_report(report, out)
    again = load_report(io.StringIO(out.getvalue()), "r.json")
    assert report_to_dict(again) == report_to_dict(report)
    flows = [s.diagnostic.flow for s in again.sites if s.diagnostic and s.diagnostic.flow]
    assert flows
    assert all(step.kind != FlowStepKind.OTHER for flow in flows for step in flow)


# --- diff: an unknown size ranks nowhere ----------------------------------------------------


def _site(size: int | None) -> Site:
    return Site(
        pos=SourcePos("p/p.go", 10, 2),
        package="example.com/m/p",
        function="F",
        construct=Construct.COMPOSITE_LITERAL,
        type=TypeInfo("m.T", size, 8) if size is not None else None,
        count=None,
        diagnostic=None,
        call=None,
        prediction=model.predict(size, True, RULES_127) if size is not None else None,
        expr="&T{...}",
    )


def test_a_site_whose_size_becomes_unknown_did_not_shrink() -> None:
    [before], [after] = assign_fingerprints([_site(48)]), assign_fingerprints([_site(None)])
    after = replace(after, fingerprint=before.fingerprint)
    assert path_of(before) is AllocPath.SMALL
    assert path_of(after) is None  # unknown, not AllocPath.NONE (a zero-byte request)
    assert compare(before, after) == ("changed", "48 B small (class 5) -> unknown size")
    assert compare(after, before) == ("changed", "unknown size -> 48 B small (class 5)")
    result = diff_sites([before], [after])
    assert [c.kind for c in result.changes] == ["changed"]
    assert not result.regressed
    # a zero-byte request is a path, the cheapest one
    zero = replace(before, prediction=model.predict(0, True, RULES_127))
    assert compare(zero, before)[0] == "grown"


def test_the_text_report_selects_notes_by_code_not_by_sentence() -> None:
    from escape_lens.reporters.text import render_lines

    toolchain = GoToolchain("go", GoVersion.parse("go1.27.3"), "linux", "amd64")

    def line(*notes: Note) -> str:
        report = Report("0", toolchain, ("example.com/m/p",), (replace(_site(48), notes=notes),))
        [found] = [text for text in render_lines(report, width=100) if text.startswith("    10:2")]
        return found

    alarm = line(Note(NoteCode.MODEL_DISAGREES, "the model's class is wrong"))
    assert "the model's class is wrong" in alarm
    assert "48→48 B" not in alarm  # the alarm stands where the bytes it doubts would be
    prose = line(Note(NoteCode.UNCODED, "MODEL DISAGREES, says a sentence"))
    assert "48→48 B" in prose
    restated = line(Note(NoteCode.STACK_YET_HEAP, "the reason column leaves this out"))
    assert "leaves this out" not in restated


def test_the_gate_reports_no_improvement_when_a_size_becomes_unknown() -> None:
    from escape_lens.gate.config import parse_config_text
    from escape_lens.gate.directives import Directives
    from escape_lens.gate.evaluate import evaluate

    toolchain = GoToolchain("go", GoVersion.parse("go1.27.3"), "linux", "amd64")
    [before] = assign_fingerprints([_site(48)])
    after = replace(_site(None), fingerprint=before.fingerprint)
    config = parse_config_text('hot = ["example.com/m/p.F"]', "escape-lens.toml", ".")
    directives = Directives(frozenset(), ())

    def rules(old: Site, new: Site) -> list[str]:
        baseline = Report("0", toolchain, ("example.com/m/p",), (old,))
        report = Report("0", toolchain, ("example.com/m/p",), (new,))
        return [f.rule for f in evaluate(report, config, directives, baseline).findings]

    assert rules(before, after) == []  # 48 B -> unknown: not EL007 "improvement"
    assert rules(after, before) == []
    smaller = replace(before, prediction=model.predict(24, True, RULES_127))
    assert rules(before, smaller) == [FindingRule.IMPROVEMENT]  # the oracle still fires


def test_the_text_reports_note_shortenings_open_real_notes() -> None:
    """NOTE_SHORTER abbreviates notes chosen by code; each opening it replaces must be
    how a note of that code really opens, or the shortening would silently stop."""
    from escape_lens import predict, sites
    from escape_lens.records import AllocCall
    from escape_lens.reporters.text_words import NOTE_SHORTER, _note_clause

    written = [note for version in VERSIONS for site in _sites(version) for note in site.notes]
    written += [*sites._NO_CALL.values(), *predict.SLICE_MOVED, *predict._APPEND_GROWTH]
    small_map = AllocCall(
        SourcePos("m.go", 1), "main.f", "makemap_small", TypeInfo("map[int]int", 8, 8)
    )
    written += predict.predict_call(small_map, EntryFamily.MAP, RULES_127, {}).notes
    for statement in ("deferproc", "newproc"):  # a go/defer statement and its wrapper closure
        wrapper = TypeInfo("noalg.struct { F uintptr; X0 int }", 16, 0)
        calls = [
            AllocCall(SourcePos("m.go", 3), "main.f", statement),
            AllocCall(SourcePos("m.go", 3), "main.f", "newobject", wrapper),
        ]
        written += [n for site in sites.join_sites(calls, (), RULES_127) for n in site.notes]
    # a conversion with no escape line (binary mode): whether it had a buffer is unknown
    conversion = AllocCall(SourcePos("m.go", 4), "main.f", "slicebytetostring")
    written += [n for site in sites.join_sites([conversion], (), RULES_127) for n in site.notes]
    for code, pairs in NOTE_SHORTER.items():
        texts = [_note_clause((note,)) for note in written if note.code == code]
        for long, _ in pairs:
            assert any(text.startswith(long) for text in texts), (code, long)
