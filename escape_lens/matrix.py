"""A version matrix: what changes per allocation site from one Go version to the next.

`analyze --go A --go B ...` analyses the same targets with each toolchain; this module
compares the reports, each with the next newer one (A -> B, B -> C), and says per site
what an upgrade changes (docs/analyze.md, "Comparing Go versions").

Invariants:
- Sites are matched as `escape-lens diff` and the baseline match them
  (`escape_lens.diff.match_sites`: fingerprint, then expression, then type); only
  allocating sites take part.
- A matched pair's aspects are compared one by one, in `ASPECTS` order: the allocator
  path, the bytes or size class, the requested size, the caller's stack buffer
  (`Site.heap_above`), the runtime entry point. A pair that differs in none is
  unchanged (counted, never listed); the first aspect that differs is the change's kind.
- A site that stops allocating but whose escape line remains (same fingerprint, or same
  position, construct and expression) says why (its notes), and one that starts
  allocating says what it was.
- Steps follow the reports' order, oldest toolchain first; the result is sorted by
  position within each step, so the same reports give the same matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from escape_lens.diff import compare, match_sites, path_of
from escape_lens.model.explain import describe_cost
from escape_lens.records import Report, Site

MatrixKind = Literal["appears", "disappears", "path", "class", "size", "stack-buffer", "entry"]
# The kinds in the order a step lists them; a pair's aspects are checked in ASPECTS order.
MATRIX_KINDS: tuple[MatrixKind, ...] = (
    "appears",
    "disappears",
    "path",
    "class",
    "size",
    "stack-buffer",
    "entry",
)
ASPECTS: tuple[MatrixKind, ...] = ("path", "class", "size", "stack-buffer", "entry")


@dataclass(frozen=True, slots=True)
class Aspect:
    """One way a site differs between two versions, in words: `before` -> `after`."""

    kind: MatrixKind
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class MatrixChange:
    """A site that changed between two versions. `aspects` is empty for appears and
    disappears, whose other side is the escape line without an allocation, if any;
    `direction` is diff's grown/shrunk/changed, or "" when the cost per execution is
    the same (a changed entry point, a new stack buffer)."""

    kind: MatrixKind
    old: Site | None
    new: Site | None
    aspects: tuple[Aspect, ...] = ()
    direction: str = ""
    reason: str = ""

    @property
    def site(self) -> Site:
        """The site as it allocates: the old one of a site that disappears."""
        site = self.old if self.kind == "disappears" or self.new is None else self.new
        assert site is not None
        return site


@dataclass(frozen=True, slots=True)
class MatrixStep:
    """From `old` to `new` (two reports of the same targets), the changed sites."""

    old: Report
    new: Report
    changes: tuple[MatrixChange, ...]
    unchanged: int

    def of_kind(self, kind: MatrixKind) -> list[MatrixChange]:
        return [change for change in self.changes if change.kind == kind]


@dataclass(frozen=True, slots=True)
class VersionMatrix:
    reports: tuple[Report, ...]
    steps: tuple[MatrixStep, ...]


def heap_words(site: Site) -> str:
    """Whether every execution allocates, or only a result above the caller's buffer."""
    if site.heap_above is None:
        return "every execution allocates"
    return f"heap only above {site.heap_above} B"


def _aspect(kind: MatrixKind, old: Site, new: Site) -> Aspect | None:
    if kind == "path":
        before, after = str(path_of(old) or "unknown"), str(path_of(new) or "unknown")
    elif kind == "class":
        before, after = describe_cost(old), describe_cost(new)
    elif kind == "size":
        before, after = _requested(old), _requested(new)
    elif kind == "stack-buffer":
        before, after = heap_words(old), heap_words(new)
    else:
        before, after = old.entry or "no call", new.entry or "no call"
    return Aspect(kind, before, after) if before != after else None


def _requested(site: Site) -> str:
    if site.prediction is None:
        return "unknown size"
    return f"{site.requested_bytes} B requested"


def compare_pair(old: Site, new: Site) -> MatrixChange | None:
    """How one matched site changed, or None when it did not."""
    aspects = tuple(a for kind in ASPECTS if (a := _aspect(kind, old, new)) is not None)
    if not aspects:
        return None
    direction, _ = compare(old, new)
    reason = "; ".join(f"{a.kind}: {a.before} -> {a.after}" for a in aspects)
    return MatrixChange(aspects[0].kind, old, new, aspects, direction or "", reason)


def _silent(sites: Sequence[Site]) -> dict[object, Site]:
    """Escape lines without an allocation, by fingerprint and by position and construct
    (a site that stopped allocating may have lost its type, hence its fingerprint)."""
    found: dict[object, Site] = {}
    for site in sites:
        if not site.allocates:
            found.setdefault(site.fingerprint, site)
            found.setdefault((site.pos, site.construct, site.expr), site)
    return found


def _counterpart(site: Site, silent: dict[object, Site]) -> Site | None:
    return silent.get(site.fingerprint) or silent.get((site.pos, site.construct, site.expr))


def _why_not(site: Site) -> str:
    return site.note or "no allocation"


def compare_reports(old: Report, new: Report) -> MatrixStep:
    """The changes from `old` to `new`, sorted by position (removed sites by their old one)."""
    pairs, only_new, only_old = match_sites(old.sites, new.sites)
    silent_old, silent_new = _silent(old.sites), _silent(new.sites)
    changes: list[MatrixChange] = []
    for site in only_new:
        before = _counterpart(site, silent_old)
        was = f" (was: {_why_not(before)})" if before is not None else ""
        changes.append(MatrixChange("appears", before, site, reason=describe_cost(site) + was))
    for site in only_old:
        after = _counterpart(site, silent_new)
        now = f" (now: {_why_not(after)})" if after is not None else ""
        changes.append(MatrixChange("disappears", site, after, reason=describe_cost(site) + now))
    unchanged = 0
    for before_site, after_site in pairs:
        change = compare_pair(before_site, after_site)
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    changes.sort(key=lambda c: (c.site.pos, c.site.construct, MATRIX_KINDS.index(c.kind)))
    return MatrixStep(old, new, tuple(changes), unchanged)


def version_matrix(reports: Sequence[Report]) -> VersionMatrix:
    """Each report compared with the next (the caller orders them, oldest first)."""
    steps = tuple(compare_reports(a, b) for a, b in pairwise(reports))
    return VersionMatrix(tuple(reports), steps)
