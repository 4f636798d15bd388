"""`escape-lens diff --format text|json`: what changed between two reports.

Both render the `SiteDiff` of escape_lens/diff.py and nothing else: text, one line per
changed site then the counts; json, the `escape-lens-diff/1` schema (sites as in
`escape-lens/1`). The html diff is a page of reporters/html.py.
"""

from __future__ import annotations

from typing import Any, TextIO

from escape_lens.diff import CHANGE_KINDS, ChangeKind, SiteChange, SiteDiff
from escape_lens.records import Report
from escape_lens.reporters.json_report import site_to_dict
from escape_lens.reporters.json_text import dumps


def _change_to_dict(change: SiteChange) -> dict[str, Any]:
    return {
        "kind": change.kind,
        "reason": change.reason,
        "fingerprint": change.site.fingerprint,
        "old": site_to_dict(change.old) if change.old else None,
        "new": site_to_dict(change.new) if change.new else None,
    }


def diff_to_dict(result: SiteDiff) -> dict[str, Any]:
    counts = {kind: len(result.of_kind(kind)) for kind in CHANGE_KINDS}
    return {
        "schema": "escape-lens-diff/1",
        "regressed": result.regressed,
        "summary": {**counts, "unchanged": result.unchanged},
        "changes": [_change_to_dict(c) for c in result.changes],
    }


def _render_text(result: SiteDiff, out: TextIO) -> None:
    for change in result.changes:
        site = change.site
        subject = site.expr or (site.type.name if site.type else "")
        out.write(
            f"{site.pos}: {change.kind}: {site.function}: {site.construct} {subject}: "
            f"{change.reason}\n"
        )
    # "changed" (a size became or stopped being known) only when there is one
    kinds: list[ChangeKind] = ["new", "grown", "removed", "shrunk"]
    kinds += ["changed"] if result.of_kind("changed") else []
    counts = ", ".join(f"{len(result.of_kind(kind))} {kind}" for kind in kinds)
    out.write(f"escape-lens diff: {counts}, {result.unchanged} unchanged\n")


class TextDiffReporter:
    def render_diff(self, old: Report, new: Report, diff: SiteDiff, out: TextIO) -> None:
        _render_text(diff, out)


class JsonDiffReporter:
    def render_diff(self, old: Report, new: Report, diff: SiteDiff, out: TextIO) -> None:
        out.write(dumps(diff_to_dict(diff)))


TEXT = TextDiffReporter()
JSON = JsonDiffReporter()
