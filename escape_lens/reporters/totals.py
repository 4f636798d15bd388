"""A report's totals: sites by allocator path, the bytes of those of constant size.

The `summary` of the JSON report and the totals line of the text report say the same
thing; a module of its own so that the text report does not load the JSON schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from escape_lens.model.explain import constant_size, site_path, variable_size
from escape_lens.records import Site


def summarize(sites: Sequence[Site]) -> dict[str, Any]:
    """Totals a person can read: sites by path, the bytes of the sites whose size is known
    at compile time (one execution of each: a sum over sites, not a figure per run, since
    branches exclude each other and loops repeat), and how many are of variable size (a
    length known only at run time).

    `requested_bytes`, `class_bytes` and `waste_bytes` are the schema's first totals, kept
    for its readers: the same sum over every allocating site, run-time-sized ones counting
    their constant parts only (docs/analyze.md)."""
    allocating = [s for s in sites if s.allocates]
    by_path: dict[str, int] = {}
    for site in allocating:
        path = site_path(site)
        assert path is not None
        by_path[path] = by_path.get(path, 0) + 1
    constant = [s for s in allocating if constant_size(s)]
    return {
        "sites": len(allocating),
        "non_allocating": len(sites) - len(allocating),
        "by_path": dict(sorted(by_path.items())),
        "constant_size_sites": len(constant),
        "constant_size_bytes": sum(s.class_bytes for s in constant),
        "constant_size_waste_bytes": sum(s.waste_bytes for s in constant),
        "variable_size_sites": sum(1 for s in allocating if variable_size(s)),
        "requested_bytes": sum(s.requested_bytes for s in allocating),
        "class_bytes": sum(s.class_bytes for s in allocating),
        "waste_bytes": sum(s.waste_bytes for s in allocating),
    }
