"""The HTML report in a real Chromium, on reports of real compiler runs of the fixtures.

Each fixture is analysed once (pinned toolchain) and rendered to a file; the page is then
opened from `file://` as a user would. Screenshots go to test-artifacts/ (gitignored).
Skipped, saying why, only where no Chromium (or Playwright) is installed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.records import GoToolchain, Report
from escape_lens.reporters import get_reporter
from tests.conftest import FIXTURES, REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FIXTURE_TARGETS = {
    "quickstart": (FIXTURES / "quickstart", ["main.go"]),
    "constructs": (FIXTURES / "constructs", ["./..."]),
}


# Module-scoped: Playwright's sync API runs one driver at a time, and the diff tests'
# module imports this fixture (a second instance, started after this one is closed).
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium (see .ci/run)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def reports(
    pinned_go: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Report, Path]]:
    out = tmp_path_factory.mktemp("html")
    result: dict[str, tuple[Report, Path]] = {}
    for name, (directory, targets) in FIXTURE_TARGETS.items():
        report = analyze_targets(targets, go=str(pinned_go), cwd=str(directory))
        path = out / f"{name}.html"
        with path.open("w", encoding="utf-8") as stream:
            get_reporter("html").render(report, stream)
        result[name] = (report, path)
    return result


class Page:
    """A page opened from file://, recording console errors and every request it makes."""

    def __init__(self, browser: Any, path: Path, scheme: str = "light") -> None:
        self.context = browser.new_context(
            viewport={"width": 1320, "height": 1000}, color_scheme=scheme
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)

    def rows(self) -> list[int]:
        """Every row the table lists, in order: it adds rows a chunk at a time as it is
        scrolled near its end, so scroll it down as a reader would, then back up."""
        shown = -1
        while True:
            rows = [
                int(i)
                for i in self.page.eval_on_selector_all(
                    "#sites-table tbody tr[data-site]", "rows => rows.map(r => r.dataset.site)"
                )
            ]
            if len(rows) == shown:
                self.page.eval_on_selector(".table-wrap", "wrap => { wrap.scrollTop = 0; }")
                return rows
            shown = len(rows)
            self.page.eval_on_selector(
                ".table-wrap", "wrap => { wrap.scrollTop = wrap.scrollHeight; }"
            )
            self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r)))")

    def close(self) -> None:
        self.context.close()


@pytest.fixture(params=sorted(FIXTURE_TARGETS))
def opened(
    request: pytest.FixtureRequest, browser: Any, reports: dict[str, tuple[Report, Path]]
) -> Iterator[tuple[str, Report, Page]]:
    name = str(request.param)
    report, path = reports[name]
    page = Page(browser, path)
    yield name, report, page
    page.close()


def write_page(report: Report, path: Path) -> Path:
    """The report's HTML page, written to `path`."""
    with path.open("w", encoding="utf-8") as stream:
        get_reporter("html").render(report, stream)
    return path


def allocating(report: Report) -> list[int]:
    return [i for i, site in enumerate(report.sites) if site.allocates]


def test_loads_without_errors_or_network(opened: tuple[str, Report, Page]) -> None:
    name, report, page = opened
    assert page.errors == []
    assert page.requests == [page.url], "the page fetched something besides itself"
    assert page.page.title().startswith("escape-lens")
    value = page.page.inner_text("#sec-summary .card-value >> nth=0")
    assert value == str(len(allocating(report)))
    assert sorted(page.rows()) == allocating(report)
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / f"html-{name}.png"), full_page=True)


def test_table_filters_by_text_path_and_construct(
    browser: Any, reports: dict[str, tuple[Report, Path]]
) -> None:
    report, path = reports["constructs"]
    page = Page(browser, path)
    try:
        page.page.fill("#f-q", "chans")
        expected = [i for i in allocating(report) if "chans" in report.sites[i].package]
        assert expected
        assert sorted(page.rows()) == expected
        # The source section follows: only the chans functions are listed.
        listed = page.page.locator("details.fn:not([hidden]) .fn-file").all_inner_texts()
        assert listed
        assert all(f.startswith("chans/") for f in listed)
        assert page.page.locator("details.fn[hidden]").count() > 0
        page.page.fill("#f-q", "")
        page.page.select_option("#f-con", "map")
        assert sorted(page.rows()) == [
            i for i in allocating(report) if report.sites[i].construct == "map"
        ]
        page.page.select_option("#f-con", "")
        page.page.select_option("#f-path", "dynamic")
        dynamic = [
            i
            for i in allocating(report)
            if report.sites[i].prediction is not None
            and report.sites[i].prediction.path == "dynamic"
        ]
        assert sorted(page.rows()) == dynamic
        page.page.check("#f-all")
        page.page.select_option("#f-path", "")
        assert len(page.rows()) == len(report.sites)
        assert page.errors == []
    finally:
        page.close()


def test_table_sorts_by_mouse_and_keyboard(
    browser: Any, reports: dict[str, tuple[Report, Path]]
) -> None:
    report, path = reports["constructs"]
    page = Page(browser, path)
    try:
        header = page.page.locator('#sites-table th[data-key="bytes"]')
        header.locator("button").click()
        assert header.get_attribute("aria-sort") == "descending"
        sizes = [report.sites[i].class_bytes for i in page.rows()]
        assert sizes == sorted(sizes, reverse=True)
        assert sizes[0] > sizes[-1]
        # Keyboard: focus the same header button and press Enter to flip the order.
        header.locator("button").focus()
        page.page.keyboard.press("Enter")
        assert header.get_attribute("aria-sort") == "ascending"
        sizes = [report.sites[i].class_bytes for i in page.rows()]
        assert sizes == sorted(sizes)
        page.page.locator('#sites-table th[data-key="function"] button').press("Space")
        names = [
            page.page.inner_text(f'#sites-table tr[data-site="{i}"] td >> nth=2')
            for i in page.rows()
        ]
        assert len(set(names)) > 1
        # In the reader's collation (the page sorts text with localeCompare).
        in_order = page.page.evaluate(
            "names => names.every((n, i) => i === 0 || names[i - 1].localeCompare(n) <= 0)",
            names,
        )
        assert in_order, names
    finally:
        page.close()


def test_hash_keeps_filter_state_across_reload(
    browser: Any, reports: dict[str, tuple[Report, Path]]
) -> None:
    _report, path = reports["constructs"]
    page = Page(browser, path)
    try:
        page.page.fill("#f-q", "slices")
        page.page.select_option("#f-path", "small")
        page.page.locator('#sites-table th[data-key="waste"] button').click()
        before = page.rows()
        assert before
        assert re.search(r"q=slices", page.page.url)
        page.page.reload()
        assert page.page.input_value("#f-q") == "slices"
        assert page.page.input_value("#f-path") == "small"
        assert (
            page.page.get_attribute('#sites-table th[data-key="waste"]', "aria-sort")
            == "descending"
        )
        assert page.rows() == before
        assert page.errors == []
    finally:
        page.close()


def test_source_annotation_opens_with_flow_and_assembly(
    browser: Any, reports: dict[str, tuple[Report, Path]]
) -> None:
    report, path = reports["quickstart"]
    page = Page(browser, path)
    try:
        # An allocating site with the compiler's flow if the join gave one, else the
        # escape statement that carries it (listed once the stack-only filter is off).
        flowing = [
            i
            for i, site in enumerate(report.sites)
            if site.diagnostic is not None and site.diagnostic.flow
        ]
        assert flowing, "quickstart's &smallStruct{} escapes with a flow"
        target = next((i for i in flowing if report.sites[i].allocates), flowing[0])
        if not report.sites[target].allocates:
            page.page.check("#f-all")
        site = report.sites[target]
        page.page.click(f'#sites-table tr[data-site="{target}"] a.site-link')
        note = page.page.locator(f"#site-{target}")
        note.wait_for(state="visible")
        chain = note.locator(".chain li").all_inner_texts()
        assert chain[-1] == "heap"
        if site.allocates:
            assert note.locator(".explain li").count() >= 1
        # The badge on the source line closes the annotation again, and reopens it.
        badge = note.locator("xpath=../preceding-sibling::div[contains(@class, 'line')][1]//button")
        assert badge.get_attribute("aria-expanded") == "true"
        assert str(site.pos.line) in badge.locator("xpath=..").inner_text()
        badge.click()
        assert note.is_hidden()
        badge.press("Enter")
        assert note.is_visible()
        # The assembly of an allocating call, opened from its own row.
        call = next(i for i in allocating(report) if report.sites[i].call is not None)
        call_site = report.sites[call]
        assert call_site.call is not None
        page.page.click(f'#sites-table tr[data-site="{call}"] a.site-link')
        call_note = page.page.locator(f"#site-{call}")
        call_note.wait_for(state="visible")
        assert call_site.call.entry in call_note.inner_text()
        call_note.locator(".asm summary").click()
        asm = call_note.locator(".asm pre").inner_text()
        assert f"CALL\truntime.{call_site.call.entry}" in asm
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / "html-quickstart-annotation.png"), full_page=True)
    finally:
        page.close()


def test_dark_theme_follows_the_system(
    browser: Any, reports: dict[str, tuple[Report, Path]]
) -> None:
    _, path = reports["constructs"]
    colours = {}
    for scheme in ("light", "dark"):
        page = Page(browser, path, scheme)
        try:
            colours[scheme] = page.page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert page.errors == []
            ARTIFACTS.mkdir(exist_ok=True)
            page.page.screenshot(path=str(ARTIFACTS / f"html-constructs-{scheme}.png"))
        finally:
            page.close()
    assert colours["light"] != colours["dark"]


def test_print_layout_shows_all_rows_without_controls(
    browser: Any, reports: dict[str, tuple[Report, Path]]
) -> None:
    _, path = reports["constructs"]
    page = Page(browser, path)
    try:
        page.page.emulate_media(media="print")
        assert page.page.locator(".filters").is_hidden()
        overflow = page.page.evaluate(
            "getComputedStyle(document.querySelector('.table-wrap')).overflow"
        )
        assert overflow == "visible"
        pdf = page.page.pdf()
        assert pdf.startswith(b"%PDF")
    finally:
        page.close()


def test_binary_report_page(browser: Any, pinned_toolchain: GoToolchain, tmp_path: Path) -> None:
    """`analyze --binary` reports use the same page: disassembled calls, no escape flow."""
    from escape_lens.binary_report import analyze_binary
    from escape_lens.toolchain.link import build_binary

    binary = build_binary(
        pinned_toolchain, ["main.go"], tmp_path / "quickstart", cwd=str(FIXTURES / "quickstart")
    )
    report = analyze_binary(binary)
    assert report.origin == "binary"
    target = next(i for i in allocating(report) if report.sites[i].call is not None)
    call = report.sites[target].call
    assert call is not None
    path = tmp_path / "binary.html"
    with path.open("w", encoding="utf-8") as stream:
        get_reporter("html").render(report, stream)
    page = Page(browser, path)
    try:
        assert page.errors == []
        assert page.requests == [page.url]
        assert "from a compiled binary" in page.page.inner_text(".meta")
        page.page.click(f'#sites-table tr[data-site="{target}"] a.site-link')
        note = page.page.locator(f"#site-{target}")
        note.wait_for(state="visible")
        note.locator(".asm summary").click()
        assert call.asm[-1] in note.locator(".asm pre").inner_text()
    finally:
        page.close()


def test_build_settings_in_the_header(browser: Any, pinned_go: Path, tmp_path: Path) -> None:
    """Tags and compiler flags are shown with the toolchain; a plain build shows none."""
    directory = FIXTURES / "quickstart"
    report = analyze_targets(["main.go"], go=str(pinned_go), cwd=str(directory), gcflags=("-l",))
    assert report.build.gcflags == ("-l",)
    path = tmp_path / "flags.html"
    with path.open("w", encoding="utf-8") as stream:
        get_reporter("html").render(report, stream)
    page = Page(browser, path)
    try:
        assert page.errors == []
        assert "gcflags=-l" in page.page.inner_text(".meta")
    finally:
        page.close()


def test_hostile_strings_stay_text(browser: Any, tmp_path: Path) -> None:
    """A `</script><!--` in an expression or type is shown as text, never parsed as HTML."""
    from tests.unit.test_html_report import make_report, render

    report = make_report(tmp_path)
    path = tmp_path / "hostile.html"
    path.write_text(render(report), encoding="utf-8")
    page = Page(browser, path)
    try:
        assert page.errors == []
        assert len(page.rows()) == len(report.sites)
        assert page.page.locator("script").count() == 2
        hostile = next(i for i, s in enumerate(report.sites) if "</script>" in s.expr)
        page.page.click(f'#sites-table tr[data-site="{hostile}"] a.site-link')
        note = page.page.locator(f"#site-{hostile}")
        note.wait_for(state="visible")
        assert "</script><!--" in note.locator(".expr").inner_text()
    finally:
        page.close()


def test_chart_bar_filters_the_table_by_class(
    browser: Any, reports: dict[str, tuple[Report, Path]]
) -> None:
    report, path = reports["constructs"]
    page = Page(browser, path)
    try:
        sizes = [
            report.sites[i].prediction.class_bytes  # type: ignore[union-attr]
            for i in allocating(report)
            if report.sites[i].prediction and report.sites[i].prediction.path == "small"  # type: ignore[union-attr]
        ]
        common = max(set(sizes), key=sizes.count)
        assert common < 1024, "labelled in bytes, as the page does below 1 KiB"
        label = f"{common} B"
        bar = page.page.locator(f'.chart .bar[data-class="{label}"]')
        bar.focus()
        page.page.keyboard.press("Enter")
        rows = page.rows()
        assert len(rows) == sizes.count(common)
        predictions = [report.sites[i].prediction for i in rows]
        assert all(p is not None and p.class_bytes == common for p in predictions)
        assert page.page.input_value("#f-cls") == label
        assert "cls=" in page.page.url
        bar.click()  # again: the filter goes
        assert len(page.rows()) == len(allocating(report))
        assert page.errors == []
    finally:
        page.close()


def test_cli_writes_the_same_page(
    reports: dict[str, tuple[Report, Path]],
    pinned_go: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`analyze --format html -o FILE` writes exactly what the reporter renders."""
    from escape_lens.cli import main

    _, rendered = reports["quickstart"]
    monkeypatch.chdir(FIXTURES / "quickstart")
    out = tmp_path / "report.html"
    code = main(["analyze", "main.go", "--go", str(pinned_go), "--format", "html", "-o", str(out)])
    assert code == 0
    assert out.read_bytes() == rendered.read_bytes()


@pytest.mark.toolchains
def test_older_toolchains_render_cleanly(browser: Any, old_go: Path, tmp_path: Path) -> None:
    """Reports of go1.21/1.22/1.24 (older flow spellings, no malloc headers) draw cleanly."""
    report = analyze_targets(["main.go"], go=str(old_go), cwd=str(FIXTURES / "quickstart"))
    path = tmp_path / "old.html"
    with path.open("w", encoding="utf-8") as stream:
        get_reporter("html").render(report, stream)
    page = Page(browser, path)
    try:
        assert page.errors == []
        assert str(report.toolchain.version) in page.page.inner_text(".meta")
        assert sorted(page.rows()) == allocating(report)
        target = allocating(report)[0]
        page.page.click(f'#sites-table tr[data-site="{target}"] a.site-link')
        page.page.locator(f"#site-{target}").wait_for(state="visible")
    finally:
        page.close()


def test_fix_first_panel_and_detail_show_the_advice(
    browser: Any, pinned_go: Path, tmp_path: Path
) -> None:
    from escape_lens.advice.rank import fix_first
    from escape_lens.inputs import source_reader
    from escape_lens.model import rules_for

    report = analyze_targets(["./..."], go=str(pinned_go), cwd=str(FIXTURES / "advice"))
    path = tmp_path / "advice.html"
    with path.open("w", encoding="utf-8") as stream:
        get_reporter("html").render(report, stream)
    ranked = fix_first(
        report.sites, rules_for(report.toolchain.version), source_reader(report.root)
    )
    page = Page(browser, path)
    try:
        assert page.errors == []
        panel = page.page.inner_text("#sec-fix")
        assert "Ranked by the bytes a hint recovers per execution" in panel
        first = page.page.inner_text("#sec-fix ol.fix li >> nth=0")
        assert "too-large-for-stack" in first
        assert ranked[0].hint.text in first
        assert page.page.locator("#sec-fix ol.fix li").count() == 5
        # The detail of a site says its cause and hint in one line.
        target = report.sites.index(ranked[1].site)
        page.page.click(f'#sites-table tr[data-site="{target}"] a.site-link')
        note = page.page.locator(f"#site-{target}")
        note.wait_for(state="visible")
        assert f"Cause: returned — {ranked[1].hint.text}" in note.inner_text()
    finally:
        page.close()
