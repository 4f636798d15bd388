"""`--format codequality`: GitLab's Code Quality report, one issue per finding.

A JSON array of issues with `description`, `check_name` (the rule id and name),
`fingerprint`, `severity` and `location.path`/`location.lines.begin`; GitLab compares the
fingerprints of the merge request's and the target branch's reports to show what is new,
so a fingerprint must survive line shifts: a finding on a site hashes the rule with the
site fingerprint (escape_lens/fingerprint.py), one without a site (a directive) the rule,
the file and the message. A package skipped because it does not compile is an issue too
(`skipped-package`, severity `minor`, as the other formats warn), at the compiler's first
position when its message has one, else at the module's go.mod; its fingerprint is the
package's name alone. Paths are relative to the repository root, which is where GitLab
resolves them. Deterministic: no timestamps, no absolute paths.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, TextIO

from escape_lens.findings import (
    RULES,
    CheckResult,
    Finding,
    Level,
    allocation_findings,
    skipped_line,
)
from escape_lens.records import Report, SkippedPackage
from escape_lens.reporters.json_text import dumps
from escape_lens.reporters.repository import repository_path

# GitLab's scale: info, minor, major, critical, blocker. A failing finding blocks the gate
# but is no defect of the program, so `major`, not `critical`.
SEVERITY: dict[Level, str] = {"error": "major", "warning": "minor", "note": "info"}


def issue_fingerprint(finding: Finding, path: str) -> str:
    identity: tuple[str, ...] = (finding.rule, path, finding.message)
    if finding.site is not None and finding.site.fingerprint:
        identity = (finding.rule, finding.site.fingerprint)
    return hashlib.sha256("\x1f".join(identity).encode()).hexdigest()[:32]


def _issue(report: Report, finding: Finding) -> dict[str, Any]:
    rule = RULES[finding.rule]
    path = repository_path(report, finding.pos.file)
    return {
        "type": "issue",
        "description": finding.message,
        "check_name": f"{rule.id} {rule.name}",
        "categories": ["Performance"],
        "fingerprint": issue_fingerprint(finding, path),
        "severity": SEVERITY[rule.level],
        "location": {"path": path, "lines": {"begin": max(finding.pos.line, 1)}},
    }


# `dir/file.go:3:23: undefined: x`: where the compiler's message about a package begins.
_POSITION = re.compile(r"^(?P<file>[^\s:]+\.go):(?P<line>\d+)(?::\d+)?: ")
SKIPPED_CHECK = "skipped-package"


def _skipped_issue(report: Report, skipped: SkippedPackage) -> dict[str, Any]:
    position = _POSITION.match(skipped.reason)
    file, line = (position["file"], int(position["line"])) if position else ("go.mod", 1)
    identity = f"{SKIPPED_CHECK}\x1f{skipped.package}"
    return {
        "type": "issue",
        "description": skipped_line(skipped),
        "check_name": SKIPPED_CHECK,
        "categories": ["Performance"],
        "fingerprint": hashlib.sha256(identity.encode()).hexdigest()[:32],
        "severity": SEVERITY["warning"],
        "location": {"path": repository_path(report, file), "lines": {"begin": max(line, 1)}},
    }


def codequality_issues(result: CheckResult) -> list[dict[str, Any]]:
    issues = [_issue(result.report, finding) for finding in result.findings]
    return issues + [_skipped_issue(result.report, s) for s in result.report.skipped]


class CodeQualityReporter:
    def render(self, report: Report, out: TextIO) -> None:
        self.render_check(allocation_findings(report), out)

    def render_check(self, result: CheckResult, out: TextIO) -> None:
        out.write(dumps(codequality_issues(result)))


REPORTER = CodeQualityReporter()
