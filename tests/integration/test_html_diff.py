"""The HTML diff page: two real builds of a small program, before and after an edit.

The edit grows a struct past its size class, adds an allocation and removes one, so the
page must mark one site of each kind; it is checked in Python and, where Chromium is
installed, in the browser (Change column, filter, banner, no console errors).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.diff import diff_reports
from escape_lens.records import Report
from escape_lens.reporters.html import REPORTER
from tests.integration.test_html_browser import ARTIFACTS, Page
from tests.integration.test_html_browser import browser as browser  # the session fixture

pytestmark = pytest.mark.slow

OLD = """\
package main

import "fmt"

type record struct {
\tid   int64
\tname string
}

//go:noinline
func newRecord(id int64) *record { return &record{id: id} }

//go:noinline
func gone() *[3]int64 { return &[3]int64{} }

func main() {
\tfmt.Println(newRecord(1).id, gone()[0])
}
"""

NEW = """\
package main

import "fmt"

type record struct {
\tid    int64
\tname  string
\textra [9]byte
}

//go:noinline
func newRecord(id int64) *record { return &record{id: id} }

//go:noinline
func fresh(n int) []string { return make([]string, 0, 8+n) }

func main() {
\tfmt.Println(newRecord(1).id, len(fresh(2)))
}
"""


def _module(root: Path, source: str) -> Path:
    root.mkdir()
    (root / "go.mod").write_text("module example.com/dv\n\ngo 1.21\n")
    (root / "main.go").write_text(source)
    return root


@pytest.fixture(scope="session")
def diff_page(pinned_go: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    base = tmp_path_factory.mktemp("htmldiff")
    old = analyze_targets(["."], go=str(pinned_go), cwd=str(_module(base / "old", OLD)))
    new = analyze_targets(["."], go=str(pinned_go), cwd=str(_module(base / "new", NEW)))
    out = io.StringIO()
    REPORTER.render_diff(old, new, diff_reports(old, new), out)
    path = base / "diff.html"
    path.write_text(out.getvalue(), encoding="utf-8")
    return new, path


def _data(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    match = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', text, re.S
    )
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_diff_marks_new_grown_and_removed_sites(diff_page: tuple[Report, Path]) -> None:
    new, path = diff_page
    data = _data(path)
    assert data["diff"]["counts"]["new"] >= 1
    assert data["diff"]["counts"]["grown"] >= 1
    assert data["diff"]["counts"]["removed"] >= 1
    fields = data["report"]["sites"]["fields"]
    rows = [dict(zip(fields, row, strict=True)) for row in data["report"]["sites"]["rows"]]
    status = {
        (r["function"], r["construct"]): v.get("status")
        for r, v in zip(rows, data["views"], strict=True)
    }
    grown = [key for key, value in status.items() if value == "grown"]
    assert any("newRecord" in function for function, _ in grown)
    assert any("gone" in function for (function, _), value in status.items() if value == "removed")
    assert any("fresh" in function for (function, _), value in status.items() if value == "new")
    # Totals are the new code's, not the new plus the removed.
    assert data["report"]["summary"]["class_bytes"] == sum(
        s.class_bytes for s in new.sites if s.allocates
    )
    # Removed sites carry no source: their line numbers are the old code's.
    removed = {i for i, v in enumerate(data["views"]) if v.get("status") == "removed"}
    for function in data["functions"]:
        if removed & set(function["sites"]):
            assert function["segments"] == []


@pytest.mark.browser
def test_diff_page_in_the_browser(browser: Any, diff_page: tuple[Report, Path]) -> None:
    _, path = diff_page
    page = Page(browser, path)
    try:
        assert page.errors == []
        assert page.requests == [page.url]
        assert page.page.locator('#sites-table th[data-key="change"]').count() == 1
        assert "Diff:" in page.page.inner_text("h1")
        page.page.select_option("#f-change", "grown")
        rows = page.rows()
        assert rows
        for i in rows:
            assert page.page.inner_text(f'#sites-table tr[data-site="{i}"] td >> nth=0') == "grown"
        page.page.select_option("#f-change", "removed")
        assert page.page.locator("#sites-table tr.gone").count() == len(page.rows()) >= 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.select_option("#f-change", "")
        page.page.screenshot(path=str(ARTIFACTS / "html-diff.png"), full_page=True)
    finally:
        page.close()
