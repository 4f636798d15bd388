"""The escape-lens/1 schema reads back what it writes, and rejects what it did not write."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

from escape_lens.errors import ReportFormatError
from escape_lens.parsers.escape import flow_step
from escape_lens.records import (
    AllocCall,
    EscapeDiagnostic,
    GoToolchain,
    GoVersion,
    Note,
    Prediction,
    Report,
    Site,
    SkippedPackage,
    SourcePos,
    TypeInfo,
)
from escape_lens.reporters.json_report import (
    SCHEMA,
    dumps,
    load_report,
    report_from_dict,
    report_to_dict,
    write_report,
)
from escape_lens.vocab import NoteCode


def _report() -> Report:
    pos = SourcePos("main.go", 14, 9)
    small = TypeInfo("main.smallStruct", 32, 0)
    site = Site(
        pos=pos,
        package="main",
        function="main.newSmallStruct",
        construct="composite-literal",
        type=small,
        count=None,
        diagnostic=EscapeDiagnostic(
            pos,
            "escapes",
            "&smallStruct{}",
            "&smallStruct{} escapes to heap",
            (flow_step(SourcePos("main.go", 14, 2), "flow: ~r0 = &{storage for &smallStruct{}}"),),
            "main.newSmallStruct",
        ),
        call=AllocCall(SourcePos("main.go", 14), "main.newSmallStruct", "newobject", small),
        prediction=Prediction("small", 4, 32, 0, 9, 1, 252, 0, 32),
        expr="&smallStruct{}",
        fingerprint="0123456789abcdef",
    )
    toolchain = GoToolchain("/usr/bin/go", GoVersion(1, 27, 3), "linux", "amd64", ())
    return Report("0.1.0", toolchain, ("main",), (site,), (SkippedPackage("bad", "x.go:1: oops"),))


def test_round_trip_keeps_every_site_field() -> None:
    report = _report()
    back = report_from_dict(json.loads(dumps(report_to_dict(report))))
    assert back.sites == report.sites
    assert back.skipped == report.skipped
    assert back.toolchain.version == report.toolchain.version


def test_output_carries_schema_and_summary() -> None:
    data = report_to_dict(_report())
    assert data["schema"] == SCHEMA
    assert data["toolchain"]["version"] == "go1.27.3"
    assert data["summary"]["sites"] == 1
    assert data["summary"]["class_bytes"] == 32
    site = data["sites"][0]
    assert (site["file"], site["line"], site["column"]) == ("main.go", 14, 9)
    assert site["prediction"]["span_class"] == 9


def test_same_report_same_bytes() -> None:
    assert dumps(report_to_dict(_report())) == dumps(report_to_dict(_report()))


@pytest.mark.parametrize(
    "text", ["{}", '{"schema": "other/1"}', '{"schema": "escape-lens/1"}', "[1, 2]", "not json"]
)
def test_foreign_input_is_one_clear_error(text: str) -> None:
    with pytest.raises(ReportFormatError, match=r"^in\.json: "):
        load_report(io.StringIO(text), "in.json")


def test_the_streamed_report_is_the_one_piece_dump_byte_for_byte() -> None:
    one = _report()
    (site,) = one.sites
    other = replace(
        site,
        pos=SourcePos("main.go", 20, 1),
        expr='"\\n"+s',
        notes=(Note(NoteCode.UNCODED, "a\nb"),),
    )
    for report in (
        one,
        replace(one, sites=(site, other, site)),
        replace(one, sites=()),
        replace(one, skipped=()),
        replace(one, sites=(), skipped=()),
    ):
        out = io.StringIO()
        write_report(report, out)
        assert out.getvalue() == dumps(report_to_dict(report))
        # the bytes of the writer before it was fast: the standard library's indented dump
        standard = json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
        assert out.getvalue() == standard
