"""The compiler's escape flow in words: one table of reason phrases for every reporter.

The parser (parsers/escape.py) takes each flow line apart once into a `FlowStep`: a hop
(`flow: DESTINATION ← SOURCE`) or an edge (`from EXPRESSION (REASON)`). Reporters read
those parts through here, never the text: `edges` (parsers/flowedges.py, which the
causes read too) pairs each edge with the destination of its hop, `edge_words` says what
an edge does to the value (`passed to fmt.Println`, `stored in h[…]`, `converted to an
interface`). Which edges a reporter shows is its own
choice (the text report's reason column skips `BOOKKEEPING`; the HTML chain also leaves
out plain assignments and returns, whose destination says them).
"""

from __future__ import annotations

import re

from escape_lens.parsers.flowedges import (
    BOOKKEEPING,
    CALL_REASONS,
    MAP_LITERAL_REASONS,
    MAP_PUT_REASONS,
    UINTPTR_ESCAPES,
    Edge,
    callee,
    edges,
    last_edge,
    storage_of,
)

__all__ = ["BOOKKEEPING", "REASON_WORDS", "Edge", "callee", "edge_words", "edges", "last_edge"]

# The compiler's reason -> what happened to the value (escape/escape.go's reasons); the
# reasons `edge_words` phrases from the edge's parts are not here.
REASON_WORDS = {
    "return": "returned",
    "captured by a closure": "captured by a closure",
    "interface-converted": "converted to an interface",
    "struct literal element": "in a struct literal",
    "array literal element": "in an array literal",
    **dict.fromkeys(MAP_LITERAL_REASONS, "in a map literal"),
    **dict.fromkeys(MAP_PUT_REASONS, "stored in a map"),
    "send": "sent on a channel",
    "address-of": "address taken",
    "appendee slice": "appended to",
    "appended slice...": "appended",
    "range": "ranged over",
    "range-deref": "ranged over",
    "callee operand": "called",
    UINTPTR_ESCAPES: "as a uintptr",
}


def edge_words(edge: Edge) -> str:
    """What the edge does to the value, in a few words (its reason when no phrase fits)."""
    reason = edge.reason
    if reason in CALL_REASONS:
        name = callee(edge.expression)
        if name is None:
            return "passed to a call"
        return f"receiver of {name}" if reason == "call receiver" else f"passed to {name}"
    if reason.startswith("assign"):  # assign, assign-pair, assign-pair-dot-type, ...
        if not edge.destination.startswith("{"):
            return f"assigned to {edge.destination}"
        target = _assigned(edge.expression)
        return f"stored in {target}" if target else "stored in the heap"
    if reason == "slice-literal-element":
        return "in a ... argument" if edge.expression == "... argument" else "in a slice literal"
    if reason in ("struct literal element", "array literal element"):
        stored = storage_of(edge.destination)
        if stored:
            return f"stored in {_collapse_brackets(stored)}"
    return REASON_WORDS.get(reason, reason)


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
