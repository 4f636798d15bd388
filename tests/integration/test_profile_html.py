"""The HTML report of a profiled run, in a real Chromium: what the runtime recorded leads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from escape_lens.binary_report import analyze_binary
from escape_lens.profile import attach_profiles
from escape_lens.records import Report
from escape_lens.reporters import get_reporter
from tests.integration.profiled_support import build_and_profile
from tests.integration.test_html_browser import ARTIFACTS, Page, browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

__all__ = ["browser"]  # the module-scoped Chromium fixture
N = 100


@pytest.fixture(scope="module")
def profiled_page(tmp_path_factory: pytest.TempPathFactory, pinned_go: Path) -> tuple[Report, Path]:
    root = tmp_path_factory.mktemp("profilehtml")
    built = build_and_profile(root, pinned_go, N)
    program, profile = built.program, built.profile
    report = attach_profiles(
        analyze_binary(program, ["example.com/constructs/..."]), [str(profile)]
    )
    path = root / "report.html"
    with path.open("w", encoding="utf-8") as stream:
        get_reporter("html").render(report, stream)
    return report, path


@pytest.fixture
def page(browser: Any, profiled_page: tuple[Report, Path]) -> Iterator[Page]:
    opened = Page(browser, profiled_page[1])
    yield opened
    opened.close()


def test_fix_first_ranks_by_observed_bytes(page: Page, profiled_page: tuple[Report, Path]) -> None:
    report = profiled_page[0]
    assert page.errors == []
    ranked = sorted(
        (s for s in report.sites if s.observed is not None),
        key=lambda s: -s.observed.bytes if s.observed else 0,
    )
    first = page.page.inner_text("#sec-fix ol.fix li >> nth=0")
    assert ranked[0].package.endswith("/large")
    assert "large.New" in first
    assert "% of the profile" in first
    assert "Ranked by the bytes the heap profile recorded" in page.page.inner_text("#sec-fix")
    # What the runtime never records is stated beside the observed counts.
    assert "What the runtime does not record" in page.page.inner_text("#sec-fix")
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "html-profiled.png"), full_page=True)


def test_chart_draws_recorded_sizes(page: Page, profiled_page: tuple[Report, Path]) -> None:
    report = profiled_page[0]
    recorded = sorted(
        {size.bytes for s in report.sites if s.observed is not None for size in s.observed.sizes}
    )
    bars = page.page.eval_on_selector_all(
        "#sec-chart .bar", "bars => bars.map(b => b.getAttribute('data-class'))"
    )
    assert len(bars) == len(recorded)
    assert "Bytes the heap profile recorded" in page.page.inner_text("#sec-chart")
