"""`escape-lens diff OLD.json NEW.json`: what changed between two JSON reports."""

from __future__ import annotations

import io
from typing import Any

import click

from escape_lens.cli.output import check_writable, html_output, output_stream, say_html_written
from escape_lens.diff import diff_reports
from escape_lens.errors import EXIT_FINDINGS, EXIT_OK
from escape_lens.reporters import diff_reporter, formats
from escape_lens.reporters.json_report import read_report


@click.command("diff")
@click.argument("old", metavar="OLD.json")
@click.argument("new", metavar="NEW.json")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(formats("diff")),
    default="text",
    show_default=True,
)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE, not stdout.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when sites are new or grew.")
def command(old: str, new: str, output_format: str, output: str | None, exit_zero: bool) -> int:
    """Compare two reports (from `analyze --format json`), sites matched by fingerprint.

    Exit 1 if a site is new or grew, else 0.
    """
    asked, output = output, html_output(output_format, output)
    if output is not None:
        check_writable(output, (old, new))
    old_report, new_report = _load(old), _load(new)
    result = diff_reports(old_report, new_report)
    buffer = io.StringIO()
    diff_reporter(output_format).render_diff(old_report, new_report, result, buffer)
    with output_stream(output, (old, new), create=asked != output) as stream:
        stream.write(buffer.getvalue())
    if asked != output and output is not None:
        say_html_written(output)
    return EXIT_FINDINGS if result.regressed and not exit_zero else EXIT_OK


def _load(path: str) -> Any:
    return read_report(path)
