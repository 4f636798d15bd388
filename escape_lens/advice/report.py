"""A report's advice, worked out once: each site's cause and hint, for every renderer of
the report and for its "what to fix first" (docs/analyze.md#causes-and-hints).

Invariants:
- One `ReportAdvice` per report rendered, handed to whatever renders it: a site's cause
  and hint are computed the first time a site line, a JSON row or the ranking asks, and
  kept, so the ranking and the rendering neither compute them twice nor disagree.
- Source files are read by one reader per report: for cold paths (rank.py) and for the
  capacity an append's slice was made with (capacity.py).
- Sites are known by identity: the report holds them while it is rendered.
- The allocator rules are the report's toolchain's (`report_rules`, one per version).
"""

from __future__ import annotations

from functools import lru_cache

from escape_lens import model
from escape_lens.advice.rank import Advice, Candidate, advise, fix_first
from escape_lens.inputs import source_reader
from escape_lens.model import AllocRules
from escape_lens.records import GoVersion, Report, Site


@lru_cache(maxsize=8)
def _rules(version: GoVersion, goexperiment: tuple[str, ...]) -> AllocRules:
    return model.rules_for(version, goexperiment)


def report_rules(report: Report) -> AllocRules:
    """The allocator rules of the report's toolchain (one per report, cached)."""
    return _rules(report.toolchain.version, report.toolchain.goexperiment)


class ReportAdvice:
    """The advice of one report's sites, each computed once (see the module's invariants)."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.rules = report_rules(report)
        self._source = source_reader(report.root)
        self._known: dict[int, Advice] = {}

    def of(self, site: Site) -> Advice:
        """The site's cause and hint (a site of this report)."""
        found = self._known.get(id(site))
        if found is None:
            found = advise(site, self.rules, self._source)
            self._known[id(site)] = found
        return found

    def fix_first(self, limit: int | None = None) -> list[Candidate]:
        """The report's sites worth fixing, best first (advice/rank.py `fix_first`)."""
        return fix_first(self.report.sites, self.rules, self._source, limit, self.of)
