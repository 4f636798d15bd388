"""The HTML report of net/http (go1.27.3: some 1,000 allocating sites, 338 functions) in a
real Chromium: the issue's budgets (a filter keystroke under 100 ms, "Expand all" under
1 s), every size class in the chart, the table at 800 px, long source lines, the new
columns and what "#N" means.

Timings are taken in the page (`performance.now()` around the work and a forced layout),
each the fastest of three tries: the budget is the page's work, not the scheduling of a
machine shared with other jobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.records import Report
from escape_lens.reporters.text_words import first_reason
from tests.integration.test_html_browser import ARTIFACTS, Page, allocating, browser, write_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

__all__ = ["browser"]  # the module-scoped Chromium of the page tests

KEYSTROKE_BUDGET_MS = 100
EXPAND_ALL_BUDGET_MS = 1000
TRIES = 3


@pytest.fixture(scope="module")
def nethttp(pinned_go: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    directory = tmp_path_factory.mktemp("nethttp")
    (directory / "go.mod").write_text("module example.com/nh\n\ngo 1.21\n")
    report = analyze_targets(["net/http"], go=str(pinned_go), cwd=str(directory))
    return report, write_page(report, directory / "nethttp.html")


@pytest.fixture
def page(browser: Any, nethttp: tuple[Report, Path]) -> Iterator[Page]:
    opened = Page(browser, nethttp[1])
    yield opened
    assert opened.errors == []
    opened.close()


def test_page_is_small_and_opens_cleanly(page: Page, nethttp: tuple[Report, Path]) -> None:
    """The issue's bound: net/http's page under 2 MB, every allocating site in the table."""
    report, path = nethttp
    assert len(report.sites) > 500
    size = path.stat().st_size
    assert size < 2_000_000, f"net/http page is {size} bytes"
    assert page.requests == [page.url]
    assert len(page.rows()) == len(allocating(report))
    page.page.fill("#f-q", "ServeHTTP")
    assert 0 < len(page.rows()) < len(allocating(report))


# Set the filter to `text` from `before`, as typing does, and time the page's answer.
_KEYSTROKE = """([before, text]) => {
  const box = document.getElementById("f-q");
  box.value = before; box.dispatchEvent(new Event("input")); document.body.offsetHeight;
  const start = performance.now();
  box.value = text; box.dispatchEvent(new Event("input")); document.body.offsetHeight;
  return performance.now() - start;
}"""


def test_each_filter_keystroke_answers_within_100_ms(
    page: Page, nethttp: tuple[Report, Path]
) -> None:
    report, _ = nethttp
    assert len(allocating(report)) > 900
    word = "ServeHTTP"
    timings = {}
    for end in range(1, len(word) + 1):
        before, text = word[: end - 1], word[:end]
        timings[text] = min(page.page.evaluate(_KEYSTROKE, [before, text]) for _ in range(TRIES))
    slow = {text: round(ms) for text, ms in timings.items() if ms >= KEYSTROKE_BUDGET_MS}
    assert slow == {}, f"keystrokes over {KEYSTROKE_BUDGET_MS} ms: {slow}"
    # and the answer is right: every site whose function, type, expression... says it
    page.page.fill("#f-q", word)
    expected = [
        i
        for i in allocating(report)
        if "servehttp"
        in " ".join(
            [report.sites[i].function, report.sites[i].expr, first_reason(report.sites[i])]
        ).lower()
    ]
    rows = page.rows()
    assert set(expected) <= set(rows)
    assert 0 < len(rows) < len(allocating(report))


def test_expand_all_answers_within_a_second(page: Page, nethttp: tuple[Report, Path]) -> None:
    page.page.locator("#sec-functions").scroll_into_view_if_needed()
    button = page.page.locator("#sec-functions button", has_text="Expand all")
    timings = []
    for _ in range(TRIES):
        page.page.locator("#sec-functions button", has_text="Collapse all").click()
        # from the click until the functions in view show their source
        timings.append(
            page.page.evaluate(
                """button => new Promise(done => {
                  const start = performance.now();
                  button.click();
                  const drawn = () => {
                    const open = [...document.querySelectorAll("details.fn[open]")];
                    const inView = open.filter(d => d.getBoundingClientRect().top < innerHeight);
                    if (inView.length && inView.every(d => d.querySelector(".fn-body .src"))) {
                      document.body.offsetHeight;
                      done(performance.now() - start);
                    } else requestAnimationFrame(drawn);
                  };
                  requestAnimationFrame(drawn);
                })""",
                button.element_handle(),
            )
        )
    assert min(timings) < EXPAND_ALL_BUDGET_MS, timings
    functions = page.page.locator("details.fn")
    assert functions.count() > 300
    assert page.page.locator("details.fn:not([open]):not([hidden])").count() == 0
    # a function far down the list draws its source when it is reached
    last = functions.last
    last.scroll_into_view_if_needed()
    last.locator(".fn-body .line, .fn-body .note").first.wait_for(state="visible")


def test_chart_shows_every_size_class(page: Page, nethttp: tuple[Report, Path]) -> None:
    report, _ = nethttp
    classes = set()
    for i in allocating(report):
        prediction = report.sites[i].prediction
        if prediction is None or prediction.path in ("dynamic", "none"):
            continue
        classes.add(prediction.class_bytes if prediction.path == "small" else prediction.path)
    assert max(c for c in classes if isinstance(c, int)) > 240  # where the chart was cut
    bars = page.page.locator(".chart .bar")
    assert bars.count() == len(classes) > 20
    holder = page.page.locator(".chart-holder")
    box = holder.bounding_box()
    assert box is not None
    assert page.page.evaluate("h => h.scrollWidth <= h.clientWidth", holder.element_handle())
    for k in range(bars.count()):
        bar = bars.nth(k).bounding_box()
        assert bar is not None
        assert box["x"] <= bar["x"]
        assert bar["x"] + bar["width"] <= box["x"] + box["width"] + 1
    labels = page.page.locator(".chart .bar text.axis").all_text_contents()
    assert any(label.startswith("4 KiB") for label in labels)
    hint = page.page.inner_text("#sec-chart .hint")
    assert "#N is the runtime's size-class number" in hint
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.locator("#sec-chart").screenshot(path=str(ARTIFACTS / "html-nethttp-chart.png"))


def test_table_is_usable_at_800_px(browser: Any, nethttp: tuple[Report, Path]) -> None:
    page = Page(browser, nethttp[1])
    try:
        page.page.set_viewport_size({"width": 800, "height": 1000})
        wrap = page.page.locator(".table-wrap")
        assert page.page.evaluate("w => w.scrollWidth <= w.clientWidth", wrap.element_handle())
        assert page.page.evaluate("document.documentElement.scrollWidth <= 800")
        headers = page.page.locator("#sites-table th:visible").all_inner_texts()
        for name in ("LOCATION", "FUNCTION", "EXPRESSION", "BYTES", "PATH", "REASON"):
            assert any(h.startswith(name) for h in headers), headers
        first = page.page.locator("#sites-table tbody tr").first
        for cell in first.locator("td:visible").all():
            cell_box = cell.bounding_box()
            assert cell_box is not None
            assert cell_box["x"] + cell_box["width"] <= 800
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.locator("#sec-sites").screenshot(path=str(ARTIFACTS / "html-nethttp-800.png"))
        assert page.errors == []
    finally:
        page.close()


def test_expression_reason_and_class_number_cells(page: Page, nethttp: tuple[Report, Path]) -> None:
    report, _ = nethttp
    rows = page.page.locator("#sites-table tbody tr[data-site]")
    assert rows.count() == 40  # the first chunk; more come as the table scrolls
    for k in range(rows.count()):
        row = rows.nth(k)
        site = report.sites[int(row.get_attribute("data-site") or "")]
        assert row.locator("td.col-expr").inner_text() == (site.expr or "—")
        assert row.locator("td.col-reason").inner_text() == (first_reason(site) or "—")
        if site.prediction is not None and site.prediction.path == "small":
            number = site.prediction.size_class
            assert row.locator("td.col-class").inner_text().endswith(f"#{number}")
            title = row.locator("td.col-class").get_attribute("title") or ""
            assert title.startswith(f"size class {number} of the Go runtime's table")
    header = page.page.get_attribute('#sites-table th[data-key="class"]', "title") or ""
    assert "#N, its number in the Go runtime's table" in header


def test_long_source_line_keeps_its_badge_and_gutter(
    browser: Any, nethttp: tuple[Report, Path]
) -> None:
    report, _ = nethttp
    # the longest allocating source line of net/http (client.go:297 in go1.27.3)
    root = Path(report.root)

    def width(i: int) -> int:
        file = root / report.sites[i].pos.file
        if not file.is_file():  # <autogenerated>
            return 0
        return len(file.read_text().splitlines()[report.sites[i].pos.line - 1].expandtabs(4))

    longest = max(allocating(report), key=width)
    site = report.sites[longest]
    page = Page(browser, nethttp[1])
    try:
        page.page.set_viewport_size({"width": 1000, "height": 900})
        page.page.fill("#f-q", f"{site.pos.file}:{site.pos.line}")
        page.page.click(f'#sites-table tr[data-site="{longest}"] a.site-link')
        line = page.page.locator(f".line:has(+ .notes #site-{longest})")
        source = line.locator("xpath=ancestor::div[contains(@class, 'src')][1]")
        assert page.page.evaluate(
            "s => s.scrollWidth > s.clientWidth + 100", source.element_handle()
        )

        def inside(selector: str) -> bool:
            outer, inner = source.bounding_box(), line.locator(selector).bounding_box()
            assert outer is not None
            assert inner is not None
            return (
                outer["x"] - 1 <= inner["x"]
                and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
            )

        assert inside(".badge")  # visible without scrolling, though the code runs past it
        gutter_x = line.locator(".ln").bounding_box()
        source.evaluate("s => { s.scrollLeft = 400; }")
        assert source.evaluate("s => s.scrollLeft") > 0
        assert line.locator(".ln").bounding_box() == gutter_x  # the line numbers stay
        assert line.locator(".ln").inner_text() == str(site.pos.line)
        assert inside(".badge")
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / "html-nethttp-long-line.png"))
        assert page.errors == []
    finally:
        page.close()
