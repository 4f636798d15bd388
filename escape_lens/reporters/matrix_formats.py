"""`analyze --go A --go B`: a version matrix (escape_lens/matrix.py) as text and JSON.

Text: the versions and their site counts, then per step (A -> B) the changed sites
grouped by kind, unchanged sites counted, never listed. JSON: the
`escape-lens-matrix/1` schema, `"kind": "version-matrix"`, sites as in `escape-lens/1`
(docs/analyze.md documents both). The HTML page is reporters/matrix_html.py.
"""

from __future__ import annotations

from typing import Any, TextIO

from escape_lens.matrix import MATRIX_KINDS, MatrixChange, MatrixStep, VersionMatrix
from escape_lens.records import Report, Site
from escape_lens.reporters.json_report import site_to_dict, toolchain_to_dict
from escape_lens.reporters.json_text import dumps
from escape_lens.reporters.text_layout import counted
from escape_lens.reporters.text_words import SHORT_CONSTRUCT, what_of
from escape_lens.reporters.totals import summarize

SCHEMA = "escape-lens-matrix/1"
KIND = "version-matrix"
_WHAT_ROOM = 48  # characters of expression a line shows


def version_name(report: Report) -> str:
    """`go1.24.11`, with the GOEXPERIMENT when it is not the default."""
    toolchain = report.toolchain
    experiment = (
        f" GOEXPERIMENT={','.join(toolchain.goexperiment)}" if toolchain.goexperiment else ""
    )
    return f"{toolchain.version}{experiment}"


def step_name(step: MatrixStep) -> str:
    return f"{version_name(step.old)} -> {version_name(step.new)}"


def change_words(change: MatrixChange) -> str:
    """What changed, the change's own kind without its name: `96 B small (class 8) -> 112 B
    small (class 9); entry: newobject -> mallocgcSmallNoScanSC9`."""
    if not change.aspects:
        return change.reason
    parts = []
    for aspect in change.aspects:
        label = "" if aspect.kind == change.kind else f"{aspect.kind}: "
        parts.append(f"{label}{aspect.before} -> {aspect.after}")
    return "; ".join(parts)


def site_cells(site: Site) -> tuple[str, str, str, str]:
    """The site's position, function, construct and expression."""
    construct = SHORT_CONSTRUCT.get(site.construct, site.construct)
    return str(site.pos), site.function, construct, what_of(site, _WHAT_ROOM)


def _step_counts(step: MatrixStep) -> str:
    counts = [f"{len(step.of_kind(kind))} {kind}" for kind in MATRIX_KINDS if step.of_kind(kind)]
    return ", ".join([*counts, f"{step.unchanged} unchanged"])


def _render_text(matrix: VersionMatrix, out: TextIO) -> None:
    first = matrix.reports[0]
    toolchain = first.toolchain
    platform = f" {toolchain.goos}/{toolchain.goarch}" if toolchain.goos else ""
    out.write(f"escape-lens {first.tool_version} · version matrix{platform} · {first.origin}\n")
    for report in matrix.reports:
        allocating = sum(1 for site in report.sites if site.allocates)
        out.write(f"  {version_name(report)}: {counted(allocating, 'site')}\n")
    for step in matrix.steps:
        out.write(f"\n{step_name(step)}: {_step_counts(step)}\n")
        for kind in MATRIX_KINDS:
            changes = step.of_kind(kind)
            if not changes:
                continue
            out.write(f"  {kind}\n")
            rows = [(*site_cells(change.site), change_words(change)) for change in changes]
            widths = [max(len(row[column]) for row in rows) for column in range(4)]
            for row in rows:
                cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
                out.write(f"    {'  '.join([*cells, row[4]])}\n")


def _change_to_dict(change: MatrixChange) -> dict[str, Any]:
    return {
        "kind": change.kind,
        "aspects": [
            {"kind": aspect.kind, "before": aspect.before, "after": aspect.after}
            for aspect in change.aspects
        ],
        "direction": change.direction or None,
        "reason": change.reason,
        "fingerprint": change.site.fingerprint,
        "old": site_to_dict(change.old) if change.old is not None else None,
        "new": site_to_dict(change.new) if change.new is not None else None,
    }


def _version_to_dict(report: Report) -> dict[str, Any]:
    return {
        "toolchain": toolchain_to_dict(report.toolchain),
        "packages": list(report.packages),
        "summary": summarize(report.sites),
        "skipped": [{"package": s.package, "reason": s.reason} for s in report.skipped],
    }


def matrix_to_dict(matrix: VersionMatrix) -> dict[str, Any]:
    first = matrix.reports[0]
    return {
        "schema": SCHEMA,
        "kind": KIND,
        "tool_version": first.tool_version,
        "origin": first.origin,
        "root": first.root,
        "versions": [_version_to_dict(report) for report in matrix.reports],
        "steps": [
            {
                "from": str(step.old.toolchain.version),
                "to": str(step.new.toolchain.version),
                "summary": {
                    **{kind: len(step.of_kind(kind)) for kind in MATRIX_KINDS},
                    "unchanged": step.unchanged,
                },
                "changes": [_change_to_dict(change) for change in step.changes],
            }
            for step in matrix.steps
        ],
    }


class TextMatrixReporter:
    def render_matrix(self, matrix: VersionMatrix, out: TextIO) -> None:
        _render_text(matrix, out)


class JsonMatrixReporter:
    def render_matrix(self, matrix: VersionMatrix, out: TextIO) -> None:
        out.write(dumps(matrix_to_dict(matrix)))


TEXT = TextMatrixReporter()
JSON = JsonMatrixReporter()
