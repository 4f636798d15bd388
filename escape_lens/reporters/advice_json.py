"""A site's cause and hint, and the report's "what to fix first", as the JSON report and the
HTML page carry them (docs/analyze.md#causes-and-hints).

Both are worked out when the report is written, from the sites (escape_lens/advice), once
per report (`ReportAdvice`): the result cache stores no advice, so a better rule applies
to cached results at once. `fix_first` refers to sites by their index in the report's
`sites` list.
"""

from __future__ import annotations

from typing import Any

from escape_lens.advice.report import ReportAdvice
from escape_lens.records import Site

FIX_FIRST_LIMIT = 10


def site_advice(site: Site, advice: ReportAdvice) -> dict[str, Any]:
    """`cause` (a vocab.Cause), `cause_via` (what the value went to, or null) and `hint`
    (null for a site that allocates nothing or when nothing true can be said)."""
    known = advice.of(site)
    cause, hint = known.cause, known.hint
    return {"cause": cause.category, "cause_via": cause.via or None, "hint": hint.text or None}


def fix_first_list(advice: ReportAdvice, limit: int = FIX_FIRST_LIMIT) -> list[dict[str, Any]]:
    """The first `limit` sites worth fixing (advice/rank.py), cold ones after the rest."""
    index = {id(site): number for number, site in enumerate(advice.report.sites)}
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
        for candidate in advice.fix_first(limit)
    ]
