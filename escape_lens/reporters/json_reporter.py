"""`--format json`: the `escape-lens/1` schema, byte-for-byte deterministic."""

from __future__ import annotations

from typing import TextIO

from escape_lens.records import Report
from escape_lens.reporters.json_report import dumps, report_to_dict


class JsonReporter:
    def render(self, report: Report, out: TextIO) -> None:
        out.write(dumps(report_to_dict(report)))


REPORTER = JsonReporter()
