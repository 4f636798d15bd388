"""Comparing two sets of allocation sites: which are new, gone, grown or shrunk.

Invariants:
- Only sites that allocate take part (an escape statement with nothing behind it costs
  nothing, so it can neither appear nor grow).
- Sites are matched by fingerprint first (see `escape_lens.fingerprint`: it survives line
  shifts, reordered functions and renamed locals). Sites left over on both sides are then
  paired in source order by (package, function, construct, normalised expression) -- a
  variable whose type changed (`var b [16]byte` -> `[8]byte`) -- then by (package,
  function, construct, type) -- an edited literal (`&T{a: 1}` -> `&T{a: 1, b: 2}`): the
  same site changed, not one removed and one new. Last, a function left with exactly one
  site of a construct on each side pairs them (`new([64]byte)` -> `new([128]byte)`:
  expression and type both changed): the function makes as many allocations as before,
  and the pair is judged by what one execution costs. Two or more left on either side
  stay new and removed, since nothing says which became which.
- "Grown" means one execution now costs more: a more expensive path (none < tiny < small
  < dynamic < large, `none` being a zero-byte request), more size-class bytes, or (for
  dynamic sizes) bigger elements. "Shrunk" is the reverse. A change of size class with
  the same bytes cannot happen.
- An unknown size (no prediction: a type the model could not size) is no path and ranks
  nowhere: a site whose size became or stopped being known is "changed", neither grown
  nor shrunk (48 B -> unknown is not an improvement), and does not fail a diff.
- Results are sorted by the new (or, for removed sites, the old) position.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from escape_lens.fingerprint import normalise_expr, stable_function
from escape_lens.model.explain import describe_cost
from escape_lens.records import Report, Site
from escape_lens.vocab import AllocPath

ChangeKind = Literal["new", "removed", "grown", "shrunk", "changed"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("new", "removed", "grown", "shrunk", "changed")

# How much one execution of a path costs the allocator, cheapest first. `dynamic` may be
# small or large at run time, so it ranks between them.
_PATH_RANK = {
    AllocPath.NONE: 0,
    AllocPath.TINY: 1,
    AllocPath.SMALL: 2,
    AllocPath.DYNAMIC: 3,
    AllocPath.LARGE: 4,
}


@dataclass(frozen=True, slots=True)
class SiteChange:
    kind: ChangeKind
    old: Site | None
    new: Site | None
    reason: str

    @property
    def site(self) -> Site:
        site = self.new if self.new is not None else self.old
        assert site is not None
        return site


@dataclass(frozen=True, slots=True)
class SiteDiff:
    changes: tuple[SiteChange, ...]
    unchanged: int

    def of_kind(self, kind: ChangeKind) -> list[SiteChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def regressed(self) -> bool:
        """True if anything is new or grew: the diff exits 1."""
        return any(c.kind in ("new", "grown") for c in self.changes)


def path_of(site: Site) -> AllocPath | None:
    """The site's allocator path; None when its size is unknown (never `none`)."""
    return site.prediction.path if site.prediction is not None else None


def compare(old: Site, new: Site) -> tuple[Literal["grown", "shrunk", "changed"] | None, str]:
    """Whether `new` costs more or less per execution than `old`, and how it changed;
    "changed" when only one of the two sizes is known (see the module docstring)."""
    old_path, new_path = path_of(old), path_of(new)
    if old_path is None or new_path is None:
        if old_path is None and new_path is None:
            return None, ""
        return "changed", f"{describe_cost(old)} -> {describe_cost(new)}"
    old_rank, new_rank = _PATH_RANK[old_path], _PATH_RANK[new_path]
    old_elem = old.prediction.elem_bytes if old.prediction else None
    new_elem = new.prediction.elem_bytes if new.prediction else None
    if new_rank != old_rank:
        kind: Literal["grown", "shrunk", "changed"] = "grown" if new_rank > old_rank else "shrunk"
    elif new.class_bytes != old.class_bytes:
        kind = "grown" if new.class_bytes > old.class_bytes else "shrunk"
    elif new_path == AllocPath.DYNAMIC and (old_elem or 0) != (new_elem or 0):
        kind = "grown" if (new_elem or 0) > (old_elem or 0) else "shrunk"
    else:
        return None, ""
    return kind, f"{describe_cost(old)} -> {describe_cost(new)}"


def _type_key(site: Site) -> tuple[str, ...]:
    type_name = site.type.name if site.type else ""
    return (site.package, stable_function(site.function), site.construct, type_name)


def _construct_key(site: Site) -> tuple[str, ...]:
    return (site.package, stable_function(site.function), site.construct)


def _expr_key(site: Site) -> tuple[str, ...]:
    # An empty expression (an allocation without an escape statement) says nothing.
    expr = normalise_expr(site.expr) or f"@{site.fingerprint}"
    return (site.package, stable_function(site.function), site.construct, expr)


def match_sites(
    old: Sequence[Site], new: Sequence[Site]
) -> tuple[list[tuple[Site, Site]], list[Site], list[Site]]:
    """(matched pairs, only in new, only in old); allocating sites only."""
    old_sites = [s for s in old if s.allocates]
    new_sites = [s for s in new if s.allocates]
    by_fingerprint: dict[str, list[Site]] = {}
    for site in old_sites:
        by_fingerprint.setdefault(site.fingerprint, []).append(site)
    pairs: list[tuple[Site, Site]] = []
    unmatched_new: list[Site] = []
    for site in new_sites:
        candidates = by_fingerprint.get(site.fingerprint) if site.fingerprint else None
        if candidates:
            pairs.append((candidates.pop(0), site))
        else:
            unmatched_new.append(site)
    unmatched_old = [s for group in by_fingerprint.values() for s in group]
    # Then the same construct of the same expression, or of the same type, in the same
    # function: a variable whose type changed, or an edited literal of the same type.
    for key in (_expr_key, _type_key):
        unmatched_new, unmatched_old = _pair_by(key, unmatched_new, unmatched_old, pairs)
    unmatched_new, unmatched_old = _pair_by(
        _construct_key, unmatched_new, unmatched_old, pairs, only_unique=True
    )
    return (
        pairs,
        sorted(unmatched_new, key=lambda s: s.pos),
        sorted(unmatched_old, key=lambda s: s.pos),
    )


def _pair_by(
    key: Callable[[Site], tuple[str, ...]],
    new: list[Site],
    old: list[Site],
    pairs: list[tuple[Site, Site]],
    *,
    only_unique: bool = False,
) -> tuple[list[Site], list[Site]]:
    """Pair sites equal under `key`, in source order; returns what is left of each side.
    `only_unique`: only keys that exactly one site on each side has."""
    by_key: dict[tuple[str, ...], list[Site]] = {}
    for site in sorted(old, key=lambda s: s.pos):
        by_key.setdefault(key(site), []).append(site)
    new_count = Counter(key(site) for site in new) if only_unique else None
    left_new: list[Site] = []
    for site in sorted(new, key=lambda s: s.pos):
        site_key = key(site)
        candidates = by_key.get(site_key)
        if candidates and (new_count is None or len(candidates) == new_count[site_key] == 1):
            pairs.append((candidates.pop(0), site))
        else:
            left_new.append(site)
    return left_new, [s for group in by_key.values() for s in group]


def diff_sites(old: Iterable[Site], new: Iterable[Site]) -> SiteDiff:
    pairs, only_new, only_old = match_sites(list(old), list(new))
    changes = [SiteChange("new", None, s, describe_cost(s)) for s in only_new]
    changes += [SiteChange("removed", s, None, describe_cost(s)) for s in only_old]
    unchanged = 0
    for before, after in pairs:
        kind, reason = compare(before, after)
        if kind is None:
            unchanged += 1
        else:
            changes.append(SiteChange(kind, before, after, reason))
    changes.sort(key=lambda c: (c.site.pos, c.kind))
    return SiteDiff(tuple(changes), unchanged)


def diff_reports(old: Report, new: Report) -> SiteDiff:
    return diff_sites(old.sites, new.sites)
