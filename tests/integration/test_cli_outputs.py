"""Output plumbing shared by the commands: -o files, the extra formats, notes on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from escape_lens.cli import main
from escape_lens.cli.analyze import _print_model_note
from escape_lens.records import GoToolchain, GoVersion, Report
from tests.conftest import FIXTURES

QUICKSTART = str(FIXTURES / "quickstart" / "main.go")


@pytest.fixture(scope="module")
def quickstart_json(tmp_path_factory: pytest.TempPathFactory, pinned_go: Path) -> Path:
    out = tmp_path_factory.mktemp("reports") / "old.json"
    assert (
        main(["analyze", QUICKSTART, "--go", str(pinned_go), "--format", "json", "-o", str(out)])
        == 0
    )
    return out


def test_analyze_github_format_annotates_each_site(
    pinned_go: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", QUICKSTART, "--go", str(pinned_go), "--format", "github"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith("::notice file=fixtures/quickstart/main.go,line=14,col=9,")
        and "&smallStruct{}" in line
        for line in lines
    ), lines


def test_unwritable_output_is_one_line_and_exit_2(
    pinned_go: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing-dir" / "report.txt"
    assert main(["analyze", QUICKSTART, "--go", str(pinned_go), "-o", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("escape-lens: error: cannot write ")
    assert not target.exists()


def test_diff_writes_html_and_reports_growth(
    quickstart_json: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(quickstart_json.read_text())
    for site in data["sites"]:
        if site["expr"] == "&smallStruct{}":
            site["prediction"]["class_bytes"] = 48
            site["prediction"]["size_class"] = 5
    grown = tmp_path / "new.json"
    grown.write_text(json.dumps(data))
    page = tmp_path / "diff.html"
    assert (
        main(["diff", str(quickstart_json), str(grown), "--format", "html", "-o", str(page)]) == 1
    )
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert "smallStruct" in html
    assert capsys.readouterr().out == ""  # everything went to the file


def test_diff_of_a_report_with_itself_passes(
    quickstart_json: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", str(quickstart_json), str(quickstart_json)]) == 0
    assert "0 new" in capsys.readouterr().out


def test_a_newer_go_than_the_model_knows_is_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    toolchain = GoToolchain("/usr/bin/go", GoVersion(1, 99, 0), "linux", "amd64")
    _print_model_note(Report("0.1.0", toolchain, (), ()))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("escape-lens: note: ")
    assert "1.99" in err[0]
