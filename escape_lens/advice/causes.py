"""Why a site's object is on the heap: one `vocab.Cause` per site, and what it went through.

The compiler's flow chain (parsers/escape.py `flow_step`: hops and edges with their
reasons) says where the value went; the construct says what the runtime call is for.
Invariants:

- A pure function of the `Site` and the report's source: the same site always has the
  same cause, so the JSON, text and HTML reports agree without storing it. The source
  tells only a chain that ends at a variable (advice/namedresults.py) a return (a named
  result) or a variable kept past the object's loop or closure (any other); without
  it, such a chain's cause is unknown (but in `init`, which has no results).
- Constructs whose allocation is the operation itself (append growth, maps, channels,
  string building, method values, go and defer statements) are named by the construct;
  other objects by the decisive edge of the chain: a size the stack cannot hold, a
  return, a store, a send, a parameter of a call that leaks, a closure's capture. The
  chain's bookkeeping edges (`spill`, `dot`, ...: parsers/flowedges.py, whose edges and
  reason groups the reporters' words read too) never decide.
- `via` names what the value went to, as the chain spells it (`fmt`, `log`,
  `net/http.(*conn).serve`, `Global`, `h.p`): empty when the chain does not say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from escape_lens.advice.namedresults import chain_root, chain_variable
from escape_lens.inputs import SourceLines
from escape_lens.parsers.flowedges import (
    BOOKKEEPING,
    CALL_ARGUMENT_REASONS,
    CALL_REASONS,
    MAP_LITERAL_REASONS,
    MAP_PUT_REASONS,
    UINTPTR_ESCAPES,
    Edge,
    callee,
    edges,
    storage_of,
)
from escape_lens.records import Site
from escape_lens.vocab import Cause, Construct, EscapeKind

# Edges that only carry the value within one statement: never the cause.
_CARRYING = BOOKKEEPING | {
    "slice-literal-element",
    "struct literal element",
    "array literal element",
    "address-of",
    "interface-converted",
}
_BY_CONSTRUCT = {
    Construct.APPEND: Cause.SLICE_GROWTH,
    Construct.MAP: Cause.MAP,
    Construct.CHAN: Cause.CHANNEL,
    Construct.STRING_CONCAT: Cause.STRING_BUILDING,
    Construct.STRING_CONVERSION: Cause.STRING_BUILDING,
    Construct.BYTES_CONVERSION: Cause.STRING_BUILDING,
    Construct.RUNES_CONVERSION: Cause.STRING_BUILDING,
    Construct.METHOD_VALUE: Cause.METHOD_VALUE,
    Construct.GOROUTINE: Cause.GOROUTINE,
    Construct.DEFER: Cause.DEFER,
}
# `fmt.a`, `log.v`: a parameter of an inlined function of another package.
_INLINED_PARAM = re.compile(r"^(?P<package>[a-z][\w/]*)\.\w+$")
_ASSIGNED = re.compile(r"^(?P<target>[^=]+?)\s*:?=\s")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


@dataclass(frozen=True, slots=True)
class SiteCause:
    """A site's cause category and what the value went to (`via`, may be empty)."""

    category: Cause
    via: str = ""


def cause_of(site: Site, source: SourceLines | None = None) -> SiteCause:
    """The cause of one site (see the module's invariants); with the report's `source`, a
    chain that ends at a named result of the site's function is a return."""
    chain = edges(site.diagnostic) if site.diagnostic is not None else []
    by_construct = _BY_CONSTRUCT.get(site.construct)
    if by_construct is not None:
        return SiteCause(by_construct, _destination(chain))
    if site.construct == Construct.ALLOC or (site.diagnostic is None and site.call is not None):
        return SiteCause(Cause.RUNTIME_INTERNAL, site.entry or "")
    reasons = [edge.reason for edge in chain]
    if "too large for stack" in reasons:
        return SiteCause(Cause.TOO_LARGE_FOR_STACK)
    if "non-constant size" in reasons or site.heap_above is not None or _made_beside(site):
        return SiteCause(Cause.UNKNOWN_SIZE)
    if site.construct == Construct.INTERFACE or "interface-converted" in reasons:
        return SiteCause(Cause.INTERFACE_BOXING, _boxed_for(chain))
    if "captured by a closure" in reasons:
        return SiteCause(Cause.CLOSURE_CAPTURE)
    found = _by_destination(chain)
    if found is not None:
        return found
    stored_in = storage_of(chain_root(site))
    if stored_in is not None:  # a heap object's storage, with no edge into it said
        return SiteCause(Cause.STORED_TO_HEAP, stored_in)
    ending = chain_variable(site, source)
    if ending is not None:
        variable, is_result = ending
        if is_result:
            return SiteCause(Cause.RETURNED)
        return SiteCause(Cause.KEPT_PAST_SCOPE, variable)
    if site.diagnostic is not None and site.diagnostic.kind == EscapeKind.MOVED_TO_HEAP:
        return SiteCause(Cause.MOVED_TO_HEAP)
    return SiteCause(Cause.UNKNOWN)


def _made_beside(site: Site) -> bool:
    """A `make([]T, n)` that does not escape yet calls makeslice: its length was not a
    constant when escape analysis ran (a constant one is an array in the frame), and a T
    larger than the compiler's stack buffer for run-time lengths (32 B from go1.25: walk's
    `VariableMakeThreshold`) gets no buffer, so every execution takes the heap."""
    diagnostic = site.diagnostic
    return (
        site.construct == Construct.MAKE_SLICE
        and site.call is not None
        and diagnostic is not None
        and diagnostic.kind == EscapeKind.DOES_NOT_ESCAPE
    )


def _by_destination(chain: list[Edge]) -> SiteCause | None:
    """The cause the chain's decisive edge names: the first that leaves the function."""
    for edge in chain:
        reason, expression, destination = edge.reason, edge.expression, edge.destination
        if reason in _CARRYING:
            continue
        if reason == "return":
            return SiteCause(Cause.RETURNED)
        if reason == "send":
            return SiteCause(Cause.SENT_ON_CHANNEL)
        if reason in MAP_PUT_REASONS or reason in MAP_LITERAL_REASONS:
            return SiteCause(Cause.STORED_TO_HEAP, "map")
        if reason in CALL_REASONS:
            return SiteCause(Cause.PASSED_TO_CALL, _callee(expression))
        if reason == UINTPTR_ESCAPES:
            return SiteCause(Cause.PASSED_TO_CALL, UINTPTR_ESCAPES)
        if reason == "captured by a closure":
            return SiteCause(Cause.CLOSURE_CAPTURE)
        if reason.startswith("assign") and destination == "{heap}":
            target = _target(expression)
            if _IDENTIFIER.match(target):
                return SiteCause(Cause.GLOBAL, target)
            return SiteCause(Cause.STORED_TO_HEAP, target)
    for edge in reversed(chain):
        stored = storage_of(edge.destination)
        if stored is not None:  # an element of a literal that is itself on the heap
            return SiteCause(Cause.STORED_TO_HEAP, stored)
    return None


def _boxed_for(chain: list[Edge]) -> str:
    """What boxed the value: an inlined parameter's package (`fmt.a` -> fmt), else the
    callee the chain passes it to, else where it was stored or returned."""
    for edge in chain:
        reason, expression, destination = edge.reason, edge.expression, edge.destination
        param = _INLINED_PARAM.match(destination)
        if param is not None:
            return param["package"]
        if reason in CALL_ARGUMENT_REASONS:
            return _callee(expression)
        if reason == "return":
            return "return"
        if reason.startswith("assign") and destination == "{heap}":
            return _target(expression)
    return ""


def _destination(chain: list[Edge]) -> str:
    """Where the chain's decisive edge takes the value, for constructs named by kind."""
    found = _by_destination(chain)
    return str(found.category) if found is not None else ""


def _callee(expression: str) -> str:
    return callee(expression) or ""


def _target(expression: str) -> str:
    found = _ASSIGNED.match(expression)
    return found["target"].strip() if found else ""
