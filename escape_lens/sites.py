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
   `_ENTRY_FAMILY` / `_COMPATIBLE`): `new(T)`, `&T{}`, `[]T{...}`, `func literal` and
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

The construct vocabulary (fixed; reporters and fingerprints rely on it):
new, composite-literal, make-slice, append, map, chan, closure, interface,
string-concat, string-conversion, bytes-conversion, runes-conversion, moved-to-heap,
goroutine, defer, alloc (a direct `mallocgc` whose source construct is unknown), make
(`make(T, n)` of a defined type on a line with no allocation call, which alone would
say whether T is a slice, map or channel type).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from escape_lens import model
from escape_lens.entries import is_size_specialized
from escape_lens.predict import OBJECT_FAMILY, predict_call, predict_make_copy
from escape_lens.records import (
    AllocCall,
    EscapeDiagnostic,
    FunctionSpan,
    Origin,
    PackageOutput,
    Site,
    SourcePos,
    TypeInfo,
)

CONSTRUCTS = (
    "new",
    "composite-literal",
    "make-slice",
    "append",
    "map",
    "chan",
    "closure",
    "interface",
    "string-concat",
    "string-conversion",
    "bytes-conversion",
    "runes-conversion",
    "moved-to-heap",
    "goroutine",
    "defer",
    "alloc",
    "make",
)

# Diagnostic kinds that can stand behind an allocation; the others (leaking-param, ...)
# describe data flow, not storage.
_ESCAPING_KINDS = frozenset({"escapes", "moved-to-heap"})
_STACK_KINDS = frozenset({"does-not-escape"})

# Runtime entry -> family of constructs it implements.
_FAMILY_BY_ENTRY: dict[str, str] = {
    "newobject": OBJECT_FAMILY,
    "mallocgc": OBJECT_FAMILY,
    "makeslice": "make-slice",
    "makeslice64": "make-slice",
    "makeslicecopy": "make-slice",
    "growslice": "append",
    "growsliceBuf": "append",
    "growsliceNoAlias": "append",
    "growsliceBufNoAlias": "append",
    "makemap": "map",
    "makemap64": "map",
    "makemap_small": "map",
    "makechan": "chan",
    "makechan64": "chan",
    "convT": "interface",
    "convTnoptr": "interface",
    "convT16": "interface",
    "convT32": "interface",
    "convT64": "interface",
    "convTstring": "interface",
    "convTslice": "interface",
    "concatstrings": "string-concat",
    "concatbytes": "string-concat",
    "slicebytetostring": "string-conversion",
    "slicerunetostring": "string-conversion",
    "intstring": "string-conversion",
    "stringtoslicebyte": "bytes-conversion",
    "stringtoslicerune": "runes-conversion",
    "newproc": "goroutine",
    "deferproc": "defer",
    "newarray": "make-slice",
    "bytealg.MakeNoZero": "make-slice",
    "rawstring": "string-conversion",
}
# Which diagnostic constructs an entry family may explain.
_COMPATIBLE: dict[str, frozenset[str]] = {
    OBJECT_FAMILY: frozenset({"new", "composite-literal", "closure", "moved-to-heap", "interface"}),
    # A bare mallocgc is also what `make([]T, n); copy(...)` compiles to (OMAKESLICECOPY).
    "mallocgc": frozenset({"new", "composite-literal", "moved-to-heap", "make-slice", "make"}),
    "make-slice": frozenset({"make-slice", "make"}),
    "append": frozenset({"append"}),
    "map": frozenset({"map", "make"}),
    "chan": frozenset({"chan", "make"}),
    "interface": frozenset({"interface"}),
    "string-concat": frozenset({"string-concat", "bytes-conversion"}),
    "string-conversion": frozenset({"string-conversion", "interface"}),
    "bytes-conversion": frozenset({"bytes-conversion"}),
    "runes-conversion": frozenset({"runes-conversion"}),
    "goroutine": frozenset(),
    "defer": frozenset(),
}

# The import path part of a symbol: the characters an import path may hold. It ends where
# a receiver `(`, a type-argument list `[` or a type literal (`struct {`) begins, which
# may themselves hold slashes (`(*struct { x *internal/abi.Type }).M`).
_PATH_PREFIX = re.compile(r"[\w./%~+-]*")


def _split_symbol(symbol: str) -> tuple[str, str]:
    """(package path, name inside it) of a compiler symbol."""
    prefix = _PATH_PREFIX.match(symbol)
    head = prefix.group(0) if prefix else ""
    slash = head.rfind("/")
    dot = head.find(".", slash + 1)
    if dot < 0:
        return symbol, ""
    return symbol[:dot], symbol[dot + 1 :]


def short_function(symbol: str) -> str:
    """The function's name inside its package: `example.com/m/p.(*T).M` -> `(*T).M`.

    Binary mode names functions the same way, so source and binary sites compare.
    """
    package, name = _split_symbol(symbol)
    return name or package


def package_of(symbol: str) -> str:
    """The package path of a compiler symbol: `example.com/m/p.(*T).M` -> `example.com/m/p`."""
    return _split_symbol(symbol)[0]


def diagnostic_construct(diag: EscapeDiagnostic) -> str | None:
    """The construct a diagnostic talks about, or None when it cannot be an allocation."""
    if diag.kind == "moved-to-heap":
        return "moved-to-heap"
    subject = diag.subject.strip()
    if subject == "func literal":
        return "closure"
    if subject.startswith("new("):
        return "new"
    if subject.startswith(("make([]", "make([")):
        return "make-slice"
    if subject.startswith("make(map"):
        return "map"
    if subject.startswith("make(chan"):
        return "chan"
    if subject.startswith("make("):
        return "make"  # of a defined type (`make(Cache, n)`): slice, map or chan
    if subject == "append" or subject.startswith("append("):
        return "append"
    if subject.startswith(("([]byte)(", "[]byte(")):
        return "bytes-conversion"
    if subject.startswith(("([]rune)(", "[]rune(")):
        return "runes-conversion"
    if subject.startswith("string("):
        return "string-conversion"
    if subject.startswith("&") or subject == "... argument" or re.match(r"^\[\d*\]", subject):
        return "composite-literal"
    if " + " in subject:
        return "string-concat"
    if subject.startswith("{") or subject.endswith(" argument"):
        return None  # compiler-internal storage (`{storage for ...}`), not an expression
    return "interface"


@dataclass(frozen=True, slots=True)
class _Diag:
    diag: EscapeDiagnostic
    construct: str
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


_CLOSURE_NAME = re.compile(r"^(?P<parent>.+)\.(?:func|gowrap|deferwrap)\d+$")


def _enclosing(function: str, pos: SourcePos, functions: Sequence[FunctionSpan]) -> str:
    """The function that allocates a func literal: not the literal's own body.

    When the compiler does not name the function, the spans place a `func literal`
    line inside the literal itself (`F.func1` starts on that line); the closure
    struct is allocated by the enclosing function `F`.
    """
    named = _CLOSURE_NAME.match(function)
    if named is None:
        return function
    starts_here = any(
        short_function(span.name) == function
        and span.file == pos.file
        and span.first_line == pos.line
        for span in functions
    )
    return named.group("parent") if starts_here else function


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
    by_pos: dict[tuple[SourcePos, str, str], list[EscapeDiagnostic]] = {}
    moved: set[tuple[SourcePos, str]] = set()
    for diag in diagnostics:
        if diag.kind not in _ESCAPING_KINDS and diag.kind not in _STACK_KINDS:
            continue
        construct = diagnostic_construct(diag)
        if construct is None:
            continue
        subject = "" if construct == "append" else diag.subject
        by_pos.setdefault((diag.pos, construct, subject), []).append(diag)
        if diag.kind == "moved-to-heap":
            moved.add((diag.pos, diag.subject))
    span_names = frozenset(span.name for span in functions)
    prepared: list[_Diag] = []
    for (pos, construct, subject), group in by_pos.items():
        if construct == "interface" and (pos, subject) in moved:
            continue  # the header of a `moved to heap` verdict, merged below
        if construct == "moved-to-heap":
            group = [*group, *by_pos.get((pos, "interface", subject), [])]
        verdict = max(group, key=lambda d: (d.kind == "moved-to-heap", d.kind == "escapes"))
        flow = max((d.flow for d in group), key=len)
        subject = verdict.subject
        if construct != "moved-to-heap":
            subject = max((d.subject for d in group if d.kind == verdict.kind), key=len)
        named = next((d.function for d in group if d.function), "")
        function = _short_diag_function(named, span_names) or _owner(pos, functions)
        if construct == "closure":
            function = _enclosing(function, pos, functions)
        merged = EscapeDiagnostic(
            verdict.pos, verdict.kind, subject, verdict.message, flow, function
        )
        prepared.append(_Diag(merged, construct, function, verdict.kind in _ESCAPING_KINDS))
    prepared.sort(key=lambda d: (d.diag.pos, not d.escaping, d.construct))
    return prepared


def entry_family(entry: str) -> str | None:
    """The construct family of a runtime entry, or None if it is not an allocation entry."""
    if entry in _FAMILY_BY_ENTRY:
        return _FAMILY_BY_ENTRY[entry]
    if is_size_specialized(entry):
        return OBJECT_FAMILY
    if entry.startswith("moveSlice"):
        return "append"
    if entry.startswith(("concatstring", "concatbyte")):
        return "string-concat"
    if entry.startswith("deferproc"):
        return "defer"
    return None


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

    def on_line(self, pos: SourcePos, entry: str, family: str, function: str) -> int | None:
        """The first unused compatible diagnostic on pos's line, escaping ones first."""
        allowed = _COMPATIBLE.get(entry if entry in _COMPATIBLE else family, frozenset())
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

    def in_function(self, family: str, function: str, type_name: str) -> int | None:
        """For an inlined call: an unused escaping diagnostic of the caller naming its type."""
        allowed = _COMPATIBLE.get(family, frozenset())
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
        family = entry_family(call.entry) or OBJECT_FAMILY
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
    family = entry_family(call.entry) or OBJECT_FAMILY
    construct = _call_construct(call, family, found)
    if family == "make-slice" and call.const_count is None and found is not None:
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
    if call.entry == "mallocgc" and found is not None and found.construct in ("make-slice", "make"):
        estimate = predict_make_copy(call, found.diag, rules, known_types)
    else:
        estimate = predict_call(call, family, rules, known_types)
    notes = list(estimate.notes)
    if found is not None and not found.escaping:
        notes.append(f"{found.diag.subject} does not escape, yet it is heap-allocated")
    if inlined_from is not None and found is None and call.call_pos is None:
        notes.append("inlined; the call site in this function is not known")
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
        note="; ".join(notes),
        expr=_expr(found.diag) if found is not None else "",
        inlined_from=inlined_from,
    )


# `make([]T, 100)` or `make([]T, 10, 100)` with literal numbers: the capacity sizes it.
_MAKE_LITERAL = re.compile(r"^make\(\[\][^,]+, (?P<len>\d+)(?:, (?P<cap>\d+))?\)$")


def _expr(diag: EscapeDiagnostic) -> str:
    return diag.subject


def _call_construct(call: AllocCall, family: str, found: _Diag | None) -> str:
    if family != OBJECT_FAMILY:
        return family
    if found is not None:
        # A bare mallocgc for `make(T, n)` of a defined slice type is make + copy.
        return {"interface": "new", "make": "make-slice"}.get(found.construct, found.construct)
    name = call.type.name if call.type is not None else ""
    if name.startswith(("noalg.struct { F uintptr", "struct { F uintptr")):
        return "closure"
    if re.match(r"^(noalg\.)?\[\d+\]", name):
        return "composite-literal"
    if call.entry == "mallocgc":
        return "alloc"
    return "new"


def _inherit_moved_slice_types(sites: list[Site], rules: model.AllocRules) -> list[Site]:
    """`moveSliceNoScan*` gets an element size, not a type: a slice moved to the heap at
    `return` (1.26+) is the one the function's appends built, so it takes their type."""
    grown: dict[str, set[TypeInfo]] = {}
    for site in sites:
        if site.construct == "append" and site.type is not None:
            grown.setdefault(site.function, set()).add(site.type)
    result = []
    for site in sites:
        types = grown.get(site.function, set())
        if site.construct == "append" and site.type is None and len(types) == 1:
            (elem,) = types
            pointers = elem.pointers and "NoScan" not in (site.entry or "")
            dynamic = model.predict_dynamic(elem.size, pointers, rules)
            note = "the appended slice is moved to the heap here (Go 1.26+)"
            site = replace(site, type=elem, prediction=dynamic, note=note)
        result.append(site)
    return result


def _label_go_and_defer(sites: list[Site]) -> list[Site]:
    """A closure allocated on the line of a `go`/`defer` is that statement's wrapper."""
    statement_lines = {
        (s.function, (s.call.pos if s.call else s.pos)): s.construct
        for s in sites
        if s.construct in ("goroutine", "defer")
    }
    relabelled = []
    for site in sites:
        where = (site.function, site.call.pos if site.call else site.pos)
        statement = statement_lines.get(where)
        if statement is not None and site.construct == "closure":
            what = "go" if statement == "goroutine" else "defer"
            note = f"the wrapper closure of the {what} statement"
            site = replace(site, construct=statement, note=_join_note(note, site.note))
        relabelled.append(site)
    return relabelled


def _join_note(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


_COPY_NOTE = (
    "one of several copies of this closure (the compiler compiles it again for each "
    "inlined call of its enclosing function); a program keeps the copies it reaches"
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
        replace(site, note=_join_note(site.note, _COPY_NOTE))
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
        if s.construct == "moved-to-heap" and s.call is not None and s.type is None
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
                note=note,
                expr=_expr(diag),
            )
        )
    return result


def _why_no_call(item: _Diag, batched: Site | None, spans: dict[str, FunctionSpan]) -> str:
    if item.construct == "moved-to-heap" and batched is not None:
        return (
            f"batched into one allocation with {batched.expr or 'another local'} "
            f"at line {batched.pos.line} (Go 1.25+ merges small scalar locals)"
        )
    if "go.shape." in item.diag.subject or "[go.shape." in item.function:
        return "generic code: allocated where the function is instantiated (shape instance)"
    if item.function and spans and item.function not in spans:
        return "inlined: the allocation is reported in the functions it was inlined into"
    if item.construct == "interface":
        return (
            "no allocation: the value needs no boxing (constant, zero-size, "
            "single-byte or read-only data) or the conversion was optimised away"
        )
    if item.construct == "closure":
        return (
            "no allocation: a func literal that captures nothing is static data, "
            "or the closure was optimised away"
        )
    if item.construct == "append":
        return "no growth call here: the slice's backing array is allocated elsewhere"
    return "no allocation call in the compiled code: kept on the stack or optimised away"
