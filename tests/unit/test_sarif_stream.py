"""SARIF is written one result at a time, and is the one-piece log byte for byte."""

from __future__ import annotations

import io
import json
from dataclasses import replace

from escape_lens.findings import allocation_findings
from escape_lens.records import GoToolchain, GoVersion, Report
from escape_lens.reporters.json_text import dumps
from escape_lens.reporters.sarif import REPORTER, sarif_log
from tests.unit.test_codec import SITE


def test_the_streamed_log_is_the_one_piece_log() -> None:
    toolchain = GoToolchain("/go/bin/go", GoVersion(1, 27, 3), "linux", "amd64")
    other = replace(SITE, pos=replace(SITE.pos, line=99), fingerprint="g")
    quiet = replace(SITE, allocates=False)
    for sites in ((), (quiet,), (SITE,), (SITE, other, quiet, SITE)):
        report = Report("0.1.0", toolchain, ("example.com/m/a",), sites, root="/m")
        result = allocation_findings(report)
        out = io.StringIO()
        REPORTER.render_check(result, out)
        assert out.getvalue() == dumps(sarif_log(result))
        assert out.getvalue() == json.dumps(sarif_log(result), indent=2, ensure_ascii=False) + "\n"
        assert len(json.loads(out.getvalue())["runs"][0]["results"]) == len(result.findings)
