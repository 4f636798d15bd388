"""A flow chain's edges, and the words of the compiler's reasons every reader of them shares.

The escape parser (parsers/escape.py) takes each flow line apart once into a `FlowStep`:
a hop (`flow: DESTINATION ← SOURCE`) or an edge (`from EXPRESSION (REASON)`). The
readers of a chain (advice/causes.py: why a site escapes; reporters/flowwords.py: the
chain in words) walk it as `edges`, each edge with the destination of its hop, and
group its reasons with the sets here, so that the two never read a chain differently.
The reasons are cmd/compile/internal/escape's (go1.21-1.27).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from escape_lens.records import EscapeDiagnostic, FlowStepKind

# Edges that are the compiler's bookkeeping, not a place the value goes.
BOOKKEEPING = frozenset(
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
# The value is an argument of a call; with the receiver, anything a call takes.
CALL_ARGUMENT_REASONS = frozenset({"call parameter", "call argument"})
CALL_REASONS = CALL_ARGUMENT_REASONS | {"call receiver"}
# An argument converted to uintptr for a function marked so (`syscall.Syscall`'s kind):
# the edge's expression is the conversion, not the call.
UINTPTR_ESCAPES = "//go:uintptrescapes"
MAP_PUT_REASONS = frozenset({"key of map put", "value of map put"})
# A map literal's keys and values go where its entries are: the map's heap storage.
MAP_LITERAL_REASONS = frozenset({"map literal key", "map literal value"})
# The function called: `f(`, `pkg.F(`, `(*T).M(`, after an optional `x := ` / `x = `.
_CALLEE = re.compile(r"^(?:[\w.]+\s*:?=\s*)?(?P<name>(?:\([^()]*\)\.)?[^\s()]+)\(")
_STORAGE = re.compile(r"\{storage for (?P<of>.+)\}")


class Edge(NamedTuple):
    # (a tuple: a report's text makes one per edge of every site's chain, std's millions)
    destination: str  # where this hop of the chain leads ("{heap}", "~r0", "{storage for X}")
    expression: str
    reason: str


_HOP, _EDGE = FlowStepKind.HOP, FlowStepKind.EDGE


def edges(diagnostic: EscapeDiagnostic) -> list[Edge]:
    """The edges of the diagnostic's flow chain, each with its hop's destination."""
    found: list[Edge] = []
    destination = ""
    for step in diagnostic.flow:
        kind = step.kind
        if kind == _HOP:
            destination = step.destination
        elif kind == _EDGE:
            found.append(Edge(destination, step.expression, step.reason))
    return found


def last_edge(diagnostic: EscapeDiagnostic, skipping: frozenset[str]) -> Edge | None:
    """The last of `edges` whose reason is not in `skipping` (None if there is none),
    found from the chain's end: what the value finally does is all some readers ask."""
    flow = diagnostic.flow
    for index in range(len(flow) - 1, -1, -1):
        step = flow[index]
        if step.kind == _EDGE and step.reason not in skipping:
            destination = ""
            for back in range(index - 1, -1, -1):
                if flow[back].kind == _HOP:
                    destination = flow[back].destination
                    break
            return Edge(destination, step.expression, step.reason)
    return None


def storage_of(destination: str) -> str | None:
    """What a `{storage for X}` destination stores (`X`); None for any other."""
    found = _STORAGE.fullmatch(destination)
    return found["of"] if found is not None else None


def callee(expression: str) -> str | None:
    """The function a call expression calls, without shape arguments; None if not a call."""
    found = _CALLEE.match(expression)
    if found is None:
        return None
    return re.sub(r"\[[^\[\]]*\]", "", found["name"])
