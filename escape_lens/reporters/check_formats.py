"""`escape-lens check --format text|json`: a CheckResult as a verdict or as JSON.

Each renders a CheckResult (escape_lens/findings.py, which the gate fills) and nothing
else: text (one line per finding, then a verdict), json (`escape-lens-check/1`). The
other check formats, github and sarif, share their modules with `analyze`
(reporters/github.py, reporters/sarif.py); all are registered in escape_lens.reporters.
"""

from __future__ import annotations

from typing import TextIO

from escape_lens.errors import EXIT_OK
from escape_lens.findings import RULES, CheckResult, Finding, skipped_line
from escape_lens.reporters.json_report import site_to_dict
from escape_lens.reporters.json_text import dumps


class TextCheckReporter:
    def render_check(self, result: CheckResult, out: TextIO) -> None:
        for finding in result.findings:
            out.write(f"{finding.pos}: {finding.level}: {finding.rule} {finding.message}\n")
        for skipped in result.report.skipped:
            out.write(f"warning: {skipped_line(skipped)}\n")
        for note in result.notes:
            out.write(f"note: {note}\n")
        counts = dict.fromkeys(("error", "warning", "note"), 0)
        for finding in result.findings:
            counts[finding.level] += 1
        against = f"against {result.baseline}" if result.baseline else "without a baseline"
        verdict = "FAIL" if result.exit_code else "ok"
        out.write(
            f"escape-lens check: {verdict}: {result.hot_sites} hot-path heap sites checked "
            f"{against}; {counts['error']} errors, {counts['warning']} warnings, "
            f"{counts['note']} improvements\n"
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
