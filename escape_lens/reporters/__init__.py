"""Every output format of every command, registered in one table (`OUTPUTS`).

A renderer arranges records into text and never computes what the records do not hold.
Each command renders one kind of record, through one interface:

- `analyze`: a `Report` (`Reporter.render`): text, json, html, sarif, github,
  codequality;
- `check`: a `CheckResult` (`CheckReporter.render_check`, escape_lens/findings.py, which
  the gate fills): text, json, github, sarif, codequality;
- `diff`: two reports (`DiffReporter.render_diff`): text, json, html;
- `matrix` (`analyze --go A --go B`): a `VersionMatrix` (`MatrixReporter.render_matrix`):
  text, json, html;
- `sizeclass`: predictions, the class table, a verification (`SizeclassReporter`): text,
  json.

A format is a module attribute, imported on first use (the HTML reporter carries its
assets; `escape-lens sizeclass` need not load the others). A new format is one entry
here and one renderer; the CLI offers what is registered.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TextIO, cast

if TYPE_CHECKING:  # only the interfaces' types: loading a format loads what it needs
    from escape_lens.diff import SiteDiff
    from escape_lens.findings import CheckResult
    from escape_lens.matrix import VersionMatrix
    from escape_lens.model.rules import AllocRules
    from escape_lens.model.sizeclass import ClassRow
    from escape_lens.model.verify import Verification
    from escape_lens.records import Prediction, Report, TypeInfo


class Reporter(Protocol):
    def render(self, report: Report, out: TextIO) -> None: ...


class CheckReporter(Protocol):
    def render_check(self, result: CheckResult, out: TextIO) -> None: ...


class DiffReporter(Protocol):
    def render_diff(self, old: Report, new: Report, diff: SiteDiff, out: TextIO) -> None: ...


class MatrixReporter(Protocol):
    def render_matrix(self, matrix: VersionMatrix, out: TextIO) -> None: ...


class SizeclassReporter(Protocol):
    def render_predictions(
        self, rules: AllocRules, pointers: bool, predictions: Sequence[Prediction], out: TextIO
    ) -> None: ...

    def render_table(self, rules: AllocRules, rows: Sequence[ClassRow], out: TextIO) -> None: ...

    def render_types(
        self,
        rules: AllocRules,
        platform: str,
        laid_out: Sequence[tuple[TypeInfo, Prediction]],
        out: TextIO,
    ) -> None: ...

    def render_verification(self, result: Verification, out: TextIO) -> None: ...


_TEXT = "escape_lens.reporters.text"
_JSON = "escape_lens.reporters.json_reporter"
_HTML = "escape_lens.reporters.html"
_SARIF = "escape_lens.reporters.sarif"
_GITHUB = "escape_lens.reporters.github"
_CODEQUALITY = "escape_lens.reporters.codequality"
_CHECK = "escape_lens.reporters.check_formats"
_DIFF = "escape_lens.reporters.diff_formats"
_SIZECLASS = "escape_lens.reporters.sizeclass"
_MATRIX = "escape_lens.reporters.matrix_formats"

# command -> format -> (module, attribute); the first format is the command's default
OUTPUTS: dict[str, dict[str, tuple[str, str]]] = {
    "analyze": {
        "text": (_TEXT, "REPORTER"),
        "json": (_JSON, "REPORTER"),
        "html": (_HTML, "REPORTER"),
        "sarif": (_SARIF, "REPORTER"),
        "github": (_GITHUB, "REPORTER"),
        "codequality": (_CODEQUALITY, "REPORTER"),
    },
    "check": {
        "text": (_CHECK, "TEXT"),
        "github": (_GITHUB, "REPORTER"),
        "sarif": (_SARIF, "REPORTER"),
        "json": (_CHECK, "JSON"),
        "codequality": (_CODEQUALITY, "REPORTER"),
    },
    "diff": {
        "text": (_DIFF, "TEXT"),
        "json": (_DIFF, "JSON"),
        "html": (_HTML, "REPORTER"),
    },
    "matrix": {
        "text": (_MATRIX, "TEXT"),
        "json": (_MATRIX, "JSON"),
        "html": ("escape_lens.reporters.matrix_html", "REPORTER"),
    },
    "sizeclass": {
        "text": (_SIZECLASS, "TEXT"),
        "json": (_SIZECLASS, "JSON"),
    },
}
# `analyze -v`: formats with a verbose form (the text report's flow chains and legend)
VERBOSE: dict[str, tuple[str, str]] = {"text": (_TEXT, "VERBOSE_REPORTER")}


def formats(command: str) -> tuple[str, ...]:
    """The formats `command` offers, its default first."""
    return tuple(OUTPUTS[command])


def _load(entry: tuple[str, str]) -> object:
    module, attribute = entry
    return getattr(importlib.import_module(module), attribute)


def get_reporter(name: str, *, verbose: bool = False) -> Reporter:
    entry = VERBOSE.get(name) if verbose else None
    return cast("Reporter", _load(entry or OUTPUTS["analyze"][name]))


def check_reporter(name: str) -> CheckReporter:
    return cast("CheckReporter", _load(OUTPUTS["check"][name]))


def diff_reporter(name: str) -> DiffReporter:
    return cast("DiffReporter", _load(OUTPUTS["diff"][name]))


def matrix_reporter(name: str) -> MatrixReporter:
    return cast("MatrixReporter", _load(OUTPUTS["matrix"][name]))


def sizeclass_reporter(name: str) -> SizeclassReporter:
    return cast("SizeclassReporter", _load(OUTPUTS["sizeclass"][name]))
