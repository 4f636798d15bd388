"""Reporters render a `Report` into one output format; they share one small interface.

A reporter never computes anything the records do not hold: it only arranges them.
`get_reporter(name)` imports the module on demand (the HTML reporter carries assets).
"""

from __future__ import annotations

import importlib
from typing import Protocol, TextIO

from escape_lens.records import Report


class Reporter(Protocol):
    def render(self, report: Report, out: TextIO) -> None: ...


# format name -> module defining `REPORTER`
REPORTERS: dict[str, str] = {
    "github": "escape_lens.reporters.github",
    "html": "escape_lens.reporters.html",
    "json": "escape_lens.reporters.json_reporter",
    "sarif": "escape_lens.reporters.sarif",
    "text": "escape_lens.reporters.text",
}


def get_reporter(name: str) -> Reporter:
    reporter: Reporter = importlib.import_module(REPORTERS[name]).REPORTER
    return reporter
