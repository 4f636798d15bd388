"""A fix hint true for one site: its cause's remedy in the site's own type, size and class.

Invariants:
- A pure function of the site and the Go version's allocator rules: the words and the
  bytes come from the site (`type`, `prediction`, notes), the cause from causes.py, the
  field order from layout.py. Nothing is said that the site does not show: no hint for a
  site that allocates nothing, no layout advice without sized fields, and never "shrink"
  for an object that wastes nothing or a change that stays in its class.
- The runtime's exceptions are the runtime's (go/src/runtime/iface.go in go1.21-1.27):
  convT16/32/64 take `runtime.staticuint64s` for values below 256, convTstring an empty
  string and convTslice a nil slice without allocating.
- `recoverable` is the class bytes one execution gives back when the hint is followed
  (0 when the hint removes nothing certain, or the size is known only at run time);
  rank.py orders sites by it.
"""

from __future__ import annotations

from dataclasses import dataclass

from escape_lens.advice.causes import SiteCause, cause_of
from escape_lens.advice.layout import Layout, site_layout
from escape_lens.gonames import is_closure_record, type_in_package
from escape_lens.model import AllocRules
from escape_lens.parsers.flowedges import UINTPTR_ESCAPES
from escape_lens.records import Site
from escape_lens.vocab import Cause, Construct, NoteCode

# Returning by value costs a copy: a struct up to this size (eight words) is worth
# returning whole; a larger one returned by pointer is usually an API's choice.
_BY_VALUE_MAX = 64
_STACK_LIMIT = 64 << 10  # cmd/compile ir.MaxImplicitStackVarSize (go1.21-1.27)
_PRINTING = ("fmt", "log", "errors")


@dataclass(frozen=True, slots=True)
class Hint:
    """What to change at a site, and the class bytes per execution it gives back."""

    text: str
    recoverable: int = 0
    layout: Layout | None = None


def hint_for(
    site: Site, rules: AllocRules, cause: SiteCause | None = None, *, preallocated: bool = False
) -> Hint:
    """The hint for one site (an empty text when nothing true can be said). `preallocated`:
    the slice an append grows was made with a capacity (advice/capacity.py)."""
    if not site.allocates:
        return Hint("")
    cause = cause or cause_of(site)
    layout = site_layout(site, rules)
    done = preallocated and cause.category == Cause.SLICE_GROWTH  # nothing left to say
    text, removable = ("", False) if done else _by_cause(site, cause)
    recoverable = site.class_bytes if removable else 0
    layout_text = _layout_words(site, layout)
    if layout is not None and layout.recoverable > recoverable and not removable:
        recoverable = layout.recoverable
    return Hint("; ".join(t for t in (text, layout_text) if t), recoverable, layout)


def size_words(size: int) -> str:
    """`48 B`, `4 KiB`, `1 MiB`; exact, as sizes and size classes are: `1152 B`, never
    a rounded `1.1 KiB` (or `8.0 KiB` for 8190 B)."""
    if size >= 1 << 20 and size % (1 << 20) == 0:
        return f"{size >> 20} MiB"
    if size >= 1 << 10 and size % (1 << 10) == 0:
        return f"{size >> 10} KiB"
    return f"{size} B"


def _type_words(site: Site) -> str:
    if site.type is None:
        return "object"
    if site.construct in (Construct.MAKE_SLICE, Construct.APPEND):
        return f"[]{_short(site.type.name, site)}"
    if is_closure_record(site.type.name):
        return f"func value ({size_words(site.type.size)})"
    return f"{_short(site.type.name, site)} ({size_words(site.type.size)})"


def _short(name: str, site: Site) -> str:
    """A type name as Go source in the site's package writes it."""
    return type_in_package(name, site.package)


def _by_cause(site: Site, cause: SiteCause) -> tuple[str, bool]:
    """The cause's remedy for this site, and whether following it removes the allocation."""
    category, via = cause.category, cause.via
    cost = size_words(site.class_bytes) if site.class_bytes else ""
    per_call = f" ({cost} per call)" if cost else ""
    if category == Cause.RETURNED:
        return _returned(site)
    if category == Cause.INTERFACE_BOXING:
        return _boxing(site, via)
    if category == Cause.TOO_LARGE_FOR_STACK:
        return (
            f"above the compiler's {size_words(_STACK_LIMIT)} limit for implicit stack "
            f"objects: reuse the buffer (sync.Pool or a field) — this site allocates "
            f"{cost or 'it'} per call",
            True,
        )
    if category == Cause.UNKNOWN_SIZE:
        above = f"; it takes the heap only above {site.heap_above} B" if site.heap_above else ""
        return (
            "the length is known only at run time: a constant capacity (make([]T, n) with "
            f"constant n ≤ {size_words(_STACK_LIMIT)}, then slice it) stays on the stack{above}",
            False,
        )
    if category == Cause.SLICE_GROWTH:
        elem = _short(site.type.name, site) if site.type is not None else "T"
        if site.has_note(NoteCode.SLICE_MOVED):
            return ("the grown slice is moved to the heap when it escapes: preallocate", False)
        return (
            f"preallocate: make([]{elem}, 0, n) when n is known, so append never regrows "
            "and copies",
            False,
        )
    if category == Cause.MAP:
        if site.has_note(NoteCode.MAP_BUCKETS_LATER) or site.has_note(NoteCode.MAP_HINT_DYNAMIC):
            return ("give make a size hint (make(map[K]V, n)): each growth rehashes", False)
        return ("reuse the map with clear(m) rather than making a new one", False)
    if category == Cause.CHANNEL:
        return (f"make the channel once and reuse it{per_call}", False)
    if category == Cause.STRING_BUILDING:
        return _strings(site), site.class_bytes > 0
    if category == Cause.METHOD_VALUE:
        return (
            f"x.M as a value allocates a closure holding x{per_call}: call x.M() "
            "directly, or make the func value once",
            True,
        )
    if category == Cause.CLOSURE_CAPTURE:
        return (
            f"captured by reference by a closure that escapes: the {_type_words(site)} "
            "moves to the heap; pass it as an argument, or capture a copy that is never "
            "reassigned (captured by value)",
            True,
        )
    if category == Cause.GOROUTINE:
        if site.has_note(NoteCode.POOLED_RECORD):
            return ("the runtime reuses a free g: nothing to change here", False)
        return (f"the go statement's closure{per_call}: pass values as arguments", False)
    if category == Cause.DEFER:
        if site.has_note(NoteCode.POOLED_RECORD):
            return ("the runtime reuses a free _defer record", False)
        return (
            "a defer in a loop is not open-coded: move the loop body into a function "
            f"so its defer is{per_call}",
            True,
        )
    if category == Cause.GLOBAL:
        return (f"stored in package variable {via}: make it once (at init) and reuse it", False)
    if category == Cause.STORED_TO_HEAP:
        where = f"in {via}" if via else "in a heap object"
        return (
            f"stored {where}: hold the {_type_words(site)} by value there, not by pointer",
            False,
        )
    if category == Cause.SENT_ON_CHANNEL:
        return (f"sent on a channel: send the {_type_words(site)} by value (chan T)", False)
    if category == Cause.PASSED_TO_CALL and via == UINTPTR_ESCAPES:
        return (
            "passed as a uintptr to a //go:uintptrescapes function (a system call's "
            "kind): its pointer arguments always move to the heap; reuse one object "
            "across calls if this is hot",
            False,
        )
    if category == Cause.PASSED_TO_CALL:
        callee = via or "the callee"
        return (
            f"{callee} keeps its argument (or escape analysis cannot see through it: a "
            "func value or interface method): pass a value or call a concrete function",
            False,
        )
    if category == Cause.KEPT_PAST_SCOPE:
        return (
            f"kept in {via}, which outlives it (declared outside the loop or closure that "
            f"makes it, or itself on the heap): in a loop, make one {_type_words(site)} "
            "before it and reuse it; else keep a value there",
            False,
        )
    if category == Cause.MOVED_TO_HEAP:
        return (f"its address outlives the call: the {_type_words(site)} moves to the heap", False)
    return ("", False)


def _returned(site: Site) -> tuple[str, bool]:
    typ = site.type
    if site.construct == Construct.CLOSURE:
        return ("a returned closure: return a struct whose method does the work", False)
    if typ is None:
        return ("returned: let the caller provide the object", False)
    literal_slice = site.construct == Construct.COMPOSITE_LITERAL and typ.name.startswith("[")
    if site.construct in (Construct.NEW, Construct.COMPOSITE_LITERAL) and not literal_slice:
        if typ.size <= _BY_VALUE_MAX and _own_type(site):
            return (f"return {_short(typ.name, site)} ({size_words(typ.size)}) by value", True)
        return (
            f"returned: a caller that needs no new {_short(typ.name, site)} each call could pass "
            f"one in to fill ({size_words(site.class_bytes)} per call)",
            False,
        )
    if site.construct in (Construct.MAKE_SLICE, Construct.COMPOSITE_LITERAL):
        return ("a returned slice: let the caller pass a buffer to append to", False)
    return ("returned: let the caller provide it", False)


def _own_type(site: Site) -> bool:
    """Whether the site's type is its own package's and the code is too (not inlined from
    another package): only then is the package free to return it by value."""
    typ = site.type
    # (a command's types are `main.T`, and no other package can import a command)
    if typ is None or not typ.name.lstrip("*").startswith((site.package + ".", "main.")):
        return False
    callee = site.inlined_from
    return callee is None or callee.file.rpartition("/")[0] == site.pos.file.rpartition("/")[0]


def _boxing(site: Site, via: str) -> tuple[str, bool]:
    typ = site.type
    what = _type_words(site)
    cost = size_words(site.class_bytes)
    where = f" for {via}" if via else ""
    printing = via.split(".")[0] in _PRINTING
    instead = "; strconv.Append* into a reused []byte avoids it" if printing else ""
    if site.has_note(NoteCode.SMALL_INTEGER) and typ is not None:
        return (
            f"the {size_words(typ.size)} {_short(typ.name, site)} is boxed{where}: values 0-255 do "
            f"not allocate (runtime.staticuint64s), others take {cost}{instead}",
            True,
        )
    if site.entry == "convTstring":
        return (
            f"the string header is boxed{where} ({cost}): an empty string does not "
            f"allocate{instead}; pass it as a string where the callee allows",
            True,
        )
    if site.entry == "convTslice":
        return (f"the slice header is boxed{where} ({cost}): a nil slice does not allocate", True)
    if site.construct == Construct.INTERFACE:
        return (
            f"the {what} is copied into an interface{where} ({cost}){instead}; pass a "
            "pointer you already hold, or a concrete type",
            True,
        )
    return (f"converted to an interface{where}: the {what} escapes with it", False)


def _strings(site: Site) -> str:
    cost = size_words(site.class_bytes) if site.class_bytes else "a run-time size"
    if site.construct == Construct.STRING_CONCAT:
        return (
            f"concatenation allocates the result ({cost}): build with strings.Builder "
            "(Grow once) or append to a reused []byte"
        )
    if site.construct == Construct.BYTES_CONVERSION:
        return (
            f"([]byte)(s) copies ({cost}): read-only use can take the string "
            "(or append to a reused []byte)"
        )
    if site.construct == Construct.RUNES_CONVERSION:
        return f"([]rune)(s) copies ({cost}): range over the string instead"
    return (
        f"string(b) copies ({cost}): keep the []byte where you can; m[string(b)] and "
        "comparisons do not copy"
    )


def _layout_words(site: Site, layout: Layout | None) -> str:
    """The struct's waste and what the best field order does about it ("" when it wastes
    nothing or the layout is unknown)."""
    prediction = site.prediction
    if layout is None or prediction is None:
        return ""
    if layout.recoverable == 0 and prediction.waste_bytes <= 0:
        return ""  # it wastes nothing, and no order changes its class: nothing to say
    size = prediction.requested_bytes
    waste = prediction.waste_bytes
    pct = round(100 * waste / layout.class_bytes)
    many = f"{layout.objects} x " if layout.objects > 1 else ""
    if waste <= 0:  # exactly a class, yet padding the best order removes reaches a smaller one
        return (
            f"{many}{_short(layout.type.name, site)} is {size_words(size)}, "
            f"{size_words(size - layout.best_size * layout.objects)} of it padding; "
            f"reordering fields to {', '.join(f.name for f in layout.order)} reaches "
            f"{size_words(layout.best_size * layout.objects)} "
            f"({size_words(layout.best_class_bytes)} class)"
        )
    head = (
        f"{many}{_short(layout.type.name, site)} is {size_words(size)} → "
        f"{size_words(layout.class_bytes)} class: {size_words(waste)} ({pct} %) wasted"
    )
    if layout.recoverable > 0:
        order = ", ".join(f.name for f in layout.order)
        return (
            f"{head}; reordering fields to {order} reaches "
            f"{size_words(layout.best_size * layout.objects)} "
            f"({size_words(layout.best_class_bytes)} class)"
        )
    if layout.best_size < layout.type.size:
        return (
            f"{head}; the best field order ({size_words(layout.best_size)}) stays in "
            "the same class: no order helps"
        )
    return f"{head}; no field order is smaller"
