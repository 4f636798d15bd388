"""The join: escape diagnostics and allocation calls become allocation *sites*.

The compiler says two things about an allocation, in two places, and they disagree often
enough that neither alone is the truth (DESIGN.md, "What real compiler output does"):

* the escape diagnostics (`-m`) say *why* something goes to the heap, with a column and a
  flow chain, but not whether or how it is allocated;
* the assembly (`-S`) shows the runtime call that *does* allocate (`newobject`,
  `makeslice`, `mallocgcSmallNoScanSC4`, ...), with the type descriptor and constant
  arguments, but only a line (no column) and, for inlined code, the callee's line.

Rules of the join, in the order they are applied:

1. **The calls are what allocates.** Every allocation call becomes a site, with or without
   an escape line behind it. Channels (`makechan`) have no escape line at all; appends to
   non-escaping slices still call `growslice`; conversions and concatenations allocate
   whenever their result is too big for the caller's 32-byte buffer.
2. **Pairing is by position and construct.** A call pairs with an unused diagnostic on the
   same file and line whose construct is compatible with the runtime entry (the table
   `EXPLAINS` in escape_lens/entries.py): `new(T)`, `&T{}`, `[]T{...}`, `func literal` and
   `moved to heap: x` with `newobject` / `mallocgc*SC*` / `mallocgc`; `make([]T, n)` with
   `makeslice` (or a direct `mallocgc` for `make` + `copy`); `append` with `growslice`,
   `growsliceBuf` and `moveSlice*`; `make(map...)` with `makemap*`; `x escapes to heap`
   with `convT*`; `a + b` with `concatstring*`; conversions with their runtime helpers.
   Several calls on one line pair with diagnostics in column order (assembly follows
   evaluation order). "does not escape" lines pair too: they explain a heap allocation
   that escape analysis did not cause (a variable-length `make`, a grown slice).
   A diagnostic belongs to one function: when the compiler names it (`... in F:`) or the
   function spans place it, a call of another function does not take it.
3. **Inlined allocations** run in the function they were inlined into, so the site is
   attributed to that function. `-S` places the call at the callee's line (another
   function's lines, another file, another package); `-m` places the diagnostic at the
   call site in the caller, which the compiler's inlining tables give exactly
   (`AllocCall.call_pos`, parsers/inltree.py). Such a call pairs with a compatible unused
   diagnostic on that line, else it is a site of its own there; the site's `pos` is the
   caller's position and `inlined_from` the callee's. Only a call without `call_pos`
   (binary mode without an inline tree entry, old captured output) looks for a
   compatible diagnostic anywhere in the caller that names its type.
4. **Escape lines without a call** are sites with `allocates=False` and a note: batched
   into another moved-to-heap allocation (1.25+ merges small scalar locals into one
   `mallocgc`), inlined (the allocation is reported where it was inlined), generic (compiled
   where instantiated, under a shape name), no boxing needed (interface conversion of a
   constant, zero-size or byte value), or kept on the stack / optimised away.
5. **Generic code** is compiled under shape names (`NewStack[go.shape.int64]`); the
   site keeps the compiler's function name, so each instantiation shape is its own site.
6. **Predictions** use the model for the site's real request, with the self-check of
   size-specialized entries (escape_lens/predict.py).
7. **Cache replays** need nothing here: the build parser already resolves the file names
   of a replayed `-m` text (relative to the directory of the build that filled the
   cache) to the package's files (parsers/positions.py).
8. **Binary mode** calls the join with calls only (`diagnostics=()`, origin "binary"):
   every rule above that needs a diagnostic simply does not fire.

Where source mode and binary mode (`--cross-check`) legitimately differ:

* **Closure copies.** When a function containing a closure is inlined, the compiler
  compiles the closure body again for that context, as a second text symbol
  `F.func1#<hash>#` next to `F.func1` (`ir.NewClosureFunc`; `obj.TrimInlineHash` removes
  the hash from the name). Both are in the package's listing, so source mode reports the
  closure's allocations once per copy, under the one name `F.func1`; a linked program
  keeps only the copies something reaches, so the binary may hold fewer calls at those
  lines (go1.27 std: `cmd/go/internal/modload.fixVersion.func1`,
  `crypto/tls.ekmFromMasterSecret.func1`). The `-S` listing cannot say which copy a
  program will keep: that is decided by the linker's reachability, per program. Such
  sites say so in their note (`_note_closure_copies`).
* Functions the linker drops altogether are not compared at all (crosscheck.py).

The construct vocabulary is `vocab.Construct` (fixed; reporters and fingerprints rely
on it); every note a site gets carries a `vocab.NoteCode`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from escape_lens import model
from escape_lens.entries import EXPLAINS, entry_family, explains
from escape_lens.gonames import enclosing_function, is_shape, package_of, short_function
from escape_lens.predict import SLICE_MOVED, predict_call, predict_make_copy
from escape_lens.records import (
    AllocCall,
    EscapeDiagnostic,
    FunctionSpan,
    Note,
    Origin,
    PackageOutput,
    Site,
    SourcePos,
    TypeInfo,
)
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
    if subject.startswith("make("):
        return Construct.MAKE  # of a defined type (`make(Cache, n)`): slice, map or chan
    if subject == "append" or subject.startswith("append("):
        return Construct.APPEND
    if subject.startswith(("([]byte)(", "[]byte(")):
        return Construct.BYTES_CONVERSION
    if subject.startswith(("([]rune)(", "[]rune(")):
        return Construct.RUNES_CONVERSION
    if subject.startswith("string("):
        return Construct.STRING_CONVERSION
    if subject.startswith("&") or subject == "... argument" or re.match(r"^\[\d*\]", subject):
        return Construct.COMPOSITE_LITERAL
    if " + " in subject:
        return Construct.STRING_CONCAT
    if subject.startswith("{") or subject.endswith(" argument"):
        return None  # compiler-internal storage (`{storage for ...}`), not an expression
    return Construct.INTERFACE


@dataclass(frozen=True, slots=True)
class _Diag:
    diag: EscapeDiagnostic
    construct: Construct
    function: str  # short name; "" when unknown
    escaping: bool


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


def _enclosing(function: str, pos: SourcePos, functions: Sequence[FunctionSpan]) -> str:
    """The function that allocates a func literal: not the literal's own body.

    When the compiler does not name the function, the spans place a `func literal`
    line inside the literal itself (`F.func1` starts on that line); the closure
    struct is allocated by the enclosing function `F`.
    """
    parent = enclosing_function(function)
    if parent is None:
        return function
    starts_here = any(
        short_function(span.name) == function
        and span.file == pos.file
        and span.first_line == pos.line
        for span in functions
    )
    return parent if starts_here else function


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
    for diag in diagnostics:
        if diag.kind not in _ESCAPING_KINDS and diag.kind not in _STACK_KINDS:
            continue
        construct = diagnostic_construct(diag)
        if construct is None:
            continue
        subject = "" if construct == Construct.APPEND else diag.subject
        by_pos.setdefault((diag.pos, construct, subject), []).append(diag)
        if diag.kind == EscapeKind.MOVED_TO_HEAP:
            moved.add((diag.pos, diag.subject))
    span_names = frozenset(span.name for span in functions)
    prepared: list[_Diag] = []
    for (pos, construct, subject), group in by_pos.items():
        if construct == Construct.INTERFACE and (pos, subject) in moved:
            continue  # the header of a `moved to heap` verdict, merged below
        if construct == Construct.MOVED_TO_HEAP:
            group = [*group, *by_pos.get((pos, Construct.INTERFACE, subject), [])]
        verdict = max(
            group,
            key=lambda d: (d.kind == EscapeKind.MOVED_TO_HEAP, d.kind == EscapeKind.ESCAPES),
        )
        flow = max((d.flow for d in group), key=len)
        subject = verdict.subject
        if construct != Construct.MOVED_TO_HEAP:
            subject = max((d.subject for d in group if d.kind == verdict.kind), key=len)
        named = next((d.function for d in group if d.function), "")
        function = _short_diag_function(named, span_names) or _owner(pos, functions)
        if construct == Construct.CLOSURE:
            function = _enclosing(function, pos, functions)
        merged = EscapeDiagnostic(
            verdict.pos, verdict.kind, subject, verdict.message, flow, function
        )
        prepared.append(_Diag(merged, construct, function, verdict.kind in _ESCAPING_KINDS))
    prepared.sort(key=lambda d: (d.diag.pos, not d.escaping, d.construct))
    return prepared


def _is_inlined(call: AllocCall) -> bool:
    """`call_pos` says so: from the compiler's inlining tables (source mode) or the
    binary's inline tree. The function spans cannot: `init` runs the package-level
    initialisers of every file, own code far outside its span."""
    return call.call_pos is not None


class _Matcher:
    """Unused diagnostics, looked up by line and by function."""

    def __init__(self, diags: list[_Diag]) -> None:
        self.diags = diags
        self.used = [False] * len(diags)
        self.by_line: dict[tuple[str, int], list[int]] = {}
        self.by_function: dict[str, list[int]] = {}
        for index, item in enumerate(diags):
            self.by_line.setdefault((item.diag.pos.file, item.diag.pos.line), []).append(index)
            self.by_function.setdefault(item.function, []).append(index)

    def take(self, index: int | None) -> _Diag | None:
        if index is None:
            return None
        self.used[index] = True
        return self.diags[index]

    def on_line(self, pos: SourcePos, entry: str, family: EntryFamily, function: str) -> int | None:
        """The first unused compatible diagnostic on pos's line, escaping ones first."""
        allowed = explains(entry, family)
        fallback = None
        for index in self.by_line.get((pos.file, pos.line), ()):
            item = self.diags[index]
            if self.used[index] or item.construct not in allowed:
                continue
            if item.function and function and item.function != function:
                continue
            if item.escaping:
                return index
            if fallback is None:
                fallback = index
        return fallback

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
) -> list[Site]:
    """Sites of one package (or, with `package=None`, of calls from any package).

    `functions` and `types` come from the same compilation (PackageOutput); binary mode
    passes calls only. The result is in no particular order: `analyze` sorts.
    """
    known_types = {t.name: t for t in types}
    spans = _spans_by_short(functions)
    matcher = _Matcher(_prepare(diagnostics, functions))
    sites: list[Site] = []
    pending_inlined: list[AllocCall] = []

    for call in calls:
        family = entry_family(call.entry)
        if family is None:
            continue
        function = short_function(call.function)
        if _is_inlined(call):
            pending_inlined.append(call)
            continue
        found = matcher.take(matcher.on_line(call.pos, call.entry, family, function))
        sites.append(_site(call, found, None, rules, package, known_types, origin))

    for call in pending_inlined:
        family = entry_family(call.entry) or EntryFamily.OBJECT
        function = short_function(call.function)
        if call.call_pos is not None:
            # The compiler's inlining tables place the call exactly: its diagnostic is
            # on that line or there is none (no guessing elsewhere in the function).
            index = matcher.on_line(call.call_pos, call.entry, family, function)
        else:
            type_name = call.type.name if call.type is not None else ""
            index = matcher.in_function(family, function, type_name)
        found = matcher.take(index)
        sites.append(_site(call, found, call.pos, rules, package, known_types, origin))

    sites = _inherit_moved_slice_types(sites, rules)
    sites = _label_go_and_defer(sites)
    sites = _note_closure_copies(sites, functions)
    sites.extend(_unmatched(matcher, sites, spans, package, origin))
    return sites


def join_package(package: PackageOutput, rules: model.AllocRules) -> list[Site]:
    """The sites of one compiled target package."""
    return join_sites(
        package.calls,
        package.diagnostics,
        rules,
        package=package.import_path,
        functions=package.functions,
        types=package.types,
    )


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
    if call.entry == "mallocgc" and found is not None and found.construct in _MAKES:
        estimate = predict_make_copy(call, found.diag, rules, known_types)
    else:
        estimate = predict_call(call, family, rules, known_types)
    notes = list(estimate.notes)
    if found is not None and not found.escaping:
        text = f"{found.diag.subject} does not escape, yet it is heap-allocated"
        notes.append(Note(NoteCode.STACK_YET_HEAP, text))
    if inlined_from is not None and found is None and call.call_pos is None:
        text = "inlined; the call site in this function is not known"
        notes.append(Note(NoteCode.INLINED_CALL_UNKNOWN, text))
    diagnostic = found.diag if found is not None else None
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
        allocates=True,
        notes=tuple(notes),
        expr=_expr(found.diag) if found is not None else "",
        inlined_from=inlined_from,
    )


_MAKES = frozenset({Construct.MAKE_SLICE, Construct.MAKE})
# `make([]T, 100)` or `make([]T, 10, 100)` with literal numbers: the capacity sizes it.
_MAKE_LITERAL = re.compile(r"^make\(\[\][^,]+, (?P<len>\d+)(?:, (?P<cap>\d+))?\)$")


def _expr(diag: EscapeDiagnostic) -> str:
    return diag.subject


def _call_construct(call: AllocCall, family: EntryFamily, found: _Diag | None) -> Construct:
    if family != EntryFamily.OBJECT:
        return Construct(family.value)  # the other families are named as their construct
    if found is not None:
        # A bare mallocgc for `make(T, n)` of a defined slice type is make + copy.
        return _OBJECT_CONSTRUCT.get(found.construct, found.construct)
    name = call.type.name if call.type is not None else ""
    if name.startswith(("noalg.struct { F uintptr", "struct { F uintptr")):
        return Construct.CLOSURE
    if re.match(r"^(noalg\.)?\[\d+\]", name):
        return Construct.COMPOSITE_LITERAL
    if call.entry == "mallocgc":
        return Construct.ALLOC
    return Construct.NEW


_OBJECT_CONSTRUCT = {Construct.INTERFACE: Construct.NEW, Construct.MAKE: Construct.MAKE_SLICE}


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
        if matcher.used[index] or not item.escaping:
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


def _why_no_call(item: _Diag, batched: Site | None, spans: dict[str, FunctionSpan]) -> Note:
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
