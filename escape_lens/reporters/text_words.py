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
from dataclasses import dataclass

from escape_lens.records import EscapeDiagnostic, FlowStepKind, Note, Prediction, Site, join_notes
from escape_lens.reporters.text_layout import Row, base_name, cut, cut_expr
from escape_lens.vocab import AllocPath, Construct, EscapeKind, NoteCode

ALARM = "MODEL DISAGREES"  # how the alarm's note text starts (predict.py), for tests


# Terminal labels for the construct vocabulary (sites.py); unlisted ones print as they are.
SHORT_CONSTRUCT = {
    "composite-literal": "literal",
    "make-slice": "make",
    "interface": "iface",
    "string-concat": "concat",
    "string-conversion": "string",
    "bytes-conversion": "[]byte",
    "runes-conversion": "[]rune",
    "moved-to-heap": "moved",
    "goroutine": "go",
}


def describe_path(prediction: Prediction | None) -> str:
    """The allocator's path in words: tiny, size and span class, large pages, thresholds."""
    if prediction is None:
        return ""
    if prediction.path == AllocPath.TINY:
        return "tiny (shares a 16 B block)"
    if prediction.path == AllocPath.LARGE:
        return f"large, {prediction.span_pages} pages"
    if prediction.path == AllocPath.DYNAMIC:
        return "dynamic: " + _thresholds(prediction)
    return short_path(prediction)


def short_path(prediction: Prediction | None) -> str:
    """The path column: as `describe_path`, without the words the column makes obvious."""
    if prediction is None:
        return "unknown"
    if prediction.path == AllocPath.TINY:
        return "tiny"
    if prediction.path == AllocPath.SMALL:
        return f"class {prediction.size_class}, span {prediction.span_class}"
    if prediction.path == AllocPath.LARGE:
        return f"large, {prediction.span_pages} pages"
    if prediction.path == AllocPath.DYNAMIC:
        return _thresholds(prediction)
    return "zero-size"  # runtime.zerobase: no memory is taken


def _thresholds(prediction: Prediction) -> str:
    tiny = prediction.tiny_max_count or 0
    small = prediction.small_max_count or 0
    return (f"tiny ≤{tiny}, " if tiny else "") + f"small ≤{small}"


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
    if site.prediction is None and site.entry in ("newproc", "deferproc"):
        return ("", "", "pooled")  # a g / _defer record from a free list, rarely a new object
    if site.prediction is not None and site.prediction.path == AllocPath.DYNAMIC:
        return (f"n×{site.prediction.elem_bytes or 0}", " ", "B")  # noqa: RUF001
    if site.prediction is None:
        return ("", "", "? B")
    objects = (site.prediction, *site.extra)
    requested = sum(p.requested_bytes for p in objects)
    taken = f"{site.class_bytes} B" + (f" +{site.waste_bytes}" if site.waste_bytes else "")
    return (str(requested), "→", taken)


# Flow steps that are the compiler's bookkeeping, not a place the value goes.
_MECHANICAL = frozenset(
    {
        "spill",
        "reference",
        "dot",
        "dot of pointer",
        "slice",
        "copied slice",
        "indirection",
        "derefs",
        "fixed-array-index-of",
        "slice-to-array",
    }
)


_PHRASES = {
    "return": "returned",
    "captured by a closure": "captured by a closure",
    "interface-converted": "converted to an interface",
    "struct literal element": "in a struct literal",
    "array literal element": "in an array literal",
    "map literal key": "in a map literal",
    "map literal value": "in a map literal",
    "key of map put": "stored in a map",
    "value of map put": "stored in a map",
    "send": "sent on a channel",
    "address-of": "address taken",
    "appendee slice": "appended to",
    "appended slice...": "appended",
    "range": "ranged over",
    "range-deref": "ranged over",
    "callee operand": "called",
}


_CALLEE = re.compile(r"^(?P<name>(?:\([^()]*\)\.)?[^\s()]+)\(")


@dataclass(frozen=True, slots=True)
class _Step:
    dest: str  # where this hop of the chain leads ("{heap}", "~r0", "s", "{storage for X}")
    text: str
    reason: str


def _steps(diagnostic: EscapeDiagnostic) -> list[_Step]:
    steps: list[_Step] = []
    dest = ""
    for step in diagnostic.flow:
        if step.kind == FlowStepKind.HOP:
            dest = step.destination
        elif step.kind == FlowStepKind.EDGE:
            steps.append(_Step(dest, step.expression, step.reason))
    return steps


def escape_reason(diagnostic: EscapeDiagnostic) -> str:
    """Where the value ends up, in a few words, from the compiler's flow chain.

    The chain runs from the allocation to the place that makes it escape; its last step
    that is not bookkeeping says why (`returned`, `passed to F`, `stored in X`); "" when
    the chain is bookkeeping only.
    """
    if diagnostic.kind == EscapeKind.DOES_NOT_ESCAPE:
        return "does not escape"
    steps = [s for s in _steps(diagnostic) if s.reason not in _MECHANICAL]
    return _phrase(steps[-1]) if steps else ""


def _phrase(step: _Step) -> str:
    if step.reason in ("call parameter", "call argument"):
        callee = _CALLEE.match(step.text)
        if callee is None:
            return "passed to a call"
        return "passed to " + re.sub(r"\[[^\[\]]*\]", "", callee["name"])  # no shape args
    if step.reason.startswith("assign"):  # assign, assign-pair, assign-pair-dot-type, ...
        if not step.dest.startswith("{"):
            return f"assigned to {step.dest}"
        target = _assigned(step.text)
        return f"stored in {target}" if target else "stored in the heap"
    if step.reason == "slice-literal-element":
        return "in a ... argument" if step.text == "... argument" else "in a slice literal"
    if step.reason in ("struct literal element", "array literal element"):
        storage = re.fullmatch(r"\{storage for (.+)\}", step.dest)
        if storage:
            return f"stored in {_collapse_brackets(storage[1])}"
    return _PHRASES.get(step.reason, step.reason)


def _assigned(text: str) -> str:
    """The single target of `X = ...` / `X := ...`, index expressions elided; else ""."""
    depth = 0
    for index, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0 and (text.startswith(" = ", index) or text.startswith(" := ", index)):
            target = text[:index]
            return "" if _top_level_comma(target) else _collapse_brackets(target)
    return ""


def _top_level_comma(text: str) -> bool:
    depth = 0
    for char in text:
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            return True
    return False


def _collapse_brackets(text: str) -> str:
    """`h[CanonicalMIMEHeaderKey(key)]` -> `h[…]`: the container matters, not the key."""
    return re.sub(r"\[[^\[\]]{2,}\]", "[…]", text)


def first_reason(site: Site) -> str:
    """The reason column: a model alarm, else why nothing is allocated, else why it escapes."""
    alarm = _alarm(site.notes)
    if alarm:
        return alarm  # a model bug outranks everything else on the line
    note = _note_clause(site.notes)
    if not site.allocates:
        return note
    diag = site.diagnostic
    if diag is None:
        return note
    reason = escape_reason(diag)
    if not reason:  # the chain only says it was spilled: the note knows better
        return note or ("moved to heap" if diag.kind == EscapeKind.MOVED_TO_HEAP else "escapes")
    return reason


# Shorter forms of a reason, tried in order when the full phrase does not fit.
_SHORTER = (
    ("passed to ", "to "),
    ("stored in ", "in "),
    ("assigned to ", "to "),
    ("captured by a closure", "captured"),
    ("converted to an interface", "to interface"),
    ("does not escape", "no escape"),
    # the notes sites.py writes most often, said in fewer words
    ("the value needs no boxing", "needs no boxing"),
    ("kept on the stack or optimised away", "stack or optimised away"),
    ("the runtime reuses a free g / _defer record", "reuses a free record"),
    ("the wrapper closure of the defer statement", "wraps the deferred call"),
    ("the wrapper closure of the go statement", "wraps the go call"),
    ("buckets/groups come with the first insert", "buckets on first insert"),
    (
        "grows by doubling (by 1.25 beyond 256 elements), rounded up to a size class",
        "grows by doubling",
    ),
    ("no allocation when the result does not escape and fits 32 bytes", "none if local, ≤32 B"),
    ("the appended slice is moved to the heap here", "slice moved to the heap here"),
    ("a func literal that captures nothing is static data", "static: captures nothing"),
)


@functools.lru_cache(maxsize=4096)  # a report repeats a few reasons, each asked for often
def reason_forms(reason: str) -> tuple[str, ...]:
    """The reason, then ever shorter forms of it that keep its sense (`to F`)."""
    forms = [reason]
    for long, short in _SHORTER:
        if forms[-1].startswith(long):
            forms.append(short + forms[-1][len(long) :])
    without_asides = re.sub(r" \([^()]*[ ,][^()]*\)", "", forms[-1])  # prose, not `(*T).M`
    return (*forms, without_asides) if without_asides != forms[-1] else tuple(forms)


def cut_reason(reason: str, room: int) -> str:
    """The longest form of the reason that fits; the shortest, cut, if none does."""
    forms = reason_forms(reason)
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
    {NoteCode.NO_BOXING, NoteCode.STATIC_CLOSURE, NoteCode.NO_ALLOCATION_CALL}
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


@functools.lru_cache(maxsize=4096)  # each site's type is shortened several times
def _short_type_name(name: str, package: str, has_expr: bool) -> str:
    if name.startswith(("noalg.", "struct {")):
        return "" if has_expr else "closure struct"  # compiler-made, not a user type
    name = re.sub(r"[\w.-]+/", "", name)  # import paths -> package names
    own = package.rsplit("/", 1)[-1]
    own = "main" if own == "command-line-arguments" else own
    return re.sub(rf"(?<![\w.]){re.escape(own)}\.", "", name)


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
    path = "no allocation" if not site.allocates else short_path(site.prediction)
    if site.allocates and site.prediction is None and site.entry in ("newproc", "deferproc"):
        path = ""
    alarm = site.has_note(NoteCode.MODEL_DISAGREES)
    return Row(site, pos, label, bytes_cells(site), path, first_reason(site), what_of(site), alarm)
