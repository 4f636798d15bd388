"""Causes, hints and the fix-first ranking on real compiler output, and the field orders
they suggest against the running runtime.

fixtures/advice has one function per cause category, structs whose best field order
reaches a smaller class or does not, and cold paths; the expectations below come from
the Go semantics (docs/analyze.md#causes-and-hints), not from the tool's output. The
runtime check builds a program with each struct as declared and as the hint reorders it
and measures bytes per allocation (runtime.MemStats): the runtime is right.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from escape_lens.advice.causes import SiteCause, cause_of
from escape_lens.advice.hints import hint_for
from escape_lens.advice.layout import site_layout
from escape_lens.advice.namedresults import chain_root
from escape_lens.advice.rank import fix_first
from escape_lens.analyze import analyze_targets
from escape_lens.inputs import source_reader
from escape_lens.model import rules_for
from escape_lens.parsers.flowedges import edges
from escape_lens.records import Report, Site
from escape_lens.toolchain.process import go_environ
from escape_lens.vocab import Cause, Construct
from tests.conftest import FIXTURES, fetch_toolchain

pytestmark = pytest.mark.slow

ADVICE = FIXTURES / "advice"
_REPORTS: dict[str, Report] = {}

# function, construct -> cause, what it went to, words the hint must hold.
TABLE: list[tuple[str, Construct, Cause, str, tuple[str, ...]]] = [
    ("NewLoose", Construct.COMPOSITE_LITERAL, Cause.RETURNED, "",
     ("return Loose (40 B) by value", "40 B → 48 B class: 8 B (17 %) wasted",
      "reordering fields to b, d, a, c, e reaches 24 B (24 B class)")),
    ("NewPTail", Construct.COMPOSITE_LITERAL, Cause.RETURNED, "",
     ("8 B of it padding", "reordering fields to z, p reaches 8 B (8 B class)")),
    ("NewWide", Construct.COMPOSITE_LITERAL, Cause.RETURNED, "",
     ("40 B → 48 B class", "no field order is smaller")),
    ("Print", Construct.INTERFACE, Cause.INTERFACE_BOXING, "fmt",
     ("the 8 B int is boxed for fmt", "values 0-255 do not allocate", "others take 16 B")),
    ("Box", Construct.INTERFACE, Cause.INTERFACE_BOXING, "Sink",
     ("string header is boxed", "an empty string does not allocate")),
    ("Big", Construct.MAKE_SLICE, Cause.TOO_LARGE_FOR_STACK, "",
     ("64 KiB limit", "sync.Pool", "104 KiB per call")),
    ("Store", Construct.COMPOSITE_LITERAL, Cause.GLOBAL, "Global",
     ("package variable Global",)),
    ("(*Holder).Set", Construct.COMPOSITE_LITERAL, Cause.STORED_TO_HEAP, "h.p",
     ("stored in h.p", "Exact (32 B) by value")),
    ("MethodValue", Construct.METHOD_VALUE, Cause.METHOD_VALUE, "returned",
     ("closure holding x (16 B per call)",)),
    ("Counter", Construct.MOVED_TO_HEAP, Cause.CLOSURE_CAPTURE, "",
     ("captured by reference", "int (8 B)")),
    ("NewMap", Construct.MAP, Cause.MAP, "returned", ("size hint",)),
    ("Cat", Construct.STRING_CONCAT, Cause.STRING_BUILDING, "returned", ("strings.Builder",)),
    # named results: the chain ends at the result with no return edge; the source says so
    ("Named", Construct.MAKE_SLICE, Cause.RETURNED, "",
     ("a returned slice: let the caller pass a buffer to append to",)),
    ("(*Holder).Pair", Construct.MAKE_SLICE, Cause.RETURNED, "",
     ("a returned slice: let the caller pass a buffer to append to",)),
    ("Refill", Construct.MAKE_SLICE, Cause.RETURNED, "",  # inlined from fresh
     ("a returned slice: let the caller pass a buffer to append to",)),
    # a map literal's entries are stored in the map; a //go:uintptrescapes argument
    ("Entries", Construct.COMPOSITE_LITERAL, Cause.STORED_TO_HEAP, "map",
     ("stored in map", "Exact (32 B) by value")),
    ("Address", Construct.COMPOSITE_LITERAL, Cause.PASSED_TO_CALL, "//go:uintptrescapes",
     ("as a uintptr to a //go:uintptrescapes function", "always move to the heap")),
    ("SetGetter", Construct.COMPOSITE_LITERAL, Cause.STORED_TO_HEAP, "h.get",
     ("stored in h.get",)),
    # does not escape (go1.25+), yet makeslice: no stack buffer for 40 B elements
    ("Scratch", Construct.MAKE_SLICE, Cause.UNKNOWN_SIZE, "",
     ("the length is known only at run time",)),
]  # fmt: skip


def _report(version: str) -> Report:
    if version not in _REPORTS:
        go = None if version == "pinned" else str(fetch_toolchain(version))
        _REPORTS[version] = analyze_targets(["./..."], go=go, cwd=str(ADVICE))
    return _REPORTS[version]


def _site(report: Report, function: str, construct: Construct) -> Site:
    found = [s for s in report.sites if s.function == function and s.construct == construct]
    assert len(found) == 1, (function, construct, found)
    return found[0]


@pytest.mark.parametrize("version", ["pinned", "1.21.13"])
def test_constructs_get_their_cause_and_a_hint_in_their_own_figures(version: str) -> None:
    report = _report(version)
    rules = rules_for(report.toolchain.version)
    source = source_reader(report.root)
    for function, construct, category, via, words in TABLE:
        site = _site(report, function, construct)
        cause = cause_of(site, source)
        assert (cause.category, cause.via) == (category, via), function
        hint = hint_for(site, rules, cause).text
        for word in words:
            assert word in hint, (function, word, hint)
    growth = [s for s in report.sites if s.function == "Grow" and s.construct == Construct.APPEND]
    assert growth
    assert all(cause_of(s).category == Cause.SLICE_GROWTH for s in growth)
    assert any("make([]int64, 0, n)" in hint_for(s, rules).text for s in growth)
    goroutine = [s for s in report.sites if s.function == "Start"]
    assert goroutine
    assert all(cause_of(s).category == Cause.GOROUTINE for s in goroutine)


@pytest.mark.parametrize("version", ["pinned", "1.21.13"])
def test_a_chain_that_ends_at_a_variable_is_told_a_return_or_a_variable_kept_past_a_loop(
    version: str,
) -> None:
    report = _report(version)
    source = source_reader(report.root)
    named = _site(report, "Named", Construct.MAKE_SLICE)
    kept = _site(report, "Kept", Construct.COMPOSITE_LITERAL)
    # The same chain shape (`flow: out ← ...` / `flow: last ← ...`, an assign, no return):
    # only the declaration tells `out` a result and `last` a variable kept past a loop.
    assert named.diagnostic is not None
    assert kept.diagnostic is not None
    reasons = [[edge.reason for edge in edges(d)] for d in (named.diagnostic, kept.diagnostic)]
    assert reasons[0] == reasons[1] == ["spill", "assign"]
    assert cause_of(named, source) == SiteCause(Cause.RETURNED)
    assert cause_of(kept, source) == SiteCause(Cause.KEPT_PAST_SCOPE, "last")
    rules = rules_for(report.toolchain.version)
    hint = hint_for(kept, rules, cause_of(kept, source)).text
    assert "in a loop, make one Exact (32 B) before it and reuse it" in hint
    # without the source, nothing known: either would be a guess
    assert cause_of(named).category == cause_of(kept).category == Cause.UNKNOWN


def test_a_struct_that_wastes_nothing_is_never_told_to_shrink() -> None:
    report = _report("pinned")
    hint = hint_for(
        _site(report, "NewExact", Construct.COMPOSITE_LITERAL), rules_for(report.toolchain.version)
    ).text
    assert hint == "return Exact (32 B) by value"


def test_cold_paths_rank_after_every_other_site() -> None:
    report = _report("pinned")
    ranked = fix_first(
        report.sites, rules_for(report.toolchain.version), source_reader(report.root)
    )
    cold = {c.site.function: c.cold for c in ranked if c.cold}
    assert cold == {
        "init.func1": "a sync.Pool's New (runs only when the pool is empty)",
        "init.func2": "a sync.Once body",  # Lazy's function, which sync.OnceValue runs once
        "Serve.func1": "after recover(): the panic path",
        "Fail": "a panic's value",
    }
    first_cold = next(n for n, c in enumerate(ranked) if c.cold)
    assert all(c.cold for c in ranked[first_cold:])
    # Bytes decide among the rest: the 104 KiB buffer first, then the 48 B structs.
    assert [c.site.function for c in ranked[:3]] == ["Big", "NewLoose", "NewWide"]
    # The pool's and the panic path's 104 KiB weigh more than all of them, yet come last.
    assert max(c.weight for c in ranked if c.cold) > ranked[1].weight


_MEASURE = """package main

import (
	"fmt"
	"runtime"
)

{types}

{sinks}

// perAlloc is the bytes one call of f takes, from a round in which f's allocations were
// the only ones (the runtime allocates now and then on its own: such a round is repeated).
func perAlloc(f func()) uint64 {{
	const n = 100000
	for round := 0; round < 50; round++ {{
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 0; i < n; i++ {{
			f()
		}}
		runtime.ReadMemStats(&after)
		if after.Mallocs-before.Mallocs == n {{
			return (after.TotalAlloc - before.TotalAlloc) / n
		}}
	}}
	panic("no round allocated exactly once per call")
}}

func main() {{
{measures}
}}
"""


def test_suggested_field_orders_reach_the_predicted_class_at_run_time(tmp_path: Path) -> None:
    report = _report("pinned")
    rules = rules_for(report.toolchain.version)
    types, sinks, measures, expected = [], [], [], {}
    for function in ("NewLoose", "NewPTail"):
        site = _site(report, function, Construct.COMPOSITE_LITERAL)
        layout = site_layout(site, rules)
        assert layout is not None, function
        assert layout.recoverable > 0, function
        name = layout.type.name.rpartition(".")[2]
        for variant, fields in (("Declared", layout.type.fields), ("Reordered", layout.order)):
            body = "; ".join(f"{f.name} {f.type}" for f in fields)
            types.append(f"type {name}{variant} struct {{ {body} }}")
            sinks.append(f"var sink{name}{variant} *{name}{variant}")
            measures.append(
                f'\tfmt.Println("{name}{variant}", '
                f"perAlloc(func() {{ sink{name}{variant} = new({name}{variant}) }}))"
            )
        expected[f"{name}Declared"] = layout.class_bytes
        expected[f"{name}Reordered"] = layout.best_class_bytes
    program = tmp_path / "main.go"
    program.write_text(
        _MEASURE.format(
            types="\n".join(types), sinks="\n".join(sinks), measures="\n".join(measures)
        )
    )
    (tmp_path / "go.mod").write_text("module measure\n\ngo 1.21\n")
    go = report.toolchain.path
    run = subprocess.run(
        [go, "run", "."], cwd=tmp_path, env=go_environ(), capture_output=True, text=True,
        timeout=600, check=True,
    )  # fmt: skip
    measured = {
        name: int(value)
        for name, value in (line.split() for line in run.stdout.split("\n") if line)
    }
    assert measured == expected
    assert expected == {
        "LooseDeclared": 48,
        "LooseReordered": 24,
        "PTailDeclared": 16,
        "PTailReordered": 8,
    }


def test_json_carries_cause_hint_and_fix_first(tmp_path: Path) -> None:
    from escape_lens.reporters.json_report import report_to_dict

    data = json.loads(json.dumps(report_to_dict(_report("pinned"))))
    by_function = {s["function"]: s for s in data["sites"] if s["allocates"]}
    assert by_function["Print"]["cause"] == "interface-boxing"
    assert by_function["Print"]["cause_via"] == "fmt"
    assert "values 0-255" in by_function["Print"]["hint"]
    first = data["fix_first"][0]
    assert (first["function"], first["cause"], first["recoverable_bytes"]) == (
        "Big",
        "too-large-for-stack",
        106496,
    )
    assert data["sites"][first["site"]]["function"] == "Big"
    assert first["low_priority"] is None


@pytest.fixture(scope="module")
def http_report(pinned_go: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    cwd = tmp_path_factory.mktemp("advice-http")
    return analyze_targets(["net/http"], go=str(pinned_go), cwd=str(cwd))


def test_net_http_first_advice_is_not_a_cold_path(http_report: Report) -> None:
    from escape_lens.advice.rank import cold_reason

    rules = rules_for(http_report.toolchain.version)
    source = source_reader(http_report.root)
    ranked = fix_first(http_report.sites, rules, source)
    assert len(ranked) > 50
    # The panic stack-dump buffer and the copy buffers' Pool.New are found, and cold.
    panic_buffer = [
        s
        for s in http_report.sites
        if s.function == "(*conn).serve.func1" and s.expr.startswith("make([]byte")
    ]
    assert panic_buffer
    assert {cold_reason(s, cause_of(s), source) for s in panic_buffer} == {
        "after recover(): the panic path"
    }
    pool_new = [
        s
        for s in http_report.sites
        if s.function.startswith("init.func") and s.expr == "new([32768]byte)"
    ]
    assert pool_new
    assert {cold_reason(s, cause_of(s), source) for s in pool_new} == {
        "a sync.Pool's New (runs only when the pool is empty)"
    }
    top = ranked[:5]
    assert not any(c.cold for c in top)
    assert not any(c.site in (*panic_buffer, *pool_new) for c in top)
    assert not any(re.search(r"(^|\.)init(\.|$)", c.site.function) for c in top)
    first_cold = next(n for n, c in enumerate(ranked) if c.cold)
    assert all(c.cold for c in ranked[first_cold:])
    assert {c.cold for c in ranked if c.cold} >= {"a panic's value"}


def test_net_http_no_hint_shrinks_what_wastes_nothing(http_report: Report) -> None:
    rules = rules_for(http_report.toolchain.version)
    laid_out = 0
    for site in http_report.sites:
        hint = hint_for(site, rules)
        layout = site_layout(site, rules)
        if layout is not None:
            laid_out += 1
        if "reordering fields" in hint.text:
            assert layout is not None
            assert layout.recoverable > 0, hint.text  # it reaches a smaller class
            assert layout.best_class_bytes < layout.class_bytes
        if site.waste_bytes == 0:
            assert "wasted" not in hint.text, hint.text
        if not site.allocates:
            assert hint.text == ""
    assert laid_out > 0  # net/http's own structs do carry their fields


@pytest.mark.parametrize(("fmt", "verbose"), [("json", False), ("text", True), ("html", False)])
def test_each_site_is_advised_once_per_report(
    fmt: str, verbose: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ranking and the rendering of one report share each site's cause and hint: a
    # rule worked out twice could say two things (and std has ~35 000 sites).
    import io

    from escape_lens.advice import rank
    from escape_lens.reporters import get_reporter

    report = _report("pinned")
    asked: dict[str, list[int]] = {"cause": [], "hint": []}

    def counted(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(site: Site, *args: Any, **kwargs: Any) -> Any:
            asked[name].append(id(site))
            return real(site, *args, **kwargs)

        return call

    monkeypatch.setattr(rank, "cause_of", counted("cause", rank.cause_of))
    monkeypatch.setattr(rank, "hint_for", counted("hint", rank.hint_for))
    get_reporter(fmt, verbose=verbose).render(report, io.StringIO())
    allocating = {id(s) for s in report.sites if s.allocates}
    for name, ids in asked.items():
        assert len(ids) == len(set(ids)), (fmt, name)  # never twice
        assert allocating <= set(ids), (fmt, name)  # and every allocating site


_ALLOCS = """package main

import (
	"fmt"
	"testing"

	"example.com/advice"
)

func main() {
	for _, f := range []func(int) []int64{advice.Prealloc, advice.LengthOnly, advice.Grow} {
		fmt.Println(testing.AllocsPerRun(100, func() { _ = f(1000) }))
	}
	fmt.Println(testing.AllocsPerRun(100, func() { _ = advice.PreallocLocal(make([]int64, 8)) }))
}
"""


def test_an_append_to_a_slice_made_with_a_capacity_is_not_told_to_preallocate(
    tmp_path: Path,
) -> None:
    from escape_lens.advice.report import ReportAdvice
    from escape_lens.reporters.json_report import report_to_dict

    report = _report("pinned")
    advice = ReportAdvice(report)
    rows = report_to_dict(report)["sites"]
    hints = {}
    for function in ("Prealloc", "PreallocLocal", "LengthOnly", "Grow"):
        appends = [
            (index, site)
            for index, site in enumerate(report.sites)
            if site.function == function and site.construct == Construct.APPEND and site.pos.col
        ]
        assert len(appends) == 1, (function, appends)
        index, site = appends[0]
        assert advice.of(site).cause.category == Cause.SLICE_GROWTH, function
        hints[function] = advice.of(site).hint.text
        assert rows[index]["hint"] == (hints[function] or None), function
    # `s := make([]int64, 0, n)` / `var s = make([]int64, 0, 8)`: preallocated already
    assert hints["Prealloc"] == hints["PreallocLocal"] == ""
    # made with a length, or not made at all: a capacity is the advice
    assert "preallocate: make([]int64, 0, n)" in hints["LengthOnly"]
    assert "preallocate: make([]int64, 0, n)" in hints["Grow"]
    # The runtime agrees: with the capacity, the appends never allocate (the make does,
    # once); made with a length or from nil, they do, again and again.
    (tmp_path / "go.mod").write_text(
        f"module allocs\n\ngo 1.21\n\nrequire example.com/advice v0.0.0\n\n"
        f"replace example.com/advice => {ADVICE}\n"
    )
    (tmp_path / "main.go").write_text(_ALLOCS)
    run = subprocess.run(
        [report.toolchain.path, "run", "."], cwd=tmp_path, env=go_environ(),
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    prealloc, length_only, grow, local = (float(n) for n in run.stdout.split())
    assert prealloc == 1
    assert local == 0
    assert length_only > 2
    assert grow > 2


def test_an_inlined_callees_variable_in_init_is_a_variable_kept_past_scope() -> None:
    # `var Lazy = sync.OnceValue(...)`: the function literal ends at sync.OnceValue's `d`,
    # captured by the closures it returns; init has no results, so no source is needed.
    report = _report("pinned")
    kept = [s for s in report.sites if s.function == "init" and chain_root(s) == "sync.d"]
    assert [s.construct for s in kept] == [Construct.CLOSURE]
    assert cause_of(kept[0]) == SiteCause(Cause.KEPT_PAST_SCOPE, "sync.d")
