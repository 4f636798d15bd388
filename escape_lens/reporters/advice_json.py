"""A site's cause and hint, and the report's "what to fix first", as the JSON report and the
HTML page carry them (docs/analyze.md#causes-and-hints).

Both are worked out when the report is written, from the sites (escape_lens/advice): the
result cache stores no advice, so a better rule applies to cached results at once.
`fix_first` refers to sites by their index in the report's `sites` list.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from escape_lens import model
from escape_lens.advice.causes import cause_of
from escape_lens.advice.hints import hint_for
from escape_lens.advice.rank import fix_first, source_reader
from escape_lens.model import AllocRules
from escape_lens.records import GoVersion, Report, Site

FIX_FIRST_LIMIT = 10


@lru_cache(maxsize=8)
def _rules(version: GoVersion, goexperiment: tuple[str, ...]) -> AllocRules:
    return model.rules_for(version, goexperiment)


def report_rules(report: Report) -> AllocRules:
    """The allocator rules of the report's toolchain (one per report, cached)."""
    return _rules(report.toolchain.version, report.toolchain.goexperiment)


def site_advice(site: Site, report: Report) -> dict[str, Any]:
    """`cause` (a vocab.Cause), `cause_via` (what the value went to, or null) and `hint`
    (null for a site that allocates nothing or when nothing true can be said)."""
    cause = cause_of(site)
    hint = hint_for(site, report_rules(report), cause)
    return {"cause": cause.category, "cause_via": cause.via or None, "hint": hint.text or None}


def fix_first_list(report: Report, limit: int = FIX_FIRST_LIMIT) -> list[dict[str, Any]]:
    """The first `limit` sites worth fixing (advice/rank.py), cold ones after the rest."""
    index = {id(site): number for number, site in enumerate(report.sites)}
    ranked = fix_first(report.sites, report_rules(report), source_reader(report.root), limit)
    return [
        {
            "site": index[id(candidate.site)],
            "file": candidate.site.pos.file,
            "line": candidate.site.pos.line,
            "function": candidate.site.function,
            "cause": candidate.cause.category,
            "hint": candidate.hint.text,
            "recoverable_bytes": candidate.hint.recoverable,
            "weight": round(candidate.weight, 1),
            "low_priority": candidate.cold or None,
        }
        for candidate in ranked
    ]
