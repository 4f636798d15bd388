"""The terminal report on hand-made records: columns, reasons, width, colour, order.

The integration tests (tests/integration/test_analyze_cli.py) run the real compiler; here
the records are built by hand (predictions from the real model) so each layout rule can be
checked on exactly the case it is about, plus the captured compiler output of three Go
versions (fixtures/captured) for the flow-chain reasons.
"""

from __future__ import annotations

import io
import os
import random
import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escape_lens.model import predict, predict_dynamic, rules_for
from escape_lens.model.explain import path_words
from escape_lens.parsers.escape import flow_step
from escape_lens.predict import MODEL_DISAGREES as ALARM
from escape_lens.records import (
    AllocCall,
    EscapeDiagnostic,
    FlowStep,
    GoToolchain,
    GoVersion,
    Note,
    Report,
    Site,
    SkippedPackage,
    SourcePos,
    TypeInfo,
)
from escape_lens.reporters import get_reporter
from escape_lens.reporters.text import REPORTER, TextReporter, render_lines
from escape_lens.reporters.text_layout import terminal_width, visible_width
from escape_lens.reporters.text_words import describe_bytes, escape_reason, first_reason
from escape_lens.sites import join_package
from escape_lens.vocab import NoteCode
from tests.unit.parse_captured import VERSIONS, parse_kinds

RULES = rules_for(GoVersion.parse("go1.27.3"))
TOOLCHAIN = GoToolchain("/go/bin/go", GoVersion.parse("go1.27.3"), "linux", "amd64")
ANSI = re.compile(r"\033\[[0-9;]*m")


def _note(code: NoteCode, text: str) -> tuple[Note, ...]:
    return (Note(code, text),)


def _flow(*texts: str) -> tuple[FlowStep, ...]:
    return tuple(flow_step(None, text) for text in texts)


def _escape(subject: str, *flow: str, kind: str = "escapes") -> EscapeDiagnostic:
    return EscapeDiagnostic(
        SourcePos("main.go", 1, 1), kind, subject, f"{subject} escapes to heap", _flow(*flow)
    )


def _site(
    line: int,
    col: int,
    function: str,
    construct: str,
    expr: str,
    type_: TypeInfo | None,
    *flow: str,
    package: str = "command-line-arguments",
    file: str = "main.go",
    entry: str = "newobject",
    dynamic: bool = False,
    allocates: bool = True,
    notes: tuple[Note, ...] = (),
) -> Site:
    prediction = None
    if type_ is not None and allocates:
        prediction = (
            predict_dynamic(type_.size, type_.pointers, RULES)
            if dynamic
            else predict(type_.size, type_.pointers, RULES)
        )
    return Site(
        pos=SourcePos(file, line, col),
        package=package,
        function=function,
        construct=construct,
        type=type_,
        count=None,
        diagnostic=_escape(expr, *flow) if flow else None,
        call=AllocCall(SourcePos(file, line), function, entry, type_) if allocates else None,
        prediction=prediction,
        allocates=allocates,
        notes=notes,
        expr=expr,
    )


SMALL_STRUCT = TypeInfo("main.smallStruct", 32, 0)
QUICKSTART = (
    _site(
        14,
        9,
        "newSmallStruct",
        "composite-literal",
        "&smallStruct{}",
        SMALL_STRUCT,
        "flow: ~r0 ← &{storage for &smallStruct{}}",
        "from &smallStruct{} (spill)",
        "from return &smallStruct{} (return)",
        entry="mallocgcSmallNoScanSC4",
    ),
    _site(
        19,
        15,
        "main",
        "interface",
        "s.a",
        TypeInfo("uint64", 8, 0),
        "flow: {storage for ... argument} ← &{storage for s.a}",
        "from s.a (spill)",
        "from ... argument (slice-literal-element)",
        "flow: {heap} ← {storage for ... argument}",
        "from ... argument (spill)",
        "from fmt.Fprintln(os.Stdout, ... argument...) (call parameter)",
        entry="convT64",
    ),
)


def _report(*sites: Site, skipped: tuple[SkippedPackage, ...] = ()) -> Report:
    packages = tuple(sorted({s.package for s in sites}))
    return Report("0.1.0", TOOLCHAIN, packages, tuple(sites), skipped)


def _render(report: Report, width: int = 80, verbose: bool = False, tty: bool = False) -> str:
    out = _Terminal() if tty else io.StringIO()
    TextReporter(verbose, width).render(report, out)
    return out.getvalue()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _site_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("    ") and line[4] != " "]


# --- one line per site, columns -----------------------------------------------------------


def test_quickstart_lines_read_position_construct_bytes_path_expression_reason() -> None:
    text = _render(_report(*QUICKSTART))
    lines = text.splitlines()
    assert lines[0] == "escape-lens 0.1.0 · go1.27.3 linux/amd64 · source"
    assert lines[2].startswith("command-line-arguments  2 sites, 48 B")
    [small] = [line for line in lines if "&smallStruct{}" in line]
    assert small.split() == [
        "14:9",
        "literal",
        "32→32",
        "B",
        "class",
        "4,",
        "span",
        "9",
        "&smallStruct{}",
        "returned",
    ]
    [boxed] = [line for line in lines if "s.a" in line]
    assert boxed.split()[:5] == ["19:15", "iface", "8→16", "B", "tiny"]
    # The reason reads whole: it leaves its column rather than be cut.
    assert boxed.endswith("s.a uint64  passed to fmt.Fprintln")
    assert visible_width(boxed) <= 80
    # The columns line up: construct, arrow, path, expression start where the other's do.
    for token in ("literal", "→", "class", "&smallStruct{}"):
        other = {"literal": "iface", "→": "→", "class": "tiny", "&smallStruct{}": "s.a"}[token]
        assert small.index(token) == boxed.index(other), token
    summary = lines.index("2 sites by path: 1 tiny, 1 small")
    assert lines[summary + 1 : summary + 4] == [
        "  constant size: 2 sites, 48 B once each (not per run), 0 B waste",
        "",
        "what to fix first (bytes a hint recovers per execution; cold paths last):",
    ]
    # Both sites recover bytes: the 32 B struct returned by value first, then the boxing.
    assert lines[summary + 4] == "  1. main.go:14 newSmallStruct · returned · 32 B"
    assert "  2. main.go:19 " in lines[summary + 4 :][2]


def test_functions_in_source_order_and_allocations_before_other_escape_lines() -> None:
    late = _site(30, 2, "later", "new", "new(T)", TypeInfo("main.T", 16, 0), "from x (return)")
    quiet = _site(
        5,
        9,
        "early",
        "interface",
        "1000",
        None,
        "from 1000 (spill)",
        "from sink = 1000 (assign)",
        allocates=False,
        notes=_note(
            NoteCode.NO_BOXING,
            "no allocation: the value needs no boxing (constant, zero-size, single-byte "
            "or read-only data) or the conversion was optimised away",
        ),
    )
    loud = _site(7, 9, "early", "new", "new(int64)", TypeInfo("int64", 8, 0), "from x (return)")
    text = _render(_report(late, quiet, loud))
    names = re.findall(r"^  (\S+)  main\.go$", text, re.M)
    assert names == ["early", "later"]
    site_lines = _site_lines(text)
    assert [line.split()[0] for line in site_lines] == ["7:9", "5:9", "30:2"]
    assert "no allocation" in site_lines[1]
    assert "needs no boxing" in site_lines[1]
    assert "no allocation:" not in site_lines[1]  # the column says it once
    # On a terminal the secondary line is dim from end to end, the others are not.
    coloured = _render(_report(late, quiet, loud), tty=True)
    quiet_line = next(line for line in coloured.splitlines() if "1000" in line)
    assert quiet_line.startswith("\033[2m")
    assert quiet_line.count("\033[") == 2


def test_dynamic_sites_show_bytes_per_element_and_thresholds() -> None:
    grown = _site(
        10,
        13,
        "Grow",
        "append",
        "append(s, int64(i))",
        TypeInfo("int64", 8, 0),
        "flow: {heap} ← s",
        "from Sink = s (assign)",
        entry="growslice",
        dynamic=True,
    )
    [line] = _site_lines(_render(_report(grown)))
    assert re.search(r" n×8 B +tiny ≤1, small ≤4095 ", line)  # noqa: RUF001
    assert line.endswith(" in Sink")  # "stored in Sink", shortened to keep the expression
    assert "append(s, int64(i))" in line
    assert _site_lines(_render(_report(grown), 100))[0].endswith(
        "append(s, int64(i))  stored in Sink · slice-growth"
    )
    assert path_words(grown.prediction) == "dynamic: tiny ≤1, small ≤4095"
    assert describe_bytes(grown) == "n×8 B"  # noqa: RUF001


def test_waste_large_and_pooled_cells() -> None:
    large = _site(8, 12, "New", "new", "new(block)", TypeInfo("main.block", 40000, 0))
    odd = _site(
        20, 9, "NewThree", "composite-literal", "&three{...}", TypeInfo("main.three", 12, 0)
    )
    pooled = replace(
        _site(11, 0, "Start", "goroutine", "", None, entry="newproc"),
        notes=_note(
            NoteCode.POOLED_RECORD,
            "the runtime reuses a free g / _defer record; a new one is allocated only when "
            "its free list is empty",
        ),
    )
    text = _render(_report(large, odd, pooled))
    [large_line] = [line for line in text.splitlines() if "new(block)" in line]
    assert "40000→40960 B +960" in large_line
    assert "large, 5 pages" in large_line
    [odd_line] = [line for line in text.splitlines() if "&three{...}" in line]
    assert "12→16 B +4" in odd_line
    assert " tiny " in odd_line
    [pooled_line] = [line for line in text.splitlines() if line.startswith("    11 ")]
    assert "pooled" in pooled_line
    assert "reuses a free" in pooled_line
    # the pooled record has no size: it is counted by path, not in the bytes
    assert text.splitlines()[-2] == "3 sites by path: 1 tiny, 1 large, 1 pooled"
    assert text.splitlines()[-1].startswith("  constant size: 2 sites, ")
    assert text.splitlines()[-1].endswith(", 964 B waste")


# --- why it escapes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flow", "reason"),
    [
        (["flow: ~r0 ← &{storage for &T{}}", "from &T{} (spill)", "from return &T{} (return)"],
         "returned"),
        (["flow: {heap} ← s", "from Sink = s (assign)"], "stored in Sink"),
        (["flow: {heap} ← &{storage for []string{...}}", "from []string{...} (spill)",
          "from textproto.h[textproto.CanonicalMIMEHeaderKey(textproto.key)] = []string{...} "
          "(assign)"], "stored in textproto.h[…]"),
        (["flow: srv ← &{storage for &Server{...}}", "from srv := &Server{...} (assign)",
          "flow: {heap} ← srv", "from (*Server).ServeTLS(srv, l, certFile, keyFile) "
          "(call parameter)"], "passed to (*Server).ServeTLS"),
        (["flow: {temp} ← &{storage for ... argument}",
          "from (*Server).logf(w.conn.server, \"http: %q\", ... argument...) (call parameter)",
          "flow: {heap} ← *{temp}"], "passed to (*Server).logf"),
        (["flow: {heap} ← v", "from slices.Insert[go.shape.string](s, 0, v) (call parameter)"],
         "passed to slices.Insert"),
        (["flow: {storage for func literal} ← &n", "from n (captured by a closure)",
          "from n (reference)"], "captured by a closure"),
        (["flow: {storage for &multipart.Writer{...}} ← multipart.w",
          "from multipart.Writer{...} (struct literal element)"],
         "stored in &multipart.Writer{...}"),
        (["flow: {heap} ← &{storage for x}", "from a, b = x, y (assign-pair)"],
         "stored in the heap"),
        (["flow: ~r0 = p", "from return p (return) at ./main.go:17:26"], "returned"),  # go1.21
        (["flow: {heap} ← &{storage for x}", "from x (spill)"], ""),
    ],
)  # fmt: skip
def test_reason_is_where_the_flow_chain_ends(flow: list[str], reason: str) -> None:
    assert escape_reason(_escape("x", *flow)) == reason


def test_bookkeeping_only_chain_falls_back_to_the_note_and_alarm_outranks_all() -> None:
    wrapper = _site(
        13, 3, "Loop", "defer", "func literal", TypeInfo("noalg.struct { F uintptr }", 16, 0),
        "flow: {heap} ← &{storage for func literal}", "from func literal (spill)",
        notes=_note(NoteCode.STATEMENT_WRAPPER, "the wrapper closure of the defer statement"),
    )  # fmt: skip
    assert first_reason(wrapper) == "the wrapper closure of the defer statement"
    alarm = replace(
        wrapper, notes=_note(NoteCode.MODEL_DISAGREES, "MODEL DISAGREES WITH THE COMPILER: "
        "mallocgcSmallNoScanSC4 is size class 4, the model says 5")
    )  # fmt: skip
    assert first_reason(alarm).startswith(ALARM)
    not_escaping = replace(
        wrapper,
        diagnostic=_escape("x", kind="does-not-escape"),
        notes=_note(NoteCode.APPEND_GROWTH, "grows by doubling"),
    )
    assert first_reason(not_escaping) == "does not escape"


def test_model_alarm_stands_out_first_in_the_free_text() -> None:
    site = replace(
        QUICKSTART[0],
        notes=_note(
            NoteCode.MODEL_DISAGREES,
            "MODEL DISAGREES WITH THE COMPILER: mallocgcSmallNoScanSC4 is size class 4, "
            "the model says 5",
        ),
    )
    for width in (60, 80, 120):
        [line] = _site_lines(_render(_report(site), width))
        assert visible_width(line) <= width
        # The model's bytes and path are in doubt: the alarm stands in their place.
        assert line.split()[:3] == ["14:9", "literal", "MODEL"]
        assert ALARM in line
        assert "class 4, span 9" not in line
    coloured = _render(_report(site), tty=True)
    assert f"\033[31;1m{ALARM}" in coloured


def test_reasons_from_captured_compiler_output_of_each_version() -> None:
    """The flow chains of go1.21 (`=`) to go1.27 (`←`) give the same reasons."""
    by_version = {}
    for version in VERSIONS:
        sites = join_package(parse_kinds(version), rules_for(GoVersion.parse(version)))
        report = Report("0", replace(TOOLCHAIN, version=GoVersion.parse(version)), (), tuple(sites))
        lines = render_lines(report)
        assert max(visible_width(line) for line in lines) <= 80
        reasons = {
            (s.function, s.pos.line): first_reason(s) for s in sites if s.diagnostic is not None
        }
        assert not {"spill", "assign", "assign-pair"} & set(reasons.values())
        by_version[version] = reasons
    for reasons in by_version.values():
        assert reasons["moved", 22] == "stored in sinkp"
        assert reasons["closure", 28] == "returned"
        assert reasons["closure", 27] == "captured by a closure"
        assert reasons["iface", 33] == "stored in sink"


# --- shortening, width ------------------------------------------------------------------


def test_long_expressions_lose_trailing_arguments_not_letters() -> None:
    site = _site(
        10, 13, "Grow", "append", "append(someSlice, int64(someLongVariableName))",
        TypeInfo("int64", 8, 0), "flow: {heap} ← s", "from Sink = s (assign)",
        entry="growslice", dynamic=True,
    )  # fmt: skip
    for width in range(70, 100):
        [line] = _site_lines(_render(_report(site), width))
        assert not re.search(r"\w…", line), line  # no word is cut
        assert (
            "append(someSlice, …)" in line
            or "append(…)" in line
            or "append(someSlice, int64(" in line
        )
        assert line.endswith(" in Sink")


@settings(max_examples=150, deadline=None)
@given(
    width=st.integers(min_value=20, max_value=200),
    expr=st.text(alphabet="abc(), .[]{}&*→", max_size=90),
    target=st.from_regex(r"[A-Za-z][A-Za-z.]{0,60}", fullmatch=True),
    verbose=st.booleans(),
)
def test_no_line_exceeds_the_width_and_colour_adds_only_codes(
    width: int, expr: str, target: str, verbose: bool
) -> None:
    site = _site(
        123, 45, "F" * (width // 3), "composite-literal", expr,
        TypeInfo("example.com/some/pkg.Type", 304, 8), "flow: {heap} ← x",
        f"from {target} = x (assign)", package="example.com/some/pkg",
    )  # fmt: skip
    report = _report(site, *QUICKSTART)
    plain = _render(report, width, verbose)
    coloured = _render(report, width, verbose, tty=True)
    for text in (plain, coloured):
        assert max(visible_width(line) for line in text.splitlines()) <= width
    assert ANSI.sub("", coloured) == plain


def test_width_from_columns_then_terminal_then_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert terminal_width(io.StringIO()) == 80
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback: os.terminal_size((132, 40)))
    assert terminal_width(_Terminal()) == 132
    assert terminal_width(io.StringIO()) == 80  # a pipe is not a terminal
    monkeypatch.setenv("COLUMNS", "100")
    assert terminal_width(io.StringIO()) == 100
    monkeypatch.setenv("COLUMNS", "wide")
    assert terminal_width(io.StringIO()) == 80


def test_wider_terminal_shows_more_of_the_same_line(monkeypatch: pytest.MonkeyPatch) -> None:
    site = _site(
        665, 75, "(*Client).do", "interface", "loc", TypeInfo("string", 16, 8),
        "flow: {heap} ← {storage for ... argument}",
        "from (*Client).logfWithAVeryLongName(c, \"%s\", ... argument...) (call parameter)",
        package="net/http", file="client.go",
    )  # fmt: skip
    monkeypatch.setenv("COLUMNS", "60")
    narrow = io.StringIO()
    REPORTER.render(_report(site), narrow)
    monkeypatch.setenv("COLUMNS", "160")
    wide = io.StringIO()
    get_reporter("text").render(_report(site), wide)
    [narrow_line] = _site_lines(narrow.getvalue())
    [wide_line] = _site_lines(wide.getvalue())
    assert visible_width(narrow_line) <= 60 < visible_width(wide_line) <= 160
    assert wide_line.endswith("passed to (*Client).logfWithAVeryLongName · interface-boxing")
    assert "…" in narrow_line


# --- colour, determinism, summary, verbose ----------------------------------------------


def test_colour_only_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    report = _report(*QUICKSTART)
    assert "\033[" not in _render(report)
    assert "\033[36mliteral" in _render(report, tty=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in _render(report, tty=True)


def test_same_records_in_any_order_give_the_same_bytes() -> None:
    sites = [
        *QUICKSTART,
        _site(3, 2, "g", "new", "new(T)", TypeInfo("example.com/p.T", 24, 8),
              package="example.com/p", file="p/p.go"),
        _site(9, 2, "f", "interface", "v", TypeInfo("example.com/p.U", 48, 0),
              "from return v (return)", package="example.com/p", file="p/p.go"),
    ]  # fmt: skip
    expected = _render(_report(*sites))
    shuffled = list(sites)
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        assert _render(_report(*shuffled)) == expected
    assert expected.index("command-line-arguments") < expected.index("example.com/p")
    assert re.search(r"\n  g  p\.go\n.*\n  f  p\.go\n", expected)  # source order, not names
    # p's own types print without the package name, as Go source in p writes them.
    assert re.search(r" v U  ", expected)
    assert " p.U" not in expected


def test_sites_inlined_from_other_files_name_their_file() -> None:
    here = _site(
        4,
        2,
        "init",
        "map",
        "make(map[string]int)",
        TypeInfo("map.hdr", 48, 8),
        file="pkg/a.go",
        package="example.com/pkg",
    )
    there = replace(here, pos=SourcePos("pkg/b.go", 17, 5))
    also_here = replace(here, pos=SourcePos("pkg/a.go", 9, 5))  # fmt: skip
    lines = _site_lines(_render(_report(here, there, also_here)))
    assert [line.split()[0] for line in lines] == ["4:2", "9:5", "b.go:17:5"]
    assert "  init  a.go, b.go" in _render(_report(here, there, also_here))


def test_summary_counts_paths_non_allocating_lines_and_skipped_packages() -> None:
    quiet = replace(
        QUICKSTART[1],
        allocates=False,
        call=None,
        prediction=None,
        notes=_note(NoteCode.UNCODED, "x"),
    )
    report = _report(*QUICKSTART, quiet, skipped=(SkippedPackage("example.com/bad", "error"),))
    summary = TextReporter().summary_line(report)
    assert summary.splitlines() == [
        "2 sites by path: 1 tiny, 1 small",
        "  constant size: 2 sites, 48 B once each (not per run), 0 B waste",
        "  1 escape line without an allocation",
        "  1 package skipped: example.com/bad",
    ]


def test_verbose_adds_note_allocator_entry_flow_and_legend() -> None:
    text = _render(_report(*QUICKSTART), verbose=True)
    assert "        runtime.mallocgcSmallNoScanSC4" in text
    per_span = QUICKSTART[0].prediction.objects_per_span if QUICKSTART[0].prediction else 0
    assert f"        allocator: 32→32 B class 4, span 9, {per_span} per span" in text
    assert "        flow: ~r0 ← &{storage for &smallStruct{}}" in text
    assert "          from return &smallStruct{} (return)" in text
    assert "key: literal = composite-literal, iface = interface" in text
    assert max(visible_width(line) for line in text.splitlines()) <= 80
    assert len(text.splitlines()) > len(_render(_report(*QUICKSTART)).splitlines())


def test_render_lines_is_80_columns_whatever_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    lines = render_lines(_report(*QUICKSTART))
    assert lines == _render(_report(*QUICKSTART)).splitlines()


def test_shortened_reasons_keep_method_receivers() -> None:
    site = _site(
        398, 27, "setRequestCancel", "moved-to-heap", "sync.d", TypeInfo("sync.d", 40, 8),
        "flow: {heap} ← &sync.d", "from sync.d.once (address-of)",
        "from (*sync.Once).Do(sync.d.once, func literal) (call parameter)",
        package="net/http", file="client.go",
    )  # fmt: skip
    assert first_reason(site) == "passed to (*sync.Once).Do"
    for width in range(60, 90):
        [line] = _site_lines(_render(_report(site), width))
        # Narrow: the expression (located by LINE:COL) gives way to the reason's words.
        free_text = line.split("span 10  ", 1)[1]
        reason = free_text.removeprefix("sync.d").strip()
        forms = ("passed to (*sync.Once).Do", "to (*sync.Once).Do")  # whole, or cut short
        assert any(form.startswith(reason.rstrip("…")) for form in forms), reason
        assert len(reason) >= 10, reason  # words, never a letter and an ellipsis
    assert "passed to (*sync.Once).Do" in _render(_report(site), 100)


def test_analysed_packages_without_sites_get_a_line() -> None:
    report = replace(_report(*QUICKSTART), packages=("command-line-arguments", "example.com/calm"))
    lines = _render(report).splitlines()
    assert "example.com/calm  no heap allocations" in lines
    assert lines.index("example.com/calm  no heap allocations") > lines.index(
        "command-line-arguments  2 sites, 48 B"
    )


def test_zero_length_make_is_zero_size_not_an_allocation() -> None:
    empty = _site(170, 12, "f", "make-slice", "make([]T, 0)", TypeInfo("main.T", 24, 8))
    empty = replace(empty, prediction=predict(0, True, RULES))
    [line] = _site_lines(_render(_report(empty)))
    assert line.split()[2:5] == ["0→0", "B", "none"]
    assert TextReporter().summary_line(_report(empty)).splitlines()[0] == "1 site by path: 1 none"


def test_generated_code_and_other_packages_instances_come_last() -> None:
    def at(file: str, line: int, function: str) -> Site:
        return _site(line, 2, function, "new", "new(T)", TypeInfo("p.T", 16, 0),
                     package="example.com/p", file=file)  # fmt: skip

    sites = [at("<autogenerated>", 1, "(*T).String"), at("maps/iter.go", 26, "Keys[int]"),
             at("p/b.go", 3, "b"), at("p/a.go", 40, "a")]  # fmt: skip
    text = _render(_report(*sites))
    order = re.findall(r"^  (\S+)  ", text, re.M)
    assert order[:4] == ["a", "b", "Keys[int]", "(*T).String"]


def test_every_assignment_flavour_names_its_target() -> None:
    for reason in ("assign", "assign-pair", "assign-pair-dot-type", "assign-pair-receive"):
        flow = ["flow: {heap} ← x", f"from Sink = x ({reason})"]
        assert escape_reason(_escape("x", *flow)) == "stored in Sink", reason


def test_fix_first_names_the_file_by_its_path_when_several_packages_are_reported() -> None:
    """`analyze std`: `io.go:45 ReadData` could be any of several io.go files."""
    returned = (
        "flow: ~r0 ← &{storage for &smallStruct{}}",
        "from &smallStruct{} (spill)",
        "from return &smallStruct{} (return)",
    )
    one = _site(
        14,
        9,
        "Read",
        "composite-literal",
        "&smallStruct{}",
        SMALL_STRUCT,
        *returned,
        package="example.com/a",
        file="a/io.go",
        entry="mallocgcSmallNoScanSC4",
    )
    other = replace(one, package="example.com/b", pos=SourcePos("b/io.go", 14, 9))
    text = _render(_report(one, other))
    assert "  1. a/io.go:14 Read · returned · 32 B" in text.splitlines()
    alone = _render(_report(one))
    assert "  1. io.go:14 Read · returned · 32 B" in alone.splitlines()
