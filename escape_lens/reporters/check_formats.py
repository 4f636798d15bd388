"""`escape-lens check --format text|json`: a CheckResult as a verdict or as JSON.

Each renders a CheckResult (escape_lens/findings.py, which the gate fills) and nothing
else: text (one line per finding, then a verdict), json (`escape-lens-check/1`). The
other check formats, github and sarif, share their modules with `analyze`
(reporters/github.py, reporters/sarif.py); all are registered in escape_lens.reporters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from escape_lens.errors import EXIT_OK
from escape_lens.findings import RULES, CheckResult, Finding, skipped_line
from escape_lens.reporters.json_report import site_to_dict
from escape_lens.reporters.json_text import dumps
from escape_lens.reporters.text_layout import counted
from escape_lens.vocab import FindingRule

# What a finding asks of the reader, one line per kind of finding present, after them.
NEXT_STEP = (
    "next: remove the allocation, or accept it: `escape-lens baseline` (every site), "
    "or `//escape-lens:allow <reason>` on or above its line (one site)"
)
_NEXT_STEPS: dict[FindingRule, str] = {
    FindingRule.NEW_ALLOCATION: NEXT_STEP,
    FindingRule.GROWN_ALLOCATION: NEXT_STEP,
    FindingRule.FORBIDDEN_PATH: NEXT_STEP,
    FindingRule.BUDGET_EXCEEDED: (
        "next (EL003): remove the allocation, accept one site with "
        "`//escape-lens:allow <reason>`, or change the [[budget]] (a baseline does not "
        "lift a budget)"
    ),
    FindingRule.SUPPRESSION_WITHOUT_REASON: (
        "next (EL006): say why after the directive: `//escape-lens:allow <reason>`"
    ),
    FindingRule.UNUSED_SUPPRESSION: "next (EL005): remove the directive",
    FindingRule.VANISHED_FUNCTION: (
        "next (EL008): if the function moved, fix the build or the hot pattern; if it is "
        "gone for good, accept that: `escape-lens baseline`"
    ),
    FindingRule.UNMATCHED_PATTERN: (
        "next (EL009): correct the pattern (a typo, a renamed function?) or remove it; "
        '`unmatched-patterns = "warning"` makes it a warning'
    ),
}


def next_steps(findings: Iterable[Finding]) -> list[str]:
    """The next-step lines for the kinds of findings present (improvements ask nothing)."""
    present = {f.rule for f in findings}
    steps = [_NEXT_STEPS[rule] for rule in _NEXT_STEPS if rule in present]
    return list(dict.fromkeys(steps))


class TextCheckReporter:
    def render_check(self, result: CheckResult, out: TextIO) -> None:
        for finding in result.findings:
            out.write(f"{finding.pos}: {finding.level}: {finding.rule} {finding.message}\n")
        for skipped in result.report.skipped:
            out.write(f"warning: {skipped_line(skipped)}\n")
        for note in result.notes:
            out.write(f"note: {note}\n")
        for step in next_steps(result.findings):
            out.write(step + "\n")
        counts = dict.fromkeys(("error", "warning", "note"), 0)
        for finding in result.findings:
            counts[finding.level] += 1
        against = f"against {result.baseline}" if result.baseline else "without a baseline"
        verdict = "FAIL" if result.exit_code else "ok"
        out.write(
            f"escape-lens check: {verdict}: {counted(result.hot_sites, 'hot-path heap site')} "
            f"checked {against}; {counted(counts['error'], 'error')}, "
            f"{counted(counts['warning'], 'warning')}, {counted(counts['note'], 'improvement')}\n"
        )


def finding_to_dict(finding: Finding) -> dict[str, object]:
    rule = RULES[finding.rule]
    return {
        "rule": rule.id,
        "name": rule.name,
        "level": finding.level,
        "message": finding.message,
        "file": finding.pos.file,
        "line": finding.pos.line,
        "column": finding.pos.col,
        "function": finding.function,
        "fingerprint": finding.site.fingerprint if finding.site else None,
        "site": site_to_dict(finding.site) if finding.site else None,
    }


class JsonCheckReporter:
    def render_check(self, result: CheckResult, out: TextIO) -> None:
        data = {
            "schema": "escape-lens-check/1",
            "passed": result.exit_code == EXIT_OK,
            "baseline": result.baseline or None,
            "toolchain": str(result.report.toolchain.version),
            "hot_sites": result.hot_sites,
            "notes": list(result.notes),
            "skipped": [{"package": s.package, "reason": s.reason} for s in result.report.skipped],
            "findings": [finding_to_dict(f) for f in result.findings],
        }
        out.write(dumps(data))


TEXT = TextCheckReporter()
JSON = JsonCheckReporter()
