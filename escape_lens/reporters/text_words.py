"""What the text report says about a site, in few words: bytes, path, reason, expression.

Every cell of a site line is made here (`row_of`), from the site's records: the
prediction (bytes and allocator path), the flow steps of its escape diagnostic (the last
step that is not the compiler's bookkeeping says why it escapes), its coded notes (a
failed self-check of the model outranks everything), its expression and type as the
package writes them. Shorter forms of a reason keep its sense (`passed to F` -> `to F`);
where the cells go is reporters/text_layout.py.
"""

from __future__ import annotations

import functools
import re
import sys

from escape_lens.gonames import type_in_package
from escape_lens.model.explain import is_pooled, path_column
from escape_lens.records import EscapeDiagnostic, Note, Site, join_notes
from escape_lens.reporters.flowwords import BOOKKEEPING, edge_words, last_edge
from escape_lens.reporters.text_layout import Row, base_name, cut, cut_expr
from escape_lens.vocab import AllocPath, Construct, EscapeKind, NoteCode

# Terminal labels for the construct vocabulary; unlisted ones print as they are.
SHORT_CONSTRUCT = {
    Construct.COMPOSITE_LITERAL: "literal",
    Construct.MAKE_SLICE: "make",
    Construct.INTERFACE: "iface",
    Construct.STRING_CONCAT: "concat",
    Construct.STRING_CONVERSION: "string",
    Construct.BYTES_CONVERSION: "[]byte",
    Construct.RUNES_CONVERSION: "[]rune",
    Construct.MOVED_TO_HEAP: "moved",
    Construct.GOROUTINE: "go",
    Construct.METHOD_VALUE: "method",
}


# After the construct: the allocation is another function's code inlined here (the site
# is at the call; `-v` names the callee's line, the summary explains the mark).
INLINED_MARK = "↳"


def describe_bytes(site: Site) -> str:
    """Bytes in words: `32→32 B`, `304→320 B +16` (waste), `n×8 B` (length at run time)."""  # noqa: RUF002
    if not site.allocates:
        return "no allocation"
    left, arrow, right = bytes_cells(site)
    return f"{left}{arrow}{right}".strip()


def bytes_cells(site: Site) -> tuple[str, str, str]:
    """The bytes column in three parts, so that arrows line up: requested, arrow, taken."""
    if not site.allocates:
        return ("", "", "-")
    if site.prediction is None and is_pooled(site):
        return ("", "", "pooled")  # a g / _defer record from a free list, rarely a new object
    if site.prediction is not None and site.prediction.path == AllocPath.DYNAMIC:
        return (f"n×{site.prediction.elem_bytes or 0}", " ", "B")  # noqa: RUF001
    if site.prediction is None:
        return ("", "", "? B")
    taken = f"{site.class_bytes} B" + (f" +{site.waste_bytes}" if site.waste_bytes else "")
    return (str(site.requested_bytes), "→", taken)


def escape_reason(diagnostic: EscapeDiagnostic) -> str:
    """Where the value ends up, in a few words, from the compiler's flow chain.

    The chain runs from the allocation to the place that makes it escape; its last step
    that is not bookkeeping says why (`returned`, `passed to F`, `stored in X`); "" when
    the chain is bookkeeping only.
    """
    if diagnostic.kind == EscapeKind.DOES_NOT_ESCAPE:
        return "does not escape"
    decisive = last_edge(diagnostic, BOOKKEEPING)
    return edge_words(decisive) if decisive is not None else ""


def first_reason(site: Site) -> str:
    """The reason column: a model alarm, else why nothing is allocated, else why it escapes."""
    return _reason(site)[0]


def _reason(site: Site) -> tuple[str, NoteCode | None]:
    """`first_reason`, and the code of the note it comes from (None: the flow chain's)."""
    alarm = _alarm(site.notes)
    if alarm:
        return alarm, NoteCode.MODEL_DISAGREES  # a model bug outranks everything else
    code = site.notes[0].code if site.notes else None
    note = _note_clause(site.notes)
    if not site.allocates:
        return note, code
    diag = site.diagnostic
    if diag is None:
        return note, code
    reason = escape_reason(diag)
    if not reason:  # the chain only says it was spilled: the note knows better
        if note:
            return note, code
        return ("moved to heap" if diag.kind == EscapeKind.MOVED_TO_HEAP else "escapes"), None
    return reason, None


# Shorter forms of a flow chain's reason, tried in order when the full phrase does not fit.
_SHORTER = (
    ("passed to ", "to "),
    ("stored in ", "in "),
    ("assigned to ", "to "),
    ("captured by a closure", "captured"),
    ("converted to an interface", "to interface"),
    ("does not escape", "no escape"),
)


# The notes the join writes most often, said in fewer words: per code, the opening of its
# text and what says it shorter (tests/unit/test_vocab.py checks the openings are real).
NOTE_SHORTER: dict[NoteCode, tuple[tuple[str, str], ...]] = {
    NoteCode.NO_BOXING: (("the value needs no boxing", "needs no boxing"),),
    NoteCode.NO_ALLOCATION_CALL: (
        ("kept on the stack or optimised away", "stack or optimised away"),
    ),
    NoteCode.POOLED_RECORD: (
        ("the runtime reuses a free g / _defer record", "reuses a free record"),
    ),
    NoteCode.STATEMENT_WRAPPER: (
        ("the wrapper closure of the defer statement", "wraps the deferred call"),
        ("the wrapper closure of the go statement", "wraps the go call"),
    ),
    NoteCode.MAP_BUCKETS_LATER: (
        ("buckets/groups come with the first insert", "buckets on first insert"),
    ),
    NoteCode.APPEND_GROWTH: (
        (
            "grows by doubling (by 1.25 beyond 256 elements), rounded up to a size class",
            "grows by doubling",
        ),
    ),
    NoteCode.STRING_BUFFER: (
        ("no allocation when the result does not escape and fits 32 bytes", "none if local, ≤32 B"),
    ),
    NoteCode.SLICE_MOVED: (
        ("the appended slice is moved to the heap here", "slice moved to the heap here"),
    ),
    NoteCode.STATIC_CLOSURE: (
        ("a func literal that captures nothing is static data", "static: captures nothing"),
    ),
}


@functools.lru_cache(maxsize=4096)  # a report repeats a few reasons, each asked for often
def reason_forms(reason: str, code: NoteCode | None = None) -> tuple[str, ...]:
    """The reason, then ever shorter forms of it that keep its sense (`to F`); a note's
    shorter forms are chosen by its code."""
    forms = [reason]
    for long, short in _SHORTER if code is None else NOTE_SHORTER.get(code, ()):
        if forms[-1].startswith(long):
            forms.append(short + forms[-1][len(long) :])
    without_asides = re.sub(r" \([^()]*[ ,][^()]*\)", "", forms[-1])  # prose, not `(*T).M`
    return (*forms, without_asides) if without_asides != forms[-1] else tuple(forms)


def cut_reason(reason: str, room: int, code: NoteCode | None = None) -> str:
    """The longest form of the reason that fits; the shortest, cut, if none does."""
    forms = reason_forms(reason, code)
    return next((form for form in forms if len(form) <= room), cut(forms[-1], room))


def _alarm(notes: tuple[Note, ...]) -> str:
    """The model's alarm and the notes after it ("" without one)."""
    for index, note in enumerate(notes):
        if note.code == NoteCode.MODEL_DISAGREES:
            return join_notes(notes[index:])
    return ""


# Notes of escape lines without an allocation, which open with a `no allocation: ` (or
# `no allocation call in the compiled code: `) that the columns already say.
_SAYS_NO_ALLOCATION = frozenset(
    {
        NoteCode.NO_BOXING,
        NoteCode.STATIC_CLOSURE,
        NoteCode.NO_ALLOCATION_CALL,
        NoteCode.STACK_BUFFER,  # (`heap only above 32 B: `, which the path column says)
    }
)


def _note_clause(notes: tuple[Note, ...]) -> str:
    """The first clause of the first note, without a `no allocation` the columns say."""
    if not notes or notes[0].code == NoteCode.STACK_YET_HEAP:
        return ""  # (that one restates the diagnostic)
    clause = notes[0].text.split("; ")[0]
    if notes[0].code in _SAYS_NO_ALLOCATION:
        return clause.partition(": ")[2]
    return clause


def _type_name(site: Site) -> str:
    """The type as a Go programmer writes it in the site's package: `[]*http.Cookie`."""
    if site.type is None:
        return ""
    return _short_type_name(site.type.name, site.package, bool(site.expr))


def _short_type_name(name: str, package: str, has_expr: bool) -> str:
    if name.startswith(("noalg.", "struct {")):
        return "" if has_expr else "closure struct"  # compiler-made, not a user type
    return type_in_package(name, package)


def what_of(site: Site, room: int = sys.maxsize) -> str:
    """The expression, and the type when the expression does not name it, in `room`."""
    type_name = _type_name(site)
    if not site.expr:
        if site.construct in (Construct.MAKE_SLICE, Construct.APPEND) and type_name:
            type_name = "[]" + type_name  # the site's type is the element's
        return cut(type_name, room)
    bare = type_name.rsplit(".", 1)[-1].lstrip("*[]").split("[")[0]
    if not bare or bare in site.expr:
        return cut_expr(site.expr, room)
    full = f"{site.expr} {type_name}"
    if len(full) <= room:
        return full
    if room - len(type_name) - 1 >= 12:  # the type still fits beside a readable expression
        return f"{cut_expr(site.expr, room - len(type_name) - 1)} {type_name}"
    return cut_expr(site.expr, room)


def row_of(site: Site, home_file: str) -> Row:
    """A site's cells; its position names the file when it is not its function's."""
    pos = f"{site.pos.line}:{site.pos.col}" if site.pos.col else str(site.pos.line)
    if site.pos.file != home_file:
        pos = f"{base_name(site.pos.file)}:{pos}"
    label = SHORT_CONSTRUCT.get(site.construct, site.construct)
    if site.inlined_from is not None:
        label += INLINED_MARK
    path = "no allocation" if not site.allocates else path_column(site.prediction)
    if site.allocates and site.prediction is None and is_pooled(site):
        path = ""
    if site.allocates and site.heap_above is not None:
        path = f"heap only >{site.heap_above} B"  # the caller's stack buffer holds less
    reason, code = _reason(site)
    alarm = site.has_note(NoteCode.MODEL_DISAGREES)
    return Row(site, pos, label, bytes_cells(site), path, reason, code, what_of(site), alarm)
