"""What to fix first: sites ordered by the bytes a hint recovers, cold paths last.

Invariants:
- A site is a candidate only when its hint recovers something: class bytes per execution
  (hints.py `recoverable`), or, with a heap profile joined, observed bytes (`Site.observed`)
  a removable or preallocatable cause gives back. Sites that waste nothing and whose
  cause removes nothing are never listed: there is no advice to shrink them.
- The weight is what the profile observed, scaled by the share of a class a hint gives
  back, when the site has a profile; else the static bytes per execution. Growth that
  preallocation removes counts half its observed bytes (doubling: the copies before the
  final slice add up to about the final one).
- Sites on cold paths are ranked after every other, whatever their bytes: package
  initialisation (`init`, `init.func1`), a `sync.Once` or `sync.OnceFunc` body, a
  `sync.Pool`'s `New` (it runs only when the pool is empty), a panic's value or a
  function that recovers from one. The source line of the site and of the function
  literal around it tell these (regular files only, read from the report's root, never
  run); without the source, only names and the flow chain do.
- Deterministic: ties go by position.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from escape_lens.advice.capacity import made_with_capacity
from escape_lens.advice.causes import SiteCause, cause_of
from escape_lens.advice.hints import Hint, hint_for
from escape_lens.gonames import is_closure
from escape_lens.inputs import SourceLines
from escape_lens.model import AllocRules
from escape_lens.records import Site, SourcePos
from escape_lens.vocab import Cause

_INIT = re.compile(r"(?:^|\.)init(?:\.\d+)?(?:\.func\d+)*$")
_FUNC_START = re.compile(r"\bfunc\s*\(")
_ONCE = re.compile(r"\.Do\(\s*func\b|\bOnce(?:Func|Value|Values)\b")
_POOL_NEW = re.compile(r"\bNew\s*[:=]\s*func\b")
_RECOVER = re.compile(r"\brecover\(\)")
_PANIC = re.compile(r"\bpanic\(")
# How far above a site a function literal's line is looked for.
_MAX_SCAN = 400


@dataclass(frozen=True, slots=True)
class Advice:
    """A site's cause and hint (advice/report.py works them out once per report)."""

    cause: SiteCause
    hint: Hint


def advise(site: Site, rules: AllocRules, source: SourceLines | None = None) -> Advice:
    """The site's cause and hint, worked out afresh (with the source, an append whose slice
    was made with a capacity is not told to preallocate: advice/capacity.py; a chain that
    ends at a named result is a return: advice/namedresults.py)."""
    cause = cause_of(site, source)
    made = cause.category == Cause.SLICE_GROWTH and made_with_capacity(site, source)
    return Advice(cause, hint_for(site, rules, cause, preallocated=made))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A site worth fixing: its cause, its hint, what it recovers and why it waits.

    weight: the bytes the order uses (observed when profiled, else per execution).
    cold: why the site is low priority ("" when it is not).
    """

    site: Site
    cause: SiteCause
    hint: Hint
    weight: float
    cold: str


def fix_first(
    sites: Sequence[Site],
    rules: AllocRules,
    source: SourceLines | None = None,
    limit: int | None = None,
    advice: Callable[[Site], Advice] | None = None,
) -> list[Candidate]:
    """Every site a hint recovers bytes from, most worth fixing first; the first `limit`
    of them only when given (then only those are held: std has ~20 000 candidates).
    `advice` gives a site's cause and hint when they are already known (a report's)."""
    found = _candidates(sites, advice or (lambda site: advise(site, rules, source)), source)
    if limit is None:
        return sorted(found, key=_order)
    return heapq.nsmallest(limit, found, key=_order)  # sorted(found, key=_order)[:limit]


def _order(candidate: Candidate) -> tuple[bool, float, SourcePos, str]:
    return (bool(candidate.cold), -candidate.weight, candidate.site.pos, candidate.site.expr)


def _candidates(
    sites: Sequence[Site], advice: Callable[[Site], Advice], source: SourceLines | None
) -> Iterator[Candidate]:
    for site in sites:
        if not site.allocates:
            continue
        known = advice(site)
        cause, hint = known.cause, known.hint
        weight = _weight(site, cause, hint)
        if weight > 0:
            yield Candidate(site, cause, hint, weight, cold_reason(site, cause, source))


def _weight(site: Site, cause: SiteCause, hint: Hint) -> float:
    observed = site.observed
    if observed is None:
        return float(hint.recoverable)
    if hint.recoverable and site.class_bytes:
        return observed.bytes * min(1.0, hint.recoverable / site.class_bytes)
    if cause.category == Cause.SLICE_GROWTH and hint.text:  # (none: made with a capacity)
        return observed.bytes / 2
    return 0.0


def cold_reason(site: Site, cause: SiteCause, source: SourceLines | None = None) -> str:
    """Why a site runs rarely (init, sync.Once, sync.Pool New, panic path), or ""."""
    by_name = "package initialisation" if _INIT.search(site.function) else ""
    if cause.via == "panic":
        return "a panic's value"
    lines = source(site.pos.file) if source is not None else None
    if not lines or not 0 < site.pos.line <= len(lines):
        return by_name
    here = site.pos.line - 1
    if _PANIC.search(lines[here]):
        return "a panic's value"
    closure = is_closure(site.function)
    start = _function_start(lines, here, site.pos.col, closure)
    if start is None:
        return by_name
    head = lines[start]
    if _POOL_NEW.search(head):
        return "a sync.Pool's New (runs only when the pool is empty)"
    if _ONCE.search(head):
        return "a sync.Once body"
    # recover() works only in a deferred function: a function literal, in practice; in a
    # named function the call would belong to a literal nested in it.
    if closure and any(_RECOVER.search(line) for line in lines[start:here]):
        return "after recover(): the panic path"
    return by_name


def _function_start(lines: Sequence[str], here: int, col: int, closure: bool) -> int | None:
    """The line of the function (literal, for a closure) that holds line `here`; a
    literal on the site's own line opens before the site's column."""
    if closure and col and _FUNC_START.search(lines[here][: col - 1]):
        return here
    for index in range(here, max(-1, here - _MAX_SCAN), -1):
        line = lines[index]
        if closure and _FUNC_START.search(line) and line.rstrip().endswith("{"):
            return index
        if line.startswith("func "):
            return index
    return None
