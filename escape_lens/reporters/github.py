"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

`::error file=F,line=L,col=C,title=T::MESSAGE`. GitHub's escaping rules: in the message
`%`, CR and LF become `%25`, `%0D`, `%0A`; property values also escape `:` and `,`
(`%3A`, `%2C`). Paths are relative to the repository root, which is where Actions
resolves them (`$GITHUB_WORKSPACE`). Notes become `::notice`.
"""

from __future__ import annotations

from typing import TextIO

from escape_lens.findings import RULES, CheckResult, allocation_findings, skipped_line
from escape_lens.records import Report
from escape_lens.reporters.repository import repository_path

_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter:
    def render(self, report: Report, out: TextIO) -> None:
        self.render_check(allocation_findings(report), out)

    def render_check(self, result: CheckResult, out: TextIO) -> None:
        for finding in result.findings:
            rule = RULES[finding.rule]
            properties = [
                f"file={escape_property(repository_path(result.report, finding.pos.file))}",
                f"line={finding.pos.line}",
            ]
            if finding.pos.col:
                properties.append(f"col={finding.pos.col}")
            properties.append(f"title={escape_property(f'{rule.id} {rule.name}')}")
            command = _COMMAND[finding.level]
            out.write(f"::{command} {','.join(properties)}::{escape_data(finding.message)}\n")
        for skipped in result.report.skipped:
            title = escape_property(f"skipped {skipped.package}")
            out.write(f"::warning title={title}::{escape_data(skipped_line(skipped))}\n")
        for note in result.notes:
            out.write(f"::notice::{escape_data(note)}\n")


REPORTER = GithubReporter()
