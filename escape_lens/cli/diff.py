"""`escape-lens diff OLD.json NEW.json`: what changed between two JSON reports."""

from __future__ import annotations

import io
from typing import Any

import click

from escape_lens.cli.output import write_output
from escape_lens.diff import SiteChange, SiteDiff, diff_reports
from escape_lens.errors import EXIT_FINDINGS, EXIT_OK, ReportFormatError
from escape_lens.reporters.json_report import load_report, site_to_dict
from escape_lens.reporters.json_text import dumps


@click.command("diff")
@click.argument("old", metavar="OLD.json")
@click.argument("new", metavar="NEW.json")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("text", "json", "html")),
    default="text",
    show_default=True,
)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE, not stdout.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when sites are new or grew.")
def command(old: str, new: str, output_format: str, output: str | None, exit_zero: bool) -> int:
    """Compare two reports (from `analyze --format json`), sites matched by fingerprint.

    Exit 1 if a site is new or grew, else 0.
    """
    old_report, new_report = _load(old), _load(new)
    result = diff_reports(old_report, new_report)
    buffer = io.StringIO()
    if output_format == "json":
        buffer.write(dumps(diff_to_dict(result)))
    elif output_format == "html":
        from escape_lens.reporters.html import REPORTER as HTML

        HTML.render_diff(old_report, new_report, buffer)
    else:
        render_text(result, buffer)
    write_output(buffer.getvalue(), output)
    return EXIT_FINDINGS if result.regressed and not exit_zero else EXIT_OK


def _load(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as stream:
            return load_report(stream, path)
    except OSError as exc:
        raise ReportFormatError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _change_to_dict(change: SiteChange) -> dict[str, Any]:
    return {
        "kind": change.kind,
        "reason": change.reason,
        "fingerprint": change.site.fingerprint,
        "old": site_to_dict(change.old) if change.old else None,
        "new": site_to_dict(change.new) if change.new else None,
    }


def diff_to_dict(result: SiteDiff) -> dict[str, Any]:
    counts = {kind: len(result.of_kind(kind)) for kind in ("new", "removed", "grown", "shrunk")}
    return {
        "schema": "escape-lens-diff/1",
        "regressed": result.regressed,
        "summary": {**counts, "unchanged": result.unchanged},
        "changes": [_change_to_dict(c) for c in result.changes],
    }


def render_text(result: SiteDiff, out: Any) -> None:
    for change in result.changes:
        site = change.site
        subject = site.expr or (site.type.name if site.type else "")
        out.write(
            f"{site.pos}: {change.kind}: {site.function}: {site.construct} {subject}: "
            f"{change.reason}\n"
        )
    counts = ", ".join(
        f"{len(result.of_kind(kind))} {kind}" for kind in ("new", "grown", "removed", "shrunk")
    )
    out.write(f"escape-lens diff: {counts}, {result.unchanged} unchanged\n")
