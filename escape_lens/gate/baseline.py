"""The baseline file: the hot-path allocation sites a project has accepted.

Invariants:
- It is an `escape-lens/1` report (read back with `report_from_dict`, so any JSON report
  from `analyze --format json` can serve as a baseline too), holding only the hot sites
  that allocate, marked `"kind": "baseline"`.
- It is diff-friendly: sites sorted by file, line, column and construct; no timestamps,
  no machine paths (the toolchain path and the root are left empty), no assembly and no
  escape flows (they change with unrelated edits and are not used for matching).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from escape_lens.errors import ReportFormatError
from escape_lens.gate.config import Config
from escape_lens.gate.directives import Directives
from escape_lens.gate.hotpaths import HotPaths, hot_sites
from escape_lens.inputs import MAX_REPORT_BYTES, read_text
from escape_lens.records import Report
from escape_lens.reporters.json_report import parse_json, report_from_dict, report_to_dict
from escape_lens.reporters.json_text import dumps

KIND = "baseline"


def baseline_dict(report: Report, config: Config, directives: Directives) -> dict[str, Any]:
    sites = sorted(
        hot_sites(report, HotPaths(config, directives)),
        key=lambda s: (s.pos, s.construct, s.fingerprint),
    )
    trimmed = replace(report, sites=tuple(sites), skipped=(), root="")
    data = report_to_dict(trimmed)
    data["toolchain"]["path"] = ""
    data["root"] = ""
    data["kind"] = KIND
    for site in data["sites"]:
        site["asm"] = []
        if site["escape"] is not None:
            site["escape"]["flow"] = []
    return data


def render_baseline(report: Report, config: Config, directives: Directives) -> str:
    return dumps(baseline_dict(report, config, directives))


def load_baseline(path: str) -> Report:
    """The baseline in `path`; any file that is not one is an error (exit 2), never "no
    baseline": a gate that cannot read what it compares against must not pass."""
    text = read_text(path, limit=MAX_REPORT_BYTES, what="baseline", error=ReportFormatError)
    data = parse_json(text, path)
    if not isinstance(data, Mapping):
        raise ReportFormatError(f"{path}: not an escape-lens baseline")
    return report_from_dict(data, path)
