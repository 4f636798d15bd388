"""The HTML page is written a piece of its data at a time, the same bytes as in one piece."""

from __future__ import annotations

import io
from dataclasses import replace

from escape_lens.records import GoToolchain, GoVersion, Report
from escape_lens.reporters.html import (
    REPORTER,
    Streamed,
    _page_text,
    _title,
    embed_json,
    payload,
)
from tests.unit.test_codec import SITE


def test_the_streamed_page_is_the_one_piece_page() -> None:
    toolchain = GoToolchain("/go/bin/go", GoVersion(1, 27, 3), "linux", "amd64")
    other = replace(SITE, expr="a < b </script>", fingerprint="g")
    for sites in ((), (SITE,), (SITE, other)):
        report = Report("0.1.0", toolchain, ("example.com/m/<a>",), sites, root="/m")
        out = io.StringIO()
        REPORTER.render(report, out)  # rows and views streamed
        streamed = payload(report, streamed=True)
        assert isinstance(streamed["views"], Streamed)
        assert isinstance(streamed["report"]["sites"]["rows"], Streamed)
        assert isinstance(streamed["functions"], Streamed)
        data = payload(report)  # made whole
        one_piece = _page_text(_title(report)).replace("\x00data\x00", embed_json(data))
        assert out.getvalue() == one_piece
        assert "</script>\n<script>" in out.getvalue()
        assert ("a \\u003c b" in out.getvalue()) == (other in sites)
