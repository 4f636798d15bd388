"""The join: escape diagnostics and allocation calls become allocation *sites*.

The escape diagnostics (`-m=2`) say why something goes to the heap; the assembly (`-S`)
shows the runtime call that allocates. Neither alone is the truth: what real compiler
output does, and so why these rules, is in docs/design.md §5.

Rules, in the order they are applied:
1. Every allocation call is a site, with or without an escape line behind it.
2. A call pairs with an unused diagnostic of its own function on its line whose
   construct its entry may explain (`EXPLAINS`, escape_lens/entries.py), by what the
   listing proves (types, evaluation order: escape_lens/pairing.py); undecided choices
   are said (`pairing-undecided`). Stack-buffer calls: escape_lens/stackbuf.py.
3. An inlined call is a site of the function it was inlined into, at its `call_pos`
   (the inline tree), with the callee's line in `inlined_from`; a call without
   `call_pos` looks for a compatible diagnostic anywhere in the caller naming its type.
4. An escape line without a call is a site with `allocates=False` and a coded note
   saying why (batched, inlined elsewhere, generic shape, no boxing, on the stack).
5. Generic code keeps the compiler's shape names: each shape is a site of its own.
6. Predictions come from escape_lens/predict.py, with the size-specialized self-check.
7. Binary mode calls the join with calls only: rules needing a diagnostic do not fire.

Closure copies (`F.func1#hash#`) are reported once per copy under `F.func1`, with a
note: a linked binary may keep fewer (docs/accuracy.md). Constructs are
`vocab.Construct`; every note carries a `vocab.NoteCode`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from escape_lens import model
from escape_lens.entries import EXPLAINS, entry_family, explains
from escape_lens.errors import EscapeLensError
from escape_lens.gonames import (
    SHAPE_PREFIX,
    enclosing_function,
    is_closure,
    is_closure_record,
    is_shape,
    package_of,
    short_function,
)
from escape_lens.gotypes import resolve_type
from escape_lens.inputs import MAX_SOURCE_BYTES, read_regular
from escape_lens.pairing import (
    Kind,
    Shape,
    agrees,
    bare_name,
    call_shape,
    diagnostic_shape,
    evaluation_key,
    scan,
)
from escape_lens.parsers.flowedges import MAP_LITERAL_REASONS
from escape_lens.predict import (
    SLICE_MOVED,
    Estimate,
    first_insert,
    predict_call,
    predict_make_copy,
)
from escape_lens.records import (
    AllocCall,
    EscapeDiagnostic,
    FlowStepKind,
    FunctionSpan,
    GoVersion,
    Note,
    Origin,
    PackageOutput,
    Prediction,
    Site,
    SourcePos,
    TypeInfo,
)
from escape_lens.stackbuf import StackBuffer, stack_buffer
from escape_lens.vocab import Construct, EntryFamily, EscapeKind, NoteCode

CONSTRUCTS = tuple(Construct)

# Diagnostic kinds that can stand behind an allocation; the others (leaking-param, ...)
# describe data flow, not storage.
_ESCAPING_KINDS = frozenset({EscapeKind.ESCAPES, EscapeKind.MOVED_TO_HEAP})
_STACK_KINDS = frozenset({EscapeKind.DOES_NOT_ESCAPE})


def diagnostic_construct(diag: EscapeDiagnostic) -> Construct | None:
    """The construct a diagnostic talks about, or None when it cannot be an allocation."""
    if diag.kind == EscapeKind.MOVED_TO_HEAP:
        return Construct.MOVED_TO_HEAP
    subject = diag.subject.strip()
    if subject == "func literal":
        return Construct.CLOSURE
    if subject.startswith("new("):
        return Construct.NEW
    if subject.startswith(("make([]", "make([")):
        return Construct.MAKE_SLICE
    if subject.startswith("make(map"):
        return Construct.MAP
    if subject.startswith("make(chan"):
        return Construct.CHAN
    if subject.startswith("map[") and subject.endswith("}"):
        return Construct.MAP  # a map literal: makemap_small / makemap, never a boxing
    if subject.startswith("make("):
        return Construct.MAKE  # of a defined type (`make(Cache, n)`): slice, map or chan
    if subject == "append" or subject.startswith("append("):
        return Construct.APPEND
    if _top_level_plus(subject):
        return Construct.STRING_CONCAT  # `string(r) + "x"` is a concatenation
    if subject.startswith(("([]byte)(", "[]byte(")):
        return Construct.BYTES_CONVERSION
    if subject.startswith(("([]rune)(", "[]rune(")):
        return Construct.RUNES_CONVERSION
    if subject.startswith("string("):
        return Construct.STRING_CONVERSION
    if subject.startswith(("&", "[]")) or subject == "... argument":
        return Construct.COMPOSITE_LITERAL
    if re.match(r"^\[\d+\]", subject):
        return Construct.INTERFACE  # an array value: only its boxing allocates
    if " + " in subject:
        return Construct.STRING_CONCAT
    if subject.startswith("{") or subject.endswith(" argument"):
        return None  # compiler-internal storage (`{storage for ...}`), not an expression
    return Construct.INTERFACE


def _top_level_plus(subject: str) -> bool:
    """Whether `subject` is a sum: a ` + ` outside brackets and quotes."""
    return " + " in subject and len(_operands(subject)) > 1


@dataclass(frozen=True, slots=True)
class _Diag:
    diag: EscapeDiagnostic
    construct: Construct
    function: str  # short name; "" when unknown
    escaping: bool
    shape: Shape | None = None


_CONVERSIONS = frozenset(
    {
        Construct.COMPOSITE_LITERAL,  # `[]T{...}` boxed: the backing array, then the box
        Construct.BYTES_CONVERSION,
        Construct.RUNES_CONVERSION,
        Construct.STRING_CONVERSION,
        Construct.STRING_CONCAT,
    }
)


_BOXED_RESULT = {
    Construct.COMPOSITE_LITERAL: Shape(Kind.SLICE),
    Construct.BYTES_CONVERSION: Shape(Kind.SLICE),
    Construct.RUNES_CONVERSION: Shape(Kind.SLICE),
    Construct.STRING_CONVERSION: Shape(Kind.STRING),
    Construct.STRING_CONCAT: Shape(Kind.STRING),
}


def _converted(diag: EscapeDiagnostic) -> bool:
    """Whether the flow says this value is then converted to an interface: the diagnostic
    is the conversion's own, and a second one with the same subject is the boxing."""
    return any(step.reason == "interface-converted" for step in diag.flow)


def _constructs(
    diagnostics: Sequence[EscapeDiagnostic], spelled: Sequence[Construct | None]
) -> list[Construct | None]:
    """The construct of each diagnostic, telling a conversion from the boxing of its
    result (`sink = []byte(s)`, `fmt.Print(a + b)`).

    Both are stated with the same subject: the boxing at the conversion's column (or the
    operator's, for a concatenation), the conversion one column on (or at the same
    column); `-m=2` says which is which: the conversion's value is `interface-converted`
    into the boxing. Of a pair at one position the second statement is the boxing.
    """
    constructs = _defined_slice_literals(diagnostics, spelled)
    converted: dict[tuple[str, int, str], set[int]] = {}
    for diag, construct in zip(diagnostics, constructs, strict=True):
        if construct in _CONVERSIONS and _converted(diag):
            converted.setdefault((diag.pos.file, diag.pos.line, diag.subject), set()).add(
                diag.pos.col
            )
    if not converted:
        return constructs
    seen: dict[tuple[SourcePos, str, bool], int] = {}
    for index, (diag, construct) in enumerate(zip(diagnostics, constructs, strict=True)):
        cols = converted.get((diag.pos.file, diag.pos.line, diag.subject))
        if construct not in _CONVERSIONS or cols is None:
            continue
        if diag.pos.col not in cols:
            constructs[index] = Construct.INTERFACE
            continue
        # Both at one column: the header with the conversion's flow is the conversion,
        # the other header is the boxing; of the two verdicts, the second.
        if diag.flow:
            if not _converted(diag):
                constructs[index] = Construct.INTERFACE
            continue
        key = (diag.pos, diag.subject, bool(diag.flow))
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            constructs[index] = Construct.INTERFACE
    return constructs


# `T{...}`: a composite literal spelled by its (defined) type's name.
_NAMED_LITERAL = re.compile(r"^[\w.]+\{")


def _defined_slice_literals(
    diagnostics: Sequence[EscapeDiagnostic], spelled: Sequence[Construct | None]
) -> list[Construct | None]:
    """`spelled`, with the literals of a defined slice type that are boxed where they
    are written (`return headerError{...}`) told as literals: such a literal is stated
    twice at its position with one subject, the backing array (its storage
    `interface-converted` into the boxing) and the boxing. Its name does not say it is
    a slice (`diagnostic_construct` takes `T{...}` for a boxed value); the pair of flows
    does. A struct, array or map literal boxed is stated once (the map's one flow is
    converted too: the map is not the boxing's storage)."""
    flows: dict[tuple[SourcePos, str], list[bool]] = {}
    for diag, construct in zip(diagnostics, spelled, strict=True):
        if construct == Construct.INTERFACE and diag.flow and _NAMED_LITERAL.match(diag.subject):
            converted = any(
                step.reason == "interface-converted" and step.pos == diag.pos for step in diag.flow
            )
            flows.setdefault((diag.pos, diag.subject), []).append(converted)
    pairs = {key for key, converted in flows.items() if sorted(converted) == [False, True]}
    holders = _literals_holding_elements(diagnostics)
    told: list[Construct | None] = []
    for diag, construct in zip(diagnostics, spelled, strict=True):
        key = (diag.pos, diag.subject)
        if construct == Construct.INTERFACE and _NAMED_LITERAL.match(diag.subject):
            construct = holders.get(key, Construct.COMPOSITE_LITERAL if key in pairs else construct)
        told.append(construct)
    return told


_HOLDING = {"slice-literal-element": Construct.COMPOSITE_LITERAL}
_HOLDING.update(dict.fromkeys(MAP_LITERAL_REASONS, Construct.MAP))


def _literals_holding_elements(
    diagnostics: Sequence[EscapeDiagnostic],
) -> dict[tuple[SourcePos, str], Construct]:
    """`T{...}` literals that another value's flow is stored into as an element: a slice
    literal (`from Options{...} (slice-literal-element)`) or a map literal (`map literal
    key`/`value`), whatever T's name says; such a literal is its own allocation (the
    backing array, the map), not the boxing of a struct value."""
    found: dict[tuple[SourcePos, str], Construct] = {}
    for diag in diagnostics:
        for step in diag.flow:
            held = _HOLDING.get(step.reason) if step.kind == FlowStepKind.EDGE else None
            if held is not None and step.pos is not None:
                found[(step.pos, step.expression)] = held
    return found


def _spans_by_short(functions: Iterable[FunctionSpan]) -> dict[str, FunctionSpan]:
    return {short_function(span.name): span for span in functions}


def _owner(pos: SourcePos, functions: Sequence[FunctionSpan]) -> str:
    """The innermost compiled function whose lines contain `pos` ("" when none does)."""
    containing = [
        span
        for span in functions
        if span.file == pos.file and span.first_line <= pos.line <= span.last_line
    ]
    if not containing:
        return ""
    best = min(containing, key=lambda span: (span.last_line - span.first_line, span.name))
    return short_function(best.name)


def _short_diag_function(name: str, span_names: frozenset[str]) -> str:
    """A diagnostic's function as a short name, whether the compiler or the build named it."""
    if not name:
        return ""
    if "/" in name.split("[", 1)[0] or name in span_names:
        return short_function(name)
    return name


def _enclosing(function: str, pos: SourcePos, span_starts: frozenset[tuple[str, str, int]]) -> str:
    """The function that allocates a func literal: not the literal's own body.

    When the compiler does not name the function, the spans place a `func literal`
    line inside the literal itself (`F.func1` starts on that line); the closure
    struct is allocated by the enclosing function `F`. `span_starts` holds each span's
    (short name, file, first line).
    """
    parent = enclosing_function(function)
    if parent is None:
        return function
    return parent if (function, pos.file, pos.line) in span_starts else function


def _prepare(
    diagnostics: Iterable[EscapeDiagnostic], functions: Sequence[FunctionSpan]
) -> list[_Diag]:
    """Allocation-related diagnostics, one per fact, each with its construct and function.

    `-m=2` states some facts twice: a flow header (`x escapes to heap in F:`) and a
    verdict (`moved to heap: x`, `append escapes to heap`) at the same position. The two
    become one diagnostic: the verdict's kind, the longer subject, the flow that exists.
    Different subjects at one position are different facts (an inlined call site holds
    all the callee's allocations: `moved to heap: .autotmp_3` and `.autotmp_4`,
    `io.nopCloser{...}` and `io.nopCloserWriterTo{...}`), except for `append`, which
    the header spells with its arguments and the verdict without.
    """
    by_pos: dict[tuple[SourcePos, Construct, str], list[EscapeDiagnostic]] = {}
    moved: set[tuple[SourcePos, str]] = set()
    relevant = [d for d in diagnostics if d.kind in _ESCAPING_KINDS or d.kind in _STACK_KINDS]
    spelled = [diagnostic_construct(d) for d in relevant]
    original = {id(d): c for d, c in zip(relevant, spelled, strict=True)}
    for diag, construct in zip(relevant, _constructs(relevant, spelled), strict=True):
        if construct is None:
            continue
        subject = "" if construct == Construct.APPEND else diag.subject
        by_pos.setdefault((diag.pos, construct, subject), []).append(diag)
        if diag.kind == EscapeKind.MOVED_TO_HEAP:
            moved.add((diag.pos, diag.subject))
    span_names = frozenset(span.name for span in functions)
    span_starts = frozenset(
        (short_function(span.name), span.file, span.first_line) for span in functions
    )
    prepared: list[_Diag] = []
    facts: list[tuple[SourcePos, Construct, str, list[EscapeDiagnostic]]] = []
    for (pos, construct, subject), group in by_pos.items():
        if construct == Construct.INTERFACE and (pos, subject) in moved:
            continue  # the header of a `moved to heap` verdict, merged below
        if construct == Construct.MOVED_TO_HEAP:
            group = [*group, *by_pos.get((pos, Construct.INTERFACE, subject), [])]
        facts.extend((pos, construct, subject, fact) for fact in _facts(group, pos, functions))
    for pos, construct, subject, group in facts:
        if len(group) == 1:  # most facts are stated once: what the merge below gives
            verdict = group[0]
            flow, subject, named = verdict.flow, verdict.subject, verdict.function
        else:
            verdict = max(
                group,
                key=lambda d: (d.kind == EscapeKind.MOVED_TO_HEAP, d.kind == EscapeKind.ESCAPES),
            )
            flow = max((d.flow for d in group), key=len)
            subject = verdict.subject
            if construct != Construct.MOVED_TO_HEAP:
                subject = max((d.subject for d in group if d.kind == verdict.kind), key=len)
            named = next((d.function for d in group if d.function), "")
        # A closure's copy (`F.func1#<hash>#`, docs/design.md §5) is named as the listing
        # names its code, without the hash.
        named = _shape_instance(_INLINE_HASH.sub("", named), subject, pos, functions)
        function = _short_diag_function(named, span_names) or _owner(pos, functions)
        if construct == Construct.CLOSURE:
            function = _enclosing(function, pos, span_starts)
        merged = EscapeDiagnostic(
            verdict.pos, verdict.kind, subject, verdict.message, flow, function
        )
        escaping = verdict.kind in _ESCAPING_KINDS
        shape = diagnostic_shape(subject, construct, any(_converted(d) for d in group))
        first = original[id(verdict)]
        if construct == Construct.INTERFACE and first in _CONVERSIONS:
            shape = _BOXED_RESULT[first]  # the boxing of a conversion's result
        prepared.append(_Diag(merged, construct, function, escaping, shape))
    prepared.sort(key=lambda d: (d.diag.pos, not d.escaping, d.construct))
    return prepared


def _facts(
    group: list[EscapeDiagnostic], pos: SourcePos, functions: Sequence[FunctionSpan]
) -> list[list[EscapeDiagnostic]]:
    """The facts one position's statements of one construct and subject make: one,
    unless the same verdict is stated several times with the same flow. A function
    inlined at one call with two identical allocations (`errors.New` on two paths of
    the callee) gives two `&errors.errorString{...} escapes to heap` at the call, each
    with the same flow header: two objects, two calls, and each keeps its own
    diagnostic. Headers no verdict claimed go, in order, to the verdicts that have no
    flow of their own. A closure compiled twice (`F.func1` and its copy `F.func1#<hash>#`
    where F is inlined) states its allocations once per copy: a fact for each copy's
    calls, whatever the copy is named (`F.func1`, `F.1#<hash>#`). Where go1.21 names no
    function, repeats stay one fact. In a generic function
    the repeats are its shape instances' (one statement each, go1.21 naming none): one
    fact, which the instances share (`_Matcher.sibling_instance`)."""
    if len(group) < 2:
        return [group]
    messages: dict[str, list[EscapeDiagnostic]] = {}
    for diag in group:
        messages.setdefault(diag.message, []).append(diag)
    verdicts = max(messages.values(), key=len)
    first = verdicts[0]
    if len(verdicts) < 2 or any(v.flow != first.flow for v in verdicts):
        # Different flows are one statement's two objects (`Sink = make([]int, n)`: the
        # array and its boxing), told apart later (`_constructs`, the boxing's entry).
        return [group]
    if not all(v.function for v in verdicts):
        return [group]  # go1.21 names no function: its repeats are not told apart
    if any(
        is_shape(span.name)
        for span in functions
        if span.file == pos.file and span.first_line <= pos.line <= span.last_line
    ):
        return [group]
    headers = [d for d in group if d.message != verdicts[0].message]
    split: list[list[EscapeDiagnostic]] = []
    for verdict in verdicts:
        header = headers.pop(0) if headers and not verdict.flow else None
        split.append([verdict] if header is None else [verdict, header])
    split[-1].extend(headers)
    return split


_SHAPE_ARGS = re.compile(r"\[(go\.shape\.[^\]]*)\]")


def _shape_instance(
    named: str, subject: str, pos: SourcePos, functions: Sequence[FunctionSpan]
) -> str:
    """The shape instance a diagnostic spelling a shape type belongs to: go1.21 does
    not name the function in `-m=2`, and the spans of all instances of a generic
    function cover the same lines, so the shape in the subject decides."""
    if SHAPE_PREFIX not in subject:
        return named
    owned = _SHAPE_ARGS.search(named)
    if owned is not None and all(arg in subject for arg in owned.group(1).split(",")):
        return named
    for span in functions:
        args = _SHAPE_ARGS.search(span.name)
        if (
            args is not None
            and span.file == pos.file
            and span.first_line <= pos.line <= span.last_line
            and all(arg in subject for arg in args.group(1).split(","))
        ):
            return span.name
    return named


_STATEMENT_WRAPPER = re.compile(r"\.(?:deferwrap|gowrap)\d+$")


def _in_wrapper(pos: SourcePos) -> bool:
    """Whether `pos` is in a method wrapper the compiler made (`<autogenerated>:1`)."""
    return pos.file.startswith("<autogenerated>")


def _is_inlined(call: AllocCall) -> bool:
    """`call_pos` says so: from the compiler's inlining tables (source mode) or the
    binary's inline tree. The function spans cannot: `init` runs the package-level
    initialisers of every file, own code far outside its span."""
    return call.call_pos is not None


# The constructs a family is named for: preferred to the ones it may also explain (a
# `newobject` is a `&T{}` before it is a boxing; a `convT64` a boxing before an `a + b`).
_NATIVE: dict[EntryFamily, frozenset[Construct]] = {
    EntryFamily.OBJECT: frozenset(
        {
            Construct.NEW,
            Construct.COMPOSITE_LITERAL,
            Construct.CLOSURE,
            Construct.MOVED_TO_HEAP,
            Construct.METHOD_VALUE,
        }
    ),
    EntryFamily.INTERFACE: frozenset({Construct.INTERFACE}),
}


def _boxes_this_constant(call: AllocCall, item: _Diag) -> bool:
    """Whether `call` boxes the string constant `item` is about: its own straight line
    loads that string (`LEAQ go:string."..."(SB)` before `convTstring`). A constant
    usually needs no call (a read-only box), but the FIPS module's packages
    (crypto/internal/fips140/...) box even constants at run time: the listing is the
    proof (std go1.27.3: 155 `panic("...")` values)."""
    subject = item.diag.subject
    if call.entry != "convTstring" or item.construct != Construct.INTERFACE:
        return False
    if not subject.startswith('"'):
        return False
    loaded = f"go:string.{subject}(SB)"
    return any(loaded in line for line in call.asm)


def _evaluation(item: _Diag, text: str | None) -> tuple[int, int, bool]:
    """The diagnostic's place in the line's evaluation order; of two at one column (a
    concatenation and the boxing of its result) the boxing comes second."""
    value = item.construct == Construct.INTERFACE
    return (*evaluation_key(text, item.diag.pos.col, value), value)


# From go1.22 a one-byte boxing's `runtime.staticuint64s` is where the boxing is in the
# listing; go1.21 hoists it to the statement's start (mixed.Describe in fixtures/exact),
# where only its data word places it (parsers/staticboxes.py; `AllocCall.hoisted_boxes`
# when that failed).
_PLACED_BOXES_SINCE = GoVersion(1, 22)

_BOXING = Construct.INTERFACE
_MAY_NEED_NO_CALL = frozenset({Kind.NO_CALL, Kind.SELECTOR})
_ANY_NUMBER = Shape(Kind.NUMBER)
# More than any line's sum of pairing scores (`_Matcher._score`, at most 15 a pair).
_CALL_FIRST = 1000

SourceLine = Callable[[str, int], "str | None"]


class _Matcher:
    """Unused diagnostics, looked up by line (in evaluation order) and by function."""

    def __init__(
        self,
        diags: list[_Diag],
        source_line: SourceLine | None = None,
        functions: Sequence[FunctionSpan] = (),
        version: GoVersion = _PLACED_BOXES_SINCE,
    ) -> None:
        self.diags = diags
        self.version = version
        self.no_call: set[int] = set()  # boxed without a call (`align`)
        # id(call) -> (call, its shape): the call is kept so the id stays its own
        self.shapes: dict[int, tuple[AllocCall, Shape | None]] = {}
        # lines whose boxings without a call the listing does not place (`hoisted_boxes`)
        self.unplaced: set[tuple[str, int]] = set()
        self.functions = functions
        # closures' first lines, made when first asked (`_statement_wrapper`)
        self._starts: dict[str, tuple[str, int]] | None = None
        self.used = [False] * len(diags)
        self.by_line: dict[tuple[str, int], list[int]] = {}
        self.by_function: dict[str, list[int]] = {}
        for index, item in enumerate(diags):
            self.by_line.setdefault((item.diag.pos.file, item.diag.pos.line), []).append(index)
            self.by_function.setdefault(item.function, []).append(index)
        if source_line is not None:
            for (file, line), indices in self.by_line.items():
                if len(indices) > 1:
                    text = source_line(file, line)
                    indices.sort(key=lambda i: _evaluation(diags[i], text))

    def _statement_wrapper(self, item: _Diag, function: str) -> bool:
        """Whether `item` is stated in a closure of `function` that starts on its line:
        the wrapper of a `go`/`defer` statement, whose arguments `function` evaluates
        (and boxes) before the statement (go1.21 states them in the wrapper)."""
        parent = enclosing_function(item.function)
        if _STATEMENT_WRAPPER.search(item.function) and parent == enclosing_function(function):
            # go1.22+ name the statement's wrapper where the literal it calls (a sibling
            # `F.func1` on the same line) moved its own parameter to the heap
            return True
        if parent != function:
            return False
        if self._starts is None:
            self._starts = {
                short_function(f.name): (f.file, f.first_line)
                for f in self.functions
                if is_closure(f.name)
            }
        return self._starts.get(item.function) == (item.diag.pos.file, item.diag.pos.line)

    def take(self, index: int | None) -> _Diag | None:
        if index is None:
            return None
        self.used[index] = True
        return self.diags[index]

    def _score(self, index: int, call: AllocCall, function: str) -> tuple[int, bool] | None:
        """How well the unused diagnostic `index` explains `call`: None when it cannot
        (another construct, another function, a type the evidence rules out); else a
        score (the construct the entry is named for before one it may also explain,
        escaping before "does not escape", a spelled type that agrees with the call's
        before one that says nothing) and whether the evidence proves the pair."""
        item = self.diags[index]
        family = entry_family(call.entry) or EntryFamily.OBJECT
        if self.used[index]:
            return None
        if (
            item.construct not in explains(call.entry, family)
            and not _map_by_name(item, family)
            and not _converted_by_name(item, family)
        ):
            return None
        foreign = item.function and function and item.function != function
        if foreign and not self._statement_wrapper(item, function):
            return None
        if not item.escaping and family in (EntryFamily.OBJECT, EntryFamily.INTERFACE):
            return None  # an object or box that does not escape is on the stack
        native = item.construct in _NATIVE.get(family, (item.construct,))
        if not native and family == EntryFamily.INTERFACE and item.shape is not None:
            return None  # a concatenation the flow or a literal proves: not a boxing
        verdict = agrees(item.shape, self._call_shape(call))
        if verdict is False and _boxes_this_constant(call, item):
            verdict = True
        if verdict is False:
            return None
        return 8 * (verdict is True) + 4 * native + 2 * item.escaping + 1, verdict is True

    def _call_shape(self, call: AllocCall) -> Shape | None:
        key = id(call)
        if key not in self.shapes:
            self.shapes[key] = (call, call_shape(call))
        return self.shapes[key][1]

    def align(
        self, calls: Sequence[AllocCall], pos: SourcePos, function: str, placed: bool = True
    ) -> list[int | None]:
        """The diagnostic (or None) of each of one function's calls on pos's line, in
        listing order: the best-scoring pairing that keeps the calls' order and the
        diagnostics' evaluation order (which the listing follows), so a diagnostic
        with no call (a constant boxed, a value kept on the stack) is passed over where
        the evidence says so. The one-byte values the listing boxes without a call
        (`AllocCall.static_boxes`, before the call that counts them) take a diagnostic
        each, which then has no call (`no_call`). Calls it leaves unpaired are paired
        one by one after (`on_line`): the compiler hoists some conversions out of order."""
        line = [i for i in self.by_line.get((pos.file, pos.line), ()) if not self.used[i]]
        events: list[AllocCall | None] = []  # None: a boxing without a call
        for call in calls:
            events.extend([None] * (call.static_boxes if placed else 0))
            events.append(call)
        rows, cols = len(events), len(line)
        # A call is an allocation for sure: pairing one more call outweighs any choice
        # of which diagnostic a boxing without a call stands for (`_CALL_FIRST`).
        scores = [
            [self._paired(j, event, function) if event else self._static(j) for j in line]
            for event in events
        ]
        # best[i][j]: the best score of pairing events[i:] with line[j:]
        best = [[0] * (cols + 1) for _ in range(rows + 1)]
        for i in range(rows - 1, -1, -1):
            for j in range(cols - 1, -1, -1):
                scored = scores[i][j]
                diagonal = best[i + 1][j + 1] + scored[0] if scored is not None else -1
                best[i][j] = max(best[i + 1][j], best[i][j + 1], diagonal)
        # Read forward, pairing as early as the best score allows: of equally good
        # pairings, the one that gives the first calls the first diagnostics.
        chosen: dict[int, int] = {}
        i = j = 0
        while i < rows and j < cols:
            scored = scores[i][j]
            if scored is not None and best[i][j] == best[i + 1][j + 1] + scored[0]:
                chosen[i] = line[j]
                i, j = i + 1, j + 1
            elif best[i][j] == best[i][j + 1]:
                j += 1
            else:
                i += 1
        result: list[int | None] = []
        for i, event in enumerate(events):
            if event is not None:
                result.append(chosen.get(i))
            elif i in chosen:
                self.no_call.add(chosen[i])
                self.used[chosen[i]] = True
        return result

    def _paired(self, index: int, call: AllocCall, function: str) -> tuple[int, bool] | None:
        scored = self._score(index, call, function)
        return None if scored is None else (scored[0] + _CALL_FIRST, scored[1])

    def _static(self, index: int) -> tuple[int, bool] | None:
        """How well a boxing without a call explains diagnostic `index`: a constant, or
        a boxing whose subject says nothing of its size (a one-byte variable or field
        looks like any)."""
        item = self.diags[index]
        if item.construct != Construct.INTERFACE or not item.escaping:
            return None
        shape = item.shape
        if shape is not None and shape.kind not in _MAY_NEED_NO_CALL and shape != _ANY_NUMBER:
            return None
        # The listing proves the boxing is there (its data word): as strong as a call
        # whose type agrees, so no call is paired past it.
        return 8, False

    def undecided(self, index: int, call: AllocCall, pos: SourcePos, function: str) -> bool:
        """Whether the evidence left a choice for this (taken) pair: it is not proven and
        another diagnostic on the line that it does not rule out stayed without a call."""
        scored = self._score_taken(index, call, function)
        if scored is None or scored[1]:
            return False
        key = (pos.file, pos.line)
        hoisted = key in self.unplaced
        if hoisted and self.version < _PLACED_BOXES_SINCE:
            return True
        order = self.by_line.get(key, ())
        # Every boxing without a call before the line's last call is placed (`align`):
        # a boxing evaluated after the last diagnostic a call took is boxed after it.
        last = max(
            (k for k, i in enumerate(order) if self.used[i] and i not in self.no_call),
            default=len(order),
        )
        for position, other in enumerate(order):
            if position > last and not hoisted and self.diags[other].construct == _BOXING:
                continue
            if other != index and not self.used[other] and self.diags[other].escaping:
                rival = self._score(other, call, function)
                if rival is not None and not rival[1]:
                    return True
        return False

    def _score_taken(self, index: int, call: AllocCall, function: str) -> tuple[int, bool] | None:
        self.used[index] = False
        try:
            return self._score(index, call, function)
        finally:
            self.used[index] = True

    def on_line(self, pos: SourcePos, call: AllocCall, function: str) -> int | None:
        """The best-scoring unused diagnostic on pos's line for `call` (the first of
        equals in evaluation order)."""
        best: tuple[int, int] | None = None
        for index in self.by_line.get((pos.file, pos.line), ()):
            scored = self._score(index, call, function)
            if scored is not None and (best is None or scored[0] > best[0]):
                best = (scored[0], index)
        return best[1] if best is not None else None

    def uncopied(self, call: AllocCall, function: str) -> int | None:
        """For a boxing left without a statement: a conversion on its line stated alone
        with no call of its own, of the boxed kind. A conversion that copies nothing
        (`[]byte(h)` of a defined `[]byte`, `string(e)` of a defined string) is one
        statement, the boxing's; a copying one boxed is two (the conversion's and the
        boxing's, `_constructs`)."""
        for index in self.by_line.get((call.pos.file, call.pos.line), ()):
            item = self.diags[index]
            if self.used[index] or (item.function and function and item.function != function):
                continue
            if self._uncopied_boxing(index, call):
                return index
        return None

    def _uncopied_boxing(self, index: int, call: AllocCall) -> bool:
        """Whether diagnostic `index` is a conversion stated alone on its line, escaping,
        of the kind the boxing `call` holds (`uncopied`)."""
        item = self.diags[index]
        if call.entry not in ("convTslice", "convTstring") or not item.escaping:
            return False
        made = _BOXED_RESULT.get(item.construct) if item.construct in _UNCOPIED else None
        boxed = call_shape(call)
        if made is None or boxed is None or made.kind != boxed.kind:
            return False
        line = self.by_line.get((item.diag.pos.file, item.diag.pos.line), ())
        return sum(self.diags[i].diag.subject == item.diag.subject for i in line) == 1

    def in_map_literal(self, call: AllocCall, function: str) -> int | None:
        """The best unused diagnostic of a key or value of a map literal on the call's
        line (the first of equals in position order): the code that makes a map
        literal's entries is placed at the literal (walk's maplit), so the allocation of
        a key or value written on a line of its own is listed on the literal's line."""
        best: tuple[int, int] | None = None
        where = (call.pos.file, call.pos.line)
        # (a statement whose function go1.21-1.24 do not name, below the last line the
        # listing gives the function, belongs to none)
        for index in (*self.by_function.get(function, ()), *self.by_function.get("", ())):
            held_at = (
                (step.pos.file, step.pos.line)
                for step in self.diags[index].diag.flow
                if step.reason in MAP_LITERAL_REASONS and step.pos is not None
            )
            if where not in held_at:
                continue
            scored = self._score(index, call, function)
            if scored is not None and (best is None or scored[0] > best[0]):
                best = (scored[0], index)
        return best[1] if best is not None else None

    def at_call(
        self, pos: SourcePos, calls: Sequence[AllocCall], function: str
    ) -> list[int | None]:
        """The diagnostics (taken) of calls inlined at one call on pos's line, in listing
        order: each the best unused one, as `on_line` gives; then a call left without one
        gets one a call before it took, when that call can take another (an augmenting
        path). The statements of an inlined call's allocations are all at the call, with
        no order between them: `&NumError{fn, Clone(s), err}` inlined states the literal
        and Clone's `make` there, and Clone's `mallocgc`, first in the listing, may
        explain either, while the literal's own call explains only the literal."""
        chosen: list[int | None] = []
        for call in calls:
            index = self.on_line(pos, call, function)
            self.take(index)
            chosen.append(index)
        for i in range(len(calls)):
            if chosen[i] is None:
                self._augment(i, calls, chosen, pos, function, set())
        return chosen

    def _augment(
        self,
        i: int,
        calls: Sequence[AllocCall],
        chosen: list[int | None],
        pos: SourcePos,
        function: str,
        visited: set[int],
    ) -> bool:
        """Find call `i` a diagnostic, moving the calls that hold them to others."""
        for index in self.by_line.get((pos.file, pos.line), ()):
            if index in visited:
                continue
            holder = chosen.index(index) if index in chosen else None
            if self.used[index] and holder is None:
                continue  # taken by a call of another statement
            was_used = self.used[index]
            self.used[index] = False
            fits = self._score(index, calls[i], function) is not None
            self.used[index] = was_used
            if not fits:
                continue
            visited.add(index)
            if holder is None or self._augment(holder, calls, chosen, pos, function, visited):
                chosen[i] = index
                self.used[index] = True
                return True
        return False

    def sibling_instance(
        self, call: AllocCall, function: str, pos: SourcePos | None = None
    ) -> int | None:
        """For a call in a shape instance: the diagnostic at its line (`pos`'s, for a
        call inlined there) that another instance of the same generic function was
        given, used or not (shared). The compiler states one position once per
        instance, but escape_lens merges facts by position (`_prepare`), and go1.21
        names no instance (`New[[3]string]`)."""
        generic = function.split("[", 1)[0]
        family = entry_family(call.entry) or EntryFamily.OBJECT
        at = pos or call.pos
        for index in self.by_line.get((at.file, at.line), ()):
            item = self.diags[index]
            if item.function == function or item.function.split("[", 1)[0] != generic:
                continue
            if not item.escaping or item.construct not in explains(call.entry, family):
                continue
            if agrees(item.shape, self._call_shape(call)) is not False:
                return index
        return None

    def callee_statement(self, call: AllocCall) -> _Diag | None:
        """The escaping diagnostic at an inlined call's own line (the callee's) that it
        may stand for, used or not: shared, never taken."""
        family = entry_family(call.entry) or EntryFamily.OBJECT
        for index in self.by_line.get((call.pos.file, call.pos.line), ()):
            item = self.diags[index]
            allowed = item.escaping and item.construct in explains(call.entry, family)
            if allowed and agrees(item.shape, call_shape(call)) is not False:
                return item
            if self._uncopied_boxing(index, call):
                return item
        return None

    def in_function(self, family: EntryFamily, function: str, type_name: str) -> int | None:
        """For an inlined call: an unused escaping diagnostic of the caller naming its type."""
        allowed = EXPLAINS[family]
        candidates = [
            index
            for index in self.by_function.get(function, ())
            if not self.used[index]
            and self.diags[index].escaping
            and self.diags[index].construct in allowed
        ]
        bare = type_name.rsplit(".", 1)[-1].split("[")[0]
        for index in candidates:
            if bare and bare in self.diags[index].diag.subject:
                return index
        return candidates[0] if candidates else None


def join_sites(
    calls: Iterable[AllocCall],
    diagnostics: Iterable[EscapeDiagnostic],
    rules: model.AllocRules,
    *,
    package: str | None = None,
    functions: Sequence[FunctionSpan] = (),
    types: Iterable[TypeInfo] = (),
    origin: Origin = "source",
    source_line: SourceLine | None = None,
) -> list[Site]:
    """Sites of one package (or, with `package=None`, of calls from any package).

    `functions` and `types` come from the same compilation (PackageOutput); binary mode
    passes calls only. `source_line(file, line)` gives a line of the source, for the
    evaluation order of its expressions (None: column order). The result is in no
    particular order: `analyze` sorts.
    """
    known_types = {t.name: t for t in types}
    spans = _spans_by_short(functions)
    matcher = _Matcher(_prepare(diagnostics, functions), source_line, functions, rules.version)
    for position, unplaced in enumerate(matcher.diags):
        if _unplaced(unplaced.diag):  # no position to pair a call by: a site of its own
            matcher.used[position] = True
            matcher.no_call.add(position)
    sites: list[Site] = []
    pending_inlined: list[AllocCall] = []

    by_line: dict[tuple[str, int, str], list[AllocCall]] = {}
    for call in calls:
        if entry_family(call.entry) is None:
            continue
        if _is_inlined(call):
            pending_inlined.append(call)
            continue
        key = (call.pos.file, call.pos.line, short_function(call.function))
        by_line.setdefault(key, []).append(call)
    paired: list[tuple[AllocCall, int | None]] = []
    for (_, _, function), group in by_line.items():
        placed = rules.version >= _PLACED_BOXES_SINCE or not any(
            call.hoisted_boxes for call in group
        )
        chosen = matcher.align(group, group[0].pos, function, placed)
        if any(call.hoisted_boxes for call in group):
            matcher.unplaced.add((group[0].pos.file, group[0].pos.line))
        for index in chosen:
            matcher.take(index)
        for call, index in zip(group, chosen, strict=True):
            if index is None:
                index = matcher.on_line(call.pos, call, function)
                matcher.take(index)
            if index is None:
                index = matcher.in_map_literal(call, function)
                matcher.take(index)
            if index is None:
                index = matcher.uncopied(call, function)
                matcher.take(index)
            if index is None and is_shape(function):
                index = matcher.sibling_instance(call, function)
                if index is not None and not matcher.used[index]:
                    matcher.take(index)
            paired.append((call, index))
    for call, index in paired:
        found = matcher.diags[index] if index is not None else None
        site = _site(call, found, None, rules, package, known_types, origin)
        function = short_function(call.function)
        if index is not None and matcher.undecided(index, call, call.pos, function):
            site = _undecided(site)
        sites.append(site)

    # The compiler's inlining tables place an inlined call exactly: its diagnostic is
    # on the line of the call it was inlined at, or there is none (no guessing elsewhere
    # in the function).
    at_calls: dict[tuple[str, int, str], list[AllocCall]] = {}
    for call in pending_inlined:
        if call.call_pos is not None:
            key = (call.call_pos.file, call.call_pos.line, short_function(call.function))
            at_calls.setdefault(key, []).append(call)
    inlined_diag: dict[int, int | None] = {}
    for (_, _, function), group in at_calls.items():
        assert group[0].call_pos is not None
        chosen_at = matcher.at_call(group[0].call_pos, group, function)
        for i, call in enumerate(group):
            if chosen_at[i] is None and is_shape(function):
                # another instance's statement of the inlined call (errors.New in each
                # instance of crypto/ecdsa's generateFIPS)
                sibling = matcher.sibling_instance(call, function, group[0].call_pos)
                if sibling is not None and not matcher.used[sibling]:
                    matcher.take(sibling)
                chosen_at[i] = sibling
        inlined_diag.update((id(call), index) for call, index in zip(group, chosen_at, strict=True))
    for call in pending_inlined:
        family = entry_family(call.entry) or EntryFamily.OBJECT
        function = short_function(call.function)
        if call.call_pos is not None:
            index = inlined_diag[id(call)]
            found = matcher.diags[index] if index is not None else None
        else:
            type_name = call.type.name if call.type is not None else ""
            found = matcher.take(matcher.in_function(family, function, type_name))
        if found is None and call.call_pos is not None and _in_wrapper(call.call_pos):
            # A method wrapper states nothing of its own: the wrapped method's statement
            # about the same expression (in the callee, which the wrapper inlined) says
            # why; the site stays in the wrapper.
            stated = matcher.callee_statement(call)
            site = _site(call, stated, call.pos, rules, package, known_types, origin)
            sites.append(replace(site, pos=call.call_pos))
            continue
        sites.append(_site(call, found, call.pos, rules, package, known_types, origin))

    sites = _bounded_concatenations(sites)
    sites = _inherit_moved_slice_types(sites, rules)
    sites = _label_go_and_defer(sites)
    sites = _note_closure_copies(sites, functions)
    sites.extend(_unmatched(matcher, sites, spans, package, origin))
    sites = _note_batched_carriers(sites)
    lines = source_line or _no_source
    return [_placed_in_source(_spelled_new(site, lines), lines) for site in sites]


_UNDECIDED = Note(
    NoteCode.PAIRING_UNDECIDED,
    "the listing does not say which of this line's expressions this call is; "
    "paired by evaluation order",
)


def _undecided(site: Site) -> Site:
    return replace(site, notes=(*site.notes, _UNDECIDED))


def join_package(package: PackageOutput, rules: model.AllocRules) -> list[Site]:
    """The sites of one compiled target package."""
    return join_sites(
        package.calls,
        package.diagnostics,
        rules,
        package=package.import_path,
        functions=package.functions,
        types=package.types,
        # A function that is no instance of a generic one is in this package's files.
        source_line=_SourceLines(
            package.dir, [f.file for f in package.functions if "[" not in f.name]
        ),
    )


class _SourceLines:
    """Lines of the package's Go files, read once each when a line has several
    diagnostics (the files are the compiled ones; one that cannot be read gives None).

    Positions name files relative to the build's root (or absolute outside it). Another
    package's file (an inlined callee, a generic function instantiated here) is read
    where the root puts it, the root being the package directory less the directory its
    own files are named in (`net/fd.go` in `GOROOT/src/net`); without such a file, None,
    never the line of this package's file of the same name
    (`crypto/internal/fips140/ecdh/ecdh.go` is not `crypto/ecdh/ecdh.go`)."""

    def __init__(self, directory: str, named: Sequence[str] = ()) -> None:
        self.directory = os.path.normpath(directory)
        self.files: dict[str, list[str] | None] = {}
        self.root = next((root for root in map(self._root_of, named) if root is not None), None)

    def _root_of(self, file: str) -> str | None:
        """The build's root, when `file` is one of this package's, named relatively."""
        if os.path.isabs(file) or file.startswith(("<", "_cgo_")) or not file.endswith(".go"):
            return None  # (`<autogenerated>`, cgo's glue in go's work directory)
        if not self._in_package(file):
            return None
        folder = os.path.normpath(os.path.dirname(file) or ".")
        if folder == ".":
            return self.directory
        return self.directory[: -len(os.sep + folder)] or os.sep

    def _in_package(self, file: str) -> bool:
        folder = os.path.dirname(file)
        if os.path.isabs(file):
            return os.path.normpath(folder) == self.directory
        return not folder or (self.directory + os.sep).endswith(
            os.sep + os.path.normpath(folder) + os.sep
        )

    def _path(self, file: str) -> str | None:
        if os.path.isabs(file):
            return file
        if self.root is not None:
            return os.path.join(self.root, file)
        if self._in_package(file):
            return os.path.join(self.directory, os.path.basename(file))
        return None

    def __call__(self, file: str, line: int) -> str | None:
        if file not in self.files:
            path = self._path(file)
            if path is None or not file.endswith(".go"):
                self.files[file] = None
                return None
            # Any path a position names (`//line testdata/x.go:3` in an untrusted module,
            # a FIFO or a link to a device there): a regular file of a source's size only.
            try:
                data = read_regular(
                    path, limit=MAX_SOURCE_BYTES, what="source", error=EscapeLensError
                )
            except EscapeLensError:
                self.files[file] = None
            else:
                self.files[file] = data.decode("utf-8", "replace").splitlines()
        lines = self.files[file]
        return lines[line - 1] if lines is not None and 0 < line <= len(lines) else None


def _site(
    call: AllocCall,
    found: _Diag | None,
    inlined_from: SourcePos | None,
    rules: model.AllocRules,
    package: str | None,
    known_types: dict[str, TypeInfo],
    origin: Origin,
) -> Site:
    family = entry_family(call.entry) or EntryFamily.OBJECT
    construct = _call_construct(call, family, found)
    if family == EntryFamily.MAKE_SLICE and call.const_count is None and found is not None:
        literal = _MAKE_LITERAL.match(found.diag.subject)
        if literal is not None and call.entry in ("makeslice", "makeslice64"):
            # The register copy hid the constant from the listing; the source shows it.
            call = replace(call, const_count=int(literal.group("cap") or literal.group("len")))
    if found is not None:
        pos = found.diag.pos
    elif inlined_from is not None:
        pos = call.call_pos or call.pos
    else:
        pos = call.pos
    shaped = _shape_type(call, found, known_types) if call.type is None else None
    if shaped is not None:
        call = replace(call, type=shaped)
    if call.entry == "mallocgc" and found is not None and found.construct in _MAKES:
        estimate = predict_make_copy(call, found.diag, rules, known_types)
    else:
        estimate = predict_call(call, family, rules, known_types)
    if call.entry == "makemap_small" and found is not None:
        subject = found.diag.subject
        estimate = _with_first_insert(estimate, subject, rules, known_types, package or "")
    notes = list(estimate.notes)
    escapes = found.escaping if found is not None else None
    elem = estimate.type.size if estimate.type is not None else None
    spelled_bytes = _literal_bytes(found.diag.subject) if found is not None else None
    buffer = stack_buffer(call, escapes, rules.version, elem_size=elem, literal_bytes=spelled_bytes)
    if buffer is not None or escapes is not None:
        # Whether a buffer was passed is known: the general remark does not apply.
        notes = [n for n in notes if n.code != NoteCode.STRING_BUFFER]
    if buffer is not None:
        notes.append(Note(NoteCode.STACK_BUFFER, buffer.describe()))
    elif found is not None and not found.escaping:
        text = f"{found.diag.subject} does not escape, yet it is heap-allocated"
        notes.append(Note(NoteCode.STACK_YET_HEAP, text))
    if inlined_from is not None and found is None and call.call_pos is None:
        text = "inlined; the call site in this function is not known"
        notes.append(Note(NoteCode.INLINED_CALL_UNKNOWN, text))
    diagnostic = found.diag if found is not None else None
    fits = buffer is not None and buffer.fits
    expr = _expr(found.diag) if found is not None else ""
    if found is None and _in_wrapper(call.pos):
        construct, expr = _wrapper(call, construct)
    return Site(
        pos=pos,
        package=package if package is not None else package_of(call.function),
        function=short_function(call.function),
        construct=construct,
        type=estimate.type,
        count=estimate.count,
        diagnostic=diagnostic,
        call=call,
        prediction=estimate.main,
        origin=origin,
        extra=estimate.extra,
        allocates=not fits,
        notes=tuple(notes),
        expr=expr,
        inlined_from=inlined_from,
        heap_above=buffer.limit_bytes if buffer is not None and not fits else None,
    )


_SHAPED_ENTRIES = re.compile(
    r"^(?:newobject|makeslice(?:64)?|growslice\w*|moveSlice(?!\w*NoScan)\w*|convT|convTnoptr)$"
)
_SHAPED_MAKE = re.compile(r"^make\(\[\](?P<elem>go\.shape\.[^,]+),")


def _shape_type(
    call: AllocCall, found: _Diag | None, known: dict[str, TypeInfo]
) -> TypeInfo | None:
    """In a generic function's shape instance the runtime gets its type from the
    dictionary, which the listing does not show: the source (`make([]go.shape.int64, n)`)
    or the instance's one type argument (`New[go.shape.int32]`) names it."""
    if not _SHAPED_ENTRIES.match(call.entry):
        return None
    spelled = _SHAPED_MAKE.match(found.diag.subject) if found is not None else None
    if spelled is not None:
        name = spelled.group("elem")
    else:
        name = _single_type_argument(short_function(call.function))
        if not name.startswith(SHAPE_PREFIX):
            return None
    layout = resolve_type(name.removeprefix(SHAPE_PREFIX), known)
    return TypeInfo(name, layout.size, layout.ptrbytes) if layout is not None else None


def _single_type_argument(function: str) -> str:
    """`New[go.shape.[3]string]` -> `go.shape.[3]string`; "" without exactly one."""
    start = function.find("[")
    if start < 0 or not function.endswith("]"):
        return ""
    inside, depth = function[start + 1 : -1], 0
    for char in inside:
        depth += char in "[({"
        depth -= char in "])}"
        if char == "," and depth == 0:
            return ""
    return inside


def _with_first_insert(
    estimate: Estimate,
    subject: str,
    rules: model.AllocRules,
    known: dict[str, TypeInfo],
    package: str = "",
) -> Estimate:
    """A map made without a hint (makemap_small, which takes no type) gets its type from
    the source and the object its first insert allocates: in `extra` for a literal with
    entries (inserted at once), else named in the note. A defined map type of the
    package (`make(Fields, 6)`, `Set{}`) is the one sized with its key and element
    (typesizes, for the package's own defined maps its statements make)."""
    entries = False
    if subject.startswith("make("):
        name = re.sub(r", \w+$", "", subject[len("make(") : -1])  # without a hint
    else:
        # The compiler prints a literal as its type and `{}` or `{...}` (with entries);
        # the type may end in braces of its own (`map[string]interface {}{}`).
        entries = subject.endswith("{...}")
        name = subject.removesuffix("{...}" if entries else "{}")
    defined = _defined_map(name, package, known)
    first: Prediction | None
    if defined is not None and defined.key is not None and defined.elem is not None:
        key, elem = defined.key, defined.elem
        objects = model.first_insert_objects(
            key.size, key.pointers, elem.size, elem.pointers, rules
        )
        first = model.predict(*objects[0], rules)
    else:
        first = first_insert(name, rules, known) if name.startswith("map[") else None
    if first is None:
        return estimate
    typ = estimate.type or defined or TypeInfo(name, 8, 8)
    notes = tuple(n for n in estimate.notes if n.code != NoteCode.MAP_BUCKETS_LATER)
    what = f"{first.requested_bytes}→{first.class_bytes} B"
    if entries:
        text = f"the literal's first entry allocates the first group/bucket ({what})"
        note = Note(NoteCode.MAP_BUCKETS_LATER, text)
        return replace(estimate, type=typ, extra=(*estimate.extra, first), notes=(*notes, note))
    text = f"its first insert allocates the first group/bucket ({what})"
    return replace(estimate, type=typ, notes=(*notes, Note(NoteCode.MAP_BUCKETS_LATER, text)))


def _defined_map(name: str, package: str, known: dict[str, TypeInfo]) -> TypeInfo | None:
    """The sized defined map type a statement names by its identifier: one of the
    package's own (a `main` package's types are `main.T`)."""
    if not package or not _IDENTIFIER.fullmatch(name):
        return None
    return known.get(f"{package}.{name}") or known.get(f"main.{name}")


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')


def _literal_bytes(subject: str) -> int | None:
    """The bytes of the string literals a concatenation's subject spells (None: none)."""
    literals = _STRING_LITERAL.findall(subject)
    if not literals:
        return None
    return sum(len(_unquote(text[1:-1]).encode()) for text in literals)


def _unquote(text: str) -> str:
    return re.sub(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[0-7]{3}|.)", "_", text)


_MAKES = frozenset({Construct.MAKE_SLICE, Construct.MAKE})
# `make([]T, 100)` or `make([]T, 10, 100)` with literal numbers: the capacity sizes it.
_MAKE_LITERAL = re.compile(r"^make\(\[\][^,]+, (?P<len>\d+)(?:, (?P<cap>\d+))?\)$")


_RECEIVER = re.compile(
    r"^\(\*(?P<type>[^)]+)\)\.(?P<method>\w+)$|^(?P<vtype>[^.(]+)\.(?P<vmethod>\w+)$"
)


def _wrapper(call: AllocCall, construct: Construct) -> tuple[Construct, str]:
    """A call in a method wrapper the compiler made (`<autogenerated>:1`, no escape line
    of its own): say whose wrapper it is; the receiver's type allocated there is the
    receiver copied to the heap for a value method called through a pointer."""
    method = short_function(call.function)
    named = _RECEIVER.match(method)
    if named is None:
        return construct, f"the wrapper of {method}"
    receiver = named.group("type") or named.group("vtype")
    name = named.group("method") or named.group("vmethod")
    if call.type is not None and bare_name(call.type.name) == bare_name(receiver):
        return Construct.MOVED_TO_HEAP, f"the receiver, copied by the wrapper of {receiver}.{name}"
    return construct, f"in the wrapper of {receiver}.{name}"


def _expr(diag: EscapeDiagnostic) -> str:
    """The source expression a diagnostic is about; a compiler temporary is said as what
    it is, never shown by its internal name (`.autotmp_3`, `~r0`, `F.func1#hash#`, the
    variables a range-over-func loop is rewritten with: `#state1`, `#rv1`)."""
    subject = _INLINE_HASH.sub("", diag.subject)
    bare = _INLINED_RANGEFUNC.sub("", subject)  # `slices.#state1`: inlined from slices
    whole = _TEMPORARY_NAMES.get(_temporary_kind(bare))
    if whole is not None and _TEMPORARY.fullmatch(bare):
        return whole
    return _TEMPORARY.sub(lambda m: _TEMPORARY_PARTS[_temporary_kind(m.group(0))], subject)


def _temporary_kind(name: str) -> str:
    """The key of a temporary's words: its first two characters, or for a rangefunc
    variable (cmd/compile/internal/rangefunc) its name without the number."""
    return name.rstrip("0123456789") if name.startswith("#") else name[:2]


_INLINE_HASH = re.compile(r"#[^#\s]*#")
_INLINED_RANGEFUNC = re.compile(r"^[\w.]+\.(?=#)")
_TEMPORARY = re.compile(r"\.autotmp_\d+|~[rRpb]\d+|#(?:state|rv|yield|p)\d+|#next|#defers")
_TEMPORARY_NAMES = {
    ".a": "a temporary for a call's result",
    "~r": "the function's result",
    "~R": "a call's result",
    "~p": "a parameter",
    "~b": "a parameter",
    "#state": "the state of a range-over-func loop",
    "#next": "the exit code of a range-over-func loop",
    "#rv": "a result returned from inside a range-over-func loop",
    "#yield": "the body of a range-over-func loop",
    "#p": "a parameter of a range-over-func loop's body",
    "#defers": "the defers of a range-over-func loop",
}
_TEMPORARY_PARTS = {
    ".a": "(temporary)",
    "~r": "(result)",
    "~R": "(call result)",
    "~p": "(parameter)",
    "~b": "(parameter)",
    "#state": "(loop state)",
    "#next": "(loop exit)",
    "#rv": "(result)",
    "#yield": "(loop body)",
    "#p": "(loop parameter)",
    "#defers": "(loop defers)",
}


# The conversions that may copy nothing: their one statement is then the boxing's.
_UNCOPIED = frozenset(
    {Construct.BYTES_CONVERSION, Construct.RUNES_CONVERSION, Construct.STRING_CONVERSION}
)


def _map_by_name(item: _Diag, family: EntryFamily) -> bool:
    """Whether a map's make may be the allocation of `T{...}` taken for a boxing: T's
    name does not say that it is a map type (`type Ext map[string]int; e := Ext{}`)."""
    return family == EntryFamily.MAP and item.shape is not None and item.shape.literal


_CONVERSION_FAMILIES = frozenset(
    {EntryFamily.BYTES_CONVERSION, EntryFamily.RUNES_CONVERSION, EntryFamily.STRING_CONVERSION}
)
_NAMED_CALL = re.compile(r"^[\w.]+\(")


def _converted_by_name(item: _Diag, family: EntryFamily) -> bool:
    """Whether a conversion's call may be the allocation of `T(x)` taken for a boxing:
    T's name does not say that it is a byte, rune or string type, but the flow says the
    value is then converted to an interface elsewhere, as a conversion's is into its
    boxing (`return textLine(fmt.Sprint(b))`)."""
    return (
        family in _CONVERSION_FAMILIES
        and item.construct == Construct.INTERFACE
        and _NAMED_CALL.match(item.diag.subject) is not None
        and any(
            step.reason == "interface-converted" and step.pos != item.diag.pos
            for step in item.diag.flow
        )
    )


# `T("...")`: a constant converted to a defined type; to a byte or rune slice type, its
# bytes are an array object.
_CONSTANT_CONVERSION = re.compile(r'^[\w.]+\((?:"(?:[^"\\]|\\.)*"|`[^`]*`)\)$')
_ARRAY_CONVERSIONS = {"uint8": Construct.BYTES_CONVERSION, "int32": Construct.RUNES_CONVERSION}


def _call_construct(call: AllocCall, family: EntryFamily, found: _Diag | None) -> Construct:
    if family != EntryFamily.OBJECT:
        return Construct(family.value)  # the other families are named as their construct
    shape = call_shape(call)
    if shape is not None and shape.kind == Kind.METHOD_VALUE:
        return Construct.METHOD_VALUE
    if found is not None and found.construct == Construct.INTERFACE and shape is not None:
        # An array object is no boxing of T: `T{...}` is a slice literal of a defined
        # type, `T("...")` a constant's bytes (the boxing's object would be a T).
        if shape.kind == Kind.ARRAY and _CONSTANT_CONVERSION.match(found.diag.subject):
            element = re.sub(r"^\[\d+\]", "", shape.name)
            return _ARRAY_CONVERSIONS.get(element, Construct.COMPOSITE_LITERAL)
        if shape.kind == Kind.ARRAY and found.shape is not None and found.shape.literal:
            return Construct.COMPOSITE_LITERAL
    if found is not None:
        # A bare mallocgc for `make(T, n)` of a defined slice type is make + copy.
        return _OBJECT_CONSTRUCT.get(found.construct, found.construct)
    name = call.type.name if call.type is not None else ""
    if is_closure_record(name):
        return Construct.CLOSURE
    if re.match(r"^(noalg\.)?\[\d+\]", name):
        return Construct.COMPOSITE_LITERAL
    if call.entry == "mallocgc":
        return Construct.ALLOC
    return Construct.NEW


_OBJECT_CONSTRUCT = {Construct.INTERFACE: Construct.NEW, Construct.MAKE: Construct.MAKE_SLICE}


_DYNAMIC_NEW = "new(<node DYNAMICTYPE>)"
_DYNAMIC_TYPE = "<node DYNAMICTYPE>"
# What a type parameter's type is called where the source cannot be read.
_TYPE_PARAMETER = "(type parameter)"


def _spelled_new(site: Site, source_line: SourceLine) -> Site:
    """`new(T)` of a type parameter as the source spells it: the compiler prints the
    shape instance's `new` as `new(<node DYNAMICTYPE>)` (std: errors.AsType's
    `new(E)`, unique's `new(canonMap[T])`). Only where the site's column holds a
    `new(` call (at its parenthesis); else, or where the file cannot be read, the type
    is called a type parameter, never the compiler's placeholder."""
    if _DYNAMIC_TYPE not in site.expr:
        return site
    spelled = _new_in_source(site, source_line) if _DYNAMIC_NEW in site.expr else None
    expr = site.expr.replace(_DYNAMIC_NEW, spelled) if spelled else site.expr
    return replace(site, expr=expr.replace(_DYNAMIC_TYPE, _TYPE_PARAMETER))


def _no_source(file: str, line: int) -> str | None:
    return None


def _new_in_source(site: Site, source_line: SourceLine) -> str | None:
    if site.pos.col < 1:
        return None
    line = source_line(site.pos.file, site.pos.line)
    if line is None:
        return None
    raw = line.encode("utf-8")
    start = site.pos.col - 1
    if raw[start : start + 1] == b"(" and raw[:start].endswith(b"new"):
        start -= 3  # the compiler's column is the call's parenthesis
    text = raw[start:].decode("utf-8", errors="replace")
    if not text.startswith("new("):
        return None
    depth = 0
    for end, char in enumerate(text[3:], 3):  # from `new`'s parenthesis
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return text[: end + 1]
    return None


# Where the compiler puts what no `-m` line places (its syntax positions, as `-W` prints
# them after walk): a `go` or `defer` statement at its keyword, a call such as `make(chan
# T)` at its parenthesis, the concatenation of `s += x` (made by walk, after escape
# analysis, so never stated) at its operator. A keyword starts a statement: at the
# line's start, or after `;`, `{` or a case's `:`.
_KEYWORD_AT = {
    Construct.GOROUTINE: re.compile(rb"(?:^|[;{:])\s*(go)\s"),
    Construct.DEFER: re.compile(rb"(?:^|[;{:])\s*(defer)\s"),
    Construct.CHAN: re.compile(rb"(?<![\w.])make\s*(\()"),
    Construct.STRING_CONCAT: re.compile(rb"(\+=)"),
}
_PLACED_ENTRIES = {
    Construct.GOROUTINE: ("newproc",),
    Construct.DEFER: ("deferproc",),
    Construct.CHAN: ("makechan", "makechan64"),
    Construct.STRING_CONCAT: (
        "concatstring2",
        "concatstring3",
        "concatstring4",
        "concatstring5",
        "concatstrings",
    ),
}
# A Go line's strings, runes and comments, which hide no code (a raw string or block
# comment that goes on to another line hides the rest of this one).
_NOT_CODE = re.compile(rb'"(?:[^"\\]|\\.)*"?|`[^`]*`?|\'(?:[^\'\\]|\\.)*\'?|//.*|/\*(?:.*?\*/|.*)')


def _placed_in_source(site: Site, source_line: SourceLine) -> Site:
    """A column for a site only the assembly placed (a `go` statement's `newproc`, a
    channel's `makechan`, `s += x`: no `-m` line says where): the one place on its
    line, outside strings and comments, where the compiler puts such a statement or
    call. Two such places, or none, or a line that cannot be read: the column stays
    unknown (0)."""
    pattern = _KEYWORD_AT.get(site.construct)
    if (
        pattern is None
        or site.pos.col
        or site.inlined_from is not None
        or site.entry not in _PLACED_ENTRIES[site.construct]
    ):
        return site
    line = source_line(site.pos.file, site.pos.line)
    if line is None:
        return site
    code = _NOT_CODE.sub(lambda m: b" " * len(m.group()), line.encode("utf-8"))
    found = [m.start(1) for m in pattern.finditer(code)]
    if len(found) != 1:
        return site
    return replace(site, pos=replace(site.pos, col=found[0] + 1))


def _bounded_concatenations(sites: list[Site]) -> list[Site]:
    """A buffered concatenation whose operands are all bounded (literals, and
    `string(r)` of a rune: at most 4 bytes, an `intstring` on the same line) and add up
    to no more than the buffer never allocates (`string(comma) + "\\r\\n"`)."""
    runes = {(s.function, s.pos.line, s.expr) for s in sites if s.entry == "intstring" and s.expr}
    result = []
    for site in sites:
        if site.construct == Construct.STRING_CONCAT and site.heap_above is not None:
            bound = 0
            for operand in _operands(site.expr):
                if operand[:1] == '"':
                    bound += _literal_bytes(operand) or 0
                elif (site.function, site.pos.line, operand) in runes:
                    bound += 4
                else:
                    bound = site.heap_above + 1
                    break
            if bound <= site.heap_above:
                buffer = StackBuffer(site.heap_above, "B", fits=True)
                notes = tuple(n for n in site.notes if n.code != NoteCode.STACK_BUFFER)
                note = Note(NoteCode.STACK_BUFFER, buffer.describe())
                site = replace(site, allocates=False, heap_above=None, notes=(*notes, note))
        result.append(site)
    return result


def _operands(subject: str) -> list[str]:
    """The operands of a sum, split at its top-level ` + `."""
    parts, begin = [], 0
    for index, char, depth in scan(subject):
        if char == "+" and depth == 0 and subject[index - 1 : index + 2] == " + ":
            parts.append(subject[begin : index - 1])
            begin = index + 2
    parts.append(subject[begin:])
    return parts


def _inherit_moved_slice_types(sites: list[Site], rules: model.AllocRules) -> list[Site]:
    """`moveSliceNoScan*` gets an element size, not a type: a slice moved to the heap at
    `return` (1.26+) is the one the function's appends built, so it takes their type."""
    grown: dict[str, set[TypeInfo]] = {}
    for site in sites:
        if site.construct == Construct.APPEND and site.type is not None:
            grown.setdefault(site.function, set()).add(site.type)
    result = []
    for site in sites:
        types = grown.get(site.function, set())
        if site.construct == Construct.APPEND and site.type is None and len(types) == 1:
            (elem,) = types
            pointers = elem.pointers and "NoScan" not in (site.entry or "")
            dynamic = model.predict_dynamic(elem.size, pointers, rules)
            site = replace(site, type=elem, prediction=dynamic, notes=SLICE_MOVED)
        result.append(site)
    return result


def _label_go_and_defer(sites: list[Site]) -> list[Site]:
    """A closure allocated on the line of a `go`/`defer` is that statement's wrapper."""
    statement_lines = {
        (s.function, (s.call.pos if s.call else s.pos)): s.construct
        for s in sites
        if s.construct in (Construct.GOROUTINE, Construct.DEFER)
    }
    relabelled = []
    for site in sites:
        where = (site.function, site.call.pos if site.call else site.pos)
        statement = statement_lines.get(where)
        if statement is not None and site.construct == Construct.CLOSURE:
            what = "go" if statement == Construct.GOROUTINE else "defer"
            note = Note(NoteCode.STATEMENT_WRAPPER, f"the wrapper closure of the {what} statement")
            site = replace(site, construct=statement, notes=(note, *site.notes))
        relabelled.append(site)
    return relabelled


_COPY_NOTE = Note(
    NoteCode.CLOSURE_COPIES,
    "one of several copies of this closure (the compiler compiles it again for each "
    "inlined call of its enclosing function); a program keeps the copies it reaches",
)


def _note_closure_copies(sites: list[Site], functions: Sequence[FunctionSpan]) -> list[Site]:
    """Say so on the sites of a function listed more than once (see the module docstring)."""
    seen: dict[tuple[str, str, int], int] = {}
    for span in functions:
        key = (span.name, span.file, span.first_line)
        seen[key] = seen.get(key, 0) + 1
    copied = {name for (name, _, _), count in seen.items() if count > 1}
    if not copied:
        return sites
    return [
        replace(site, notes=(*site.notes, _COPY_NOTE))
        if site.call is not None and site.call.function in copied
        else site
        for site in sites
    ]


def _unmatched(
    matcher: _Matcher,
    sites: list[Site],
    spans: dict[str, FunctionSpan],
    package: str | None,
    origin: Origin,
) -> list[Site]:
    """Escape lines with no call behind them: sites that do not allocate, and why."""
    result: list[Site] = []
    moved = {
        (s.function): s
        for s in sites
        if s.construct == Construct.MOVED_TO_HEAP and s.call is not None and s.type is None
    }
    for index, item in enumerate(matcher.diags):
        if (matcher.used[index] and index not in matcher.no_call) or not item.escaping:
            continue
        diag = item.diag
        function = item.function
        note = _why_no_call(item, moved.get(function), spans)
        result.append(
            Site(
                pos=diag.pos,
                package=package or "",
                function=function,
                construct=item.construct,
                type=None,
                count=None,
                diagnostic=diag,
                call=None,
                prediction=None,
                origin=origin,
                allocates=False,
                notes=(note,),
                expr=_expr(diag),
            )
        )
    return result


def _note_batched_carriers(sites: list[Site]) -> list[Site]:
    """The allocation that locals batched into it share says so, and whose they are: the
    object is a struct the compiler makes (Go 1.25+), with no type of its own."""
    batched: dict[tuple[str, str], list[Site]] = {}
    for site in sites:
        if not site.allocates and site.has_note(NoteCode.BATCHED):
            batched.setdefault((site.package, site.function), []).append(site)
    if not batched:
        return sites
    result = []
    for site in sites:
        others = batched.get((site.package, site.function), [])
        if site.construct == Construct.MOVED_TO_HEAP and site.call is not None and others:
            held = ", ".join(f"{o.expr} (line {o.pos.line})" for o in others)
            text = (
                f"one allocation for {site.expr or 'this local'} and {held}: Go 1.25+ "
                "merges small scalar locals into a struct of the compiler's, with no type"
            )
            site = replace(site, notes=(*site.notes, Note(NoteCode.BATCHED_CARRIER, text)))
        result.append(site)
    return result


def _unplaced(diag: EscapeDiagnostic) -> bool:
    """A variable the compiler gave no position (`moved to heap: #next`), which the
    parser put at its function's first line, column 0 (parsers/escape.py)."""
    return (
        diag.pos.col == 0 and diag.kind == EscapeKind.MOVED_TO_HEAP and diag.subject.startswith("#")
    )


def _why_no_call(item: _Diag, batched: Site | None, spans: dict[str, FunctionSpan]) -> Note:
    if _unplaced(item.diag):
        return _NO_CALL[NoteCode.NO_POSITION]
    if item.construct == Construct.MOVED_TO_HEAP and batched is not None:
        return Note(
            NoteCode.BATCHED,
            f"batched into one allocation with {batched.expr or 'another local'} "
            f"at line {batched.pos.line} (Go 1.25+ merges small scalar locals)",
        )
    if is_shape(item.diag.subject) or is_shape(item.function):
        return _NO_CALL[NoteCode.GENERIC_SHAPE]
    if item.function and spans and item.function not in spans:
        return _NO_CALL[NoteCode.INLINED_ELSEWHERE]
    reason = _NO_CALL_BY_CONSTRUCT.get(item.construct, NoteCode.NO_ALLOCATION_CALL)
    return _NO_CALL[reason]


_NO_CALL = {
    note.code: note
    for note in (
        Note(
            NoteCode.NO_POSITION,
            "the compiler gives this variable no position: shown at its function; its "
            "allocation (batched with another local from Go 1.25, else on the line of "
            "a range-over-func loop) is not paired with it",
        ),
        Note(
            NoteCode.GENERIC_SHAPE,
            "generic code: allocated where the function is instantiated (shape instance)",
        ),
        Note(
            NoteCode.INLINED_ELSEWHERE,
            "inlined: the allocation is reported in the functions it was inlined into",
        ),
        Note(
            NoteCode.NO_BOXING,
            "no allocation: the value needs no boxing (constant, zero-size, "
            "single-byte or read-only data) or the conversion was optimised away",
        ),
        Note(
            NoteCode.STATIC_CLOSURE,
            "no allocation: a func literal that captures nothing is static data, "
            "or the closure was optimised away",
        ),
        Note(
            NoteCode.NO_GROWTH_CALL,
            "no growth call here: the slice's backing array is allocated elsewhere",
        ),
        Note(
            NoteCode.NO_ALLOCATION_CALL,
            "no allocation call in the compiled code: kept on the stack or optimised away",
        ),
    )
}
_NO_CALL_BY_CONSTRUCT = {
    Construct.INTERFACE: NoteCode.NO_BOXING,
    Construct.CLOSURE: NoteCode.STATIC_CLOSURE,
    Construct.APPEND: NoteCode.NO_GROWTH_CALL,
}
