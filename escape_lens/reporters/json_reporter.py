"""`--format json`: the `escape-lens/1` schema, byte-for-byte deterministic."""

from __future__ import annotations

from typing import TextIO

from escape_lens.records import Report
from escape_lens.reporters.json_report import write_report


class JsonReporter:
    def render(self, report: Report, out: TextIO) -> None:
        write_report(report, out)


REPORTER = JsonReporter()
