"""`analyze --go A --go B --format html`: a version matrix as one static page.

The page is written here whole, with no script (the site table of reporters/html.py is a
different page): the versions with their totals, then per step (A -> B) a table of the
changed sites grouped by kind. Every text from the report is escaped; the page loads
nothing (a Content-Security-Policy of `default-src 'none'`), so it opens from `file://`.
"""

from __future__ import annotations

from html import escape
from typing import TextIO

from escape_lens.matrix import MATRIX_KINDS, VersionMatrix
from escape_lens.reporters.matrix_formats import change_words, step_name, version_name
from escape_lens.reporters.text_layout import counted
from escape_lens.reporters.text_words import SHORT_CONSTRUCT, what_of
from escape_lens.reporters.totals import summarize

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border-bottom: 1px solid #8884; padding: 2px 10px 2px 0; text-align: left; }
td.pos, td.what, td.words { font-family: ui-monospace, monospace; }
th.kind { padding-top: 0.8em; }
"""


def _versions(matrix: VersionMatrix) -> list[str]:
    rows = ["<table><tr><th>Go</th><th>sites</th><th>class bytes</th></tr>"]
    for report in matrix.reports:
        summary = summarize(report.sites)
        rows.append(
            f"<tr><td>{escape(version_name(report))}</td><td>{summary['sites']}</td>"
            f"<td>{summary['class_bytes']} B</td></tr>"
        )
    rows.append("</table>")
    return rows


def _steps(matrix: VersionMatrix) -> list[str]:
    parts: list[str] = []
    for step in matrix.steps:
        parts.append(f"<h2>{escape(step_name(step))}</h2>")
        parts.append(
            f"<p>{counted(len(step.changes), 'site')} changed, {step.unchanged} unchanged</p>"
        )
        if not step.changes:
            continue
        parts.append('<table class="changes">')
        for kind in MATRIX_KINDS:
            changes = step.of_kind(kind)
            if not changes:
                continue
            parts.append(f'<tr><th class="kind" colspan="5">{kind} ({len(changes)})</th></tr>')
            for change in changes:
                site = change.site
                construct = SHORT_CONSTRUCT.get(site.construct, site.construct)
                parts.append(
                    f'<tr data-kind="{kind}"><td class="pos">{escape(str(site.pos))}</td>'
                    f"<td>{escape(site.function)}</td><td>{escape(construct)}</td>"
                    f'<td class="what">{escape(what_of(site, 60))}</td>'
                    f'<td class="words">{escape(change_words(change))}</td></tr>'
                )
        parts.append("</table>")
    return parts


def render_page(matrix: VersionMatrix, out: TextIO) -> None:
    versions = ", ".join(version_name(report) for report in matrix.reports)
    title = f"escape-lens: version matrix, {versions}"
    out.write(
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">\n"
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n"
    )
    out.write("\n".join([*_versions(matrix), *_steps(matrix)]))
    out.write("\n</body>\n</html>\n")


class HtmlMatrixReporter:
    def render_matrix(self, matrix: VersionMatrix, out: TextIO) -> None:
        render_page(matrix, out)


REPORTER = HtmlMatrixReporter()
