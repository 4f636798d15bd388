"""Joins that went wrong on real code (go1.27.3 std), each reduced to a few lines.

Each test builds a small program with the pinned toolchain and checks the sites of one
function against what the compiler's listing and escape lines say there.
"""

from __future__ import annotations

from pathlib import Path

from escape_lens.analyze import analyze_targets
from escape_lens.records import Report, Site


def _report(go: Path, directory: Path, source: str) -> Report:
    (directory / "main.go").write_text(source, encoding="utf-8")
    return analyze_targets(["main.go"], go=str(go), cwd=str(directory))


def _allocating(report: Report, function: str) -> list[Site]:
    return [s for s in report.sites if s.function == function and s.allocates]


_TWO_ERRORS = """package main

import "errors"

var sink error

func check(a, b int) error {
\tif a < 0 {
\t\treturn errors.New("negative a")
\t}
\tif b < 0 {
\t\treturn errors.New("negative b")
\t}
\treturn nil
}

//go:noinline
func run(a, b int) {
\tsink = check(a, b)
}

func main() { run(-1, 2) }
"""


def test_two_identical_inlined_allocations_keep_their_diagnostics(
    pinned_go: Path, tmp_path: Path
) -> None:
    """`check` inlined into `run` brings two `errors.New` to one call position: the
    compiler states `&errors.errorString{...} escapes to heap` twice there (std:
    cryptobyte's `add` inlined into crypto/tls), and each of the two calls has one."""
    sites = _allocating(_report(pinned_go, tmp_path, _TWO_ERRORS), "run")
    assert len(sites) == 2
    for site in sites:
        assert site.diagnostic is not None, site
        assert site.expr == "&errors.errorString{...}"
        assert site.construct == "composite-literal"


_CLONED_FIELD = """package main

import "strings"

type NumError struct {
\tFunc string
\tNum  string
\tErr  error
}

func (e *NumError) Error() string { return e.Func + e.Num }

func syntaxError(fn, str string) *NumError {
\treturn &NumError{fn, strings.Clone(str), nil}
}

var sink error

//go:noinline
func run(fn, s string) {
\tsink = syntaxError(fn, s)
}

func main() { run("a", "b") }
"""


def test_inlined_literal_keeps_its_own_call(pinned_go: Path, tmp_path: Path) -> None:
    """`syntaxError` inlined into `run` states `&NumError{...}` and Clone's `make` at the
    call, with no order between them (std: strconv.toError, time.parse). Clone's
    `mallocgc` comes first in the listing and may explain either; the literal's own
    48-byte call explains only the literal, so each gets its own."""
    sites = {s.expr: s for s in _allocating(_report(pinned_go, tmp_path, _CLONED_FIELD), "run")}
    assert set(sites) == {"&NumError{...}", "make([]byte, len(stringslite.s))"}
    literal = sites["&NumError{...}"]
    assert literal.call is not None
    assert literal.call.type is not None
    assert literal.call.type.name == "main.NumError"
    assert literal.prediction is not None
    assert literal.prediction.class_bytes == 48
    assert sites["make([]byte, len(stringslite.s))"].call is not None


_PANIC_AND_SLICE_ERROR = """package main

type headerError []string

func (he headerError) Error() string { return he[0] }

func check(n int) error {
\tif n > 100 {
\t\tpanic("internal error: too large")
\t}
\tif n < 0 {
\t\treturn headerError{"negative"}
\t}
\treturn nil
}

var sink error

//go:noinline
func run(n int) {
\tsink = check(n)
}

func main() { run(3) }
"""


def test_a_statement_no_call_takes_keeps_its_site(pinned_go: Path, tmp_path: Path) -> None:
    """The calls inlined at `run`'s call of `check` (the slice literal's array and its
    boxing) must not use up the statements they were tried against: the constant boxed
    for `panic` is still a site, allocating nothing (std: bigmod.extendedGCD)."""
    report = _report(pinned_go, tmp_path, _PANIC_AND_SLICE_ERROR)
    stated = [s for s in report.sites if s.function == "run" and not s.allocates]
    assert [s.expr for s in stated] == ['"internal error: too large"']


_RANGE_OVER_FUNC = """package main

import "iter"

//go:noinline
func first(xs iter.Seq[int]) int {
\tfor x := range xs {
\t\tif x > 3 {
\t\t\treturn x
\t\t}
\t}
\treturn 0
}

func main() { println(first(func(yield func(int) bool) { yield(4) })) }
"""


def test_range_over_func_temporaries_are_said_as_what_they_are(
    pinned_go: Path, tmp_path: Path
) -> None:
    """A range-over-func loop whose body escapes moves the variables it is rewritten
    with to the heap (`moved to heap: #state1`, `#rv1`; std: reflect.Value.Comparable,
    go/doc.hasIota): the sites name them in words, not by the compiler's names."""
    moved = [
        s
        for s in _allocating(_report(pinned_go, tmp_path, _RANGE_OVER_FUNC), "first")
        if s.construct == "moved-to-heap"
    ]
    assert sorted(s.expr for s in moved) == [
        "a result returned from inside a range-over-func loop",
        "the state of a range-over-func loop",
    ]


_CLOSURE_COPIES = """package main

var sink []byte

func Make(n int) func() {
\treturn func() { sink = make([]byte, n) }
}

//go:noinline
func run(n int) {
\tMake(n)()
}

func main() {
\trun(3)
\tf := Make(4)
\tf()
}
"""


def test_each_copy_of_a_closure_keeps_its_statement(pinned_go: Path, tmp_path: Path) -> None:
    """`Make` inlined into `run` and `main` compiles its closure twice more
    (`Make.func1#<hash>#`), and the compiler states the closure's `make` in each copy,
    naming it with the hash (std: regexp's allSubmatch.func1-range1, testing/slogtest).
    Each copy's call keeps its statement, and no function is named with the hash."""
    report = _report(pinned_go, tmp_path, _CLOSURE_COPIES)
    copies = [s for s in report.sites if s.function == "Make.func1"]
    assert len(copies) == 3
    for site in copies:
        assert site.allocates
        assert site.diagnostic is not None, site
    assert not [s.function for s in report.sites if "#" in s.function]


_GENERIC_NEW = """package main

type box[T any] struct{ v T }

var sink any

//go:noinline
func Make[T any]() *box[T] {
\tp := new(box[T])
\tsink = p
\treturn p
}

func main() {
\tMake[int]()
\tMake[string]()
}
"""


def test_new_of_a_type_parameter_is_spelled_as_the_source_spells_it(
    pinned_go: Path, tmp_path: Path
) -> None:
    """The compiler prints a shape instance's `new(box[T])` as `new(<node DYNAMICTYPE>)`
    (std: errors.AsType's `new(E)`); the site says what the source says."""
    report = _report(pinned_go, tmp_path, _GENERIC_NEW)
    made = [s for s in report.sites if s.function.startswith("Make[") and s.allocates]
    assert len(made) == 2
    assert {s.expr for s in made} == {"new(box[T])"}


def test_a_constant_the_fips_module_boxes_at_run_time_is_its_calls(
    pinned_go: Path, tmp_path: Path
) -> None:
    """The FIPS module's packages box even a constant string at run time (`LEAQ
    go:string."..."` then `convTstring`): the `panic("...")` value is that call's site,
    not an escape line that allocates nothing beside a call no statement explains."""
    report = analyze_targets(["crypto/internal/fips140/aes"], go=str(pinned_go), cwd=str(tmp_path))
    encrypt = [
        s
        for s in report.sites
        if s.function == "(*Block).Encrypt" and s.expr.startswith('"crypto/aes: ')
    ]
    assert len(encrypt) == 3
    for site in encrypt:
        assert site.allocates, site
        assert site.entry == "convTstring"
    assert not [s for s in report.sites if s.function == "(*Block).Encrypt" and not s.expr]
