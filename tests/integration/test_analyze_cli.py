"""`escape-lens analyze` end to end: the quick start, text and JSON output, determinism."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.cli import main
from escape_lens.reporters.text import TextReporter
from escape_lens.reporters.text_layout import visible_width
from tests.conftest import FIXTURES, REPO
from tests.integration.analyze_support import CONSTRUCTS

pytestmark = pytest.mark.slow

QUICKSTART = str(FIXTURES / "quickstart" / "main.go")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_quickstart_shows_small_struct(capsys: pytest.CaptureFixture[str], pinned_go: Path) -> None:
    code, out, err = _run(capsys, QUICKSTART, "--go", str(pinned_go), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["schema"] == "escape-lens/1"
    assert report["toolchain"]["version"] == "go1.27.3"
    [site] = [s for s in report["sites"] if s["expr"] == "&smallStruct{}"]
    assert (site["line"], site["column"]) == (14, 9)
    assert site["function"] == "newSmallStruct"
    assert site["construct"] == "composite-literal"
    assert site["size"] == 32
    assert site["pointers"] is False
    assert site["entry"] == "mallocgcSmallNoScanSC4"
    assert site["prediction"]["requested_bytes"] == 32
    assert site["prediction"]["class_bytes"] == 32
    assert site["prediction"]["size_class"] == 4
    assert site["prediction"]["span_class"] == 9
    assert site["escape"]["flow"], "the flow chain is kept"

    code, text, _ = _run(capsys, QUICKSTART, "--go", str(pinned_go))
    assert code == 0
    [line] = [line for line in text.splitlines() if "&smallStruct{}" in line]
    assert line.split()[0] == "14:9"
    assert "32→32 B" in line
    assert "class 4, span 9" in line
    assert "\033[" not in text  # captured output is not a terminal: no colour


FIX_FIRST = "what to fix first (bytes a hint recovers per execution; cold paths last):"


def test_text_fits_80_columns_and_verbose_adds_flows(
    capsys: pytest.CaptureFixture[str], pinned_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CONSTRUCTS)
    monkeypatch.delenv("COLUMNS", raising=False)  # not a terminal: 80 columns
    code, text, _ = _run(capsys, "./...", "--go", str(pinned_go))
    assert code == 0
    lines = text.splitlines()
    assert max(visible_width(line) for line in lines) <= 80
    [summary] = [line for line in lines if re.match(r"\d+ sites by path: ", line)]
    # (the site lines are above the summary; what to fix first follows it)
    site_lines = [line for line in lines[: lines.index(summary)] if line.startswith("    ")]
    assert any(re.search(r" 8→16 B +tiny ", line) for line in site_lines)
    assert any(re.search(r" n×8 B +tiny ≤1, small ≤4095 ", line) for line in site_lines)  # noqa: RUF001
    assert not [line for line in site_lines if "no allocation" in line]  # hidden without --all
    assert summary.startswith(f"{len(site_lines)} sites by path: ")
    [hidden] = [
        line
        for line in lines
        if line.endswith("without an allocation not shown (--all shows them)")
    ]
    without = int(hidden.split()[0])
    assert FIX_FIRST in lines
    assert without > 0
    code, every_text, _ = _run(capsys, "./...", "--go", str(pinned_go), "--all")
    assert code == 0
    every = every_text.splitlines()
    every = every[: every.index(FIX_FIRST)]  # the sites and the totals
    quiet = [line for line in every if line.startswith("    ") and "no allocation" in line]
    assert len(quiet) == without
    # the same sites (columns and shortened reasons may move): position, construct, bytes
    shown = [line.split()[:3] for line in every if line.startswith("    ") and line not in quiet]
    assert shown == [line.split()[:3] for line in site_lines]
    assert f"  {without} escape lines without an allocation" in every
    assert not any("--all shows them" in line for line in every)
    code, verbose_text, verbose_err = _run(capsys, "./...", "--go", str(pinned_go), "-v")
    assert code == 0
    assert len(verbose_text.splitlines()) > len(lines)
    assert "flow:" in verbose_text or "from " in verbose_text
    assert " list -e -export " in verbose_err  # the go command line
    # An allocation inlined from another function is marked without -v, the mark explained.
    [inlined] = [line for line in site_lines if "literal↳" in line]
    assert "&chunk{...}" in inlined
    assert "  ↳ = inlined from another function (1 site; -v names the callee)" in lines
    assert "inlined from " in verbose_text


def test_columns_stay_aligned_with_five_digit_lines(
    capsys: pytest.CaptureFixture[str], pinned_go: Path, tmp_path: Path
) -> None:
    """Short positions above, `10043:11` below: every line's columns start where the
    others' do (positions, constructs, the arrows, the path)."""
    body = [f"func F{i}() {{ Sink = &[{i + 1}]int64{{}} }}" for i in range(12)]
    padding = [""] * (10040 - 4 - len(body))
    wide = ["func Wide() {", "\tSink = &[3]int32{}", "\tx := make([]byte, 100); Sink = &x", "}"]
    source = ["package wide", "", "var Sink any", "", *body, *padding, *wide]
    (tmp_path / "wide.go").write_text("\n".join(source) + "\n")
    (tmp_path / "go.mod").write_text("module example.com/wide\n\ngo 1.21\n")
    code, text, _ = _run(capsys, str(tmp_path), "--go", str(pinned_go))
    assert code == 0
    site_lines = [line for line in text.splitlines() if line.startswith("    ")]
    assert any(line.startswith("    10043:11 ") for line in site_lines)
    assert len(site_lines) == 15
    constructs = {re.search(r"\d  +(\S)", line).start(1) for line in site_lines}  # type: ignore[union-attr]
    arrows = {line.index("→") for line in site_lines}
    paths = {re.search(r"B(?: \+\d+)?  +(\S)", line).start(1) for line in site_lines}  # type: ignore[union-attr]
    assert (len(constructs), len(arrows), len(paths)) == (1, 1, 1), text


def test_json_is_deterministic_fresh_and_cached(tmp_path: Path, pinned_go: Path) -> None:
    """Two runs give identical bytes, whether the go build cache replays or compiles."""
    env = dict(os.environ, GOCACHE=str(tmp_path / "gocache"), PYTHONPATH=str(REPO))
    outputs = []
    for _ in range(2):  # first run compiles afresh (empty cache), second replays the cache
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "escape_lens",
                "analyze",
                "./...",
                "--go",
                str(pinned_go),
                "--format",
                "json",
            ],
            cwd=CONSTRUCTS,
            env=env,
            capture_output=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["sites"]


def test_output_file_written_and_nothing_else(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pinned_go: Path
) -> None:
    target = tmp_path / "report.json"
    code, out, _ = _run(
        capsys, QUICKSTART, "--go", str(pinned_go), "--format", "json", "-o", str(target)
    )
    assert code == 0
    assert out == ""
    assert json.loads(target.read_text())["sites"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_tests_flag_includes_test_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pinned_go: Path
) -> None:
    (tmp_path / "go.mod").write_text("module example.com/withtests\n\ngo 1.21\n")
    (tmp_path / "lib.go").write_text(
        "package lib\n\ntype T struct{ a, b int64 }\n\n//go:noinline\n"
        "func New() *T { return &T{} }\n"
    )
    (tmp_path / "lib_test.go").write_text(
        'package lib\n\nimport "testing"\n\nvar sink *[4]int64\n\n'
        "func TestNew(t *testing.T) {\n\tsink = new([4]int64)\n}\n"
    )
    plain = _json(capsys, str(tmp_path), "--go", str(pinned_go))
    with_tests = _json(capsys, str(tmp_path), "--go", str(pinned_go), "--tests")
    assert {s["file"] for s in plain["sites"]} == {"lib.go"}
    test_sites = [s for s in with_tests["sites"] if s["file"] == "lib_test.go"]
    assert [(s["line"], s["construct"], s["class_bytes"]) for s in test_sites] == [(8, "new", 32)]


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = _run(capsys, *args, "--format", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(
    pinned_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = analyze_targets([QUICKSTART], go=str(pinned_go))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "80")  # a terminal 80 columns wide, whatever runs the tests
    terminal = _Terminal()
    TextReporter().render(report, terminal)
    assert "\033[" in terminal.getvalue()
    assert all(visible_width(line) <= 80 for line in terminal.getvalue().splitlines())
    monkeypatch.setenv("NO_COLOR", "1")
    plain = _Terminal()
    TextReporter().render(report, plain)
    assert "\033[" not in plain.getvalue()
    assert re.sub(r"\033\[[0-9;]*m", "", terminal.getvalue()) == plain.getvalue()


def test_binary_mode_and_cross_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pinned_go: Path
) -> None:
    program = tmp_path / "quickstart"
    subprocess.run(
        [str(pinned_go), "build", "-o", str(program), QUICKSTART],
        cwd=tmp_path,
        env=dict(os.environ, GOTOOLCHAIN="local"),
        check=True,
        timeout=300,
    )
    report = _json(capsys, "--binary", str(program))
    assert report["origin"] == "binary"
    [site] = [s for s in report["sites"] if s["function"] == "newSmallStruct"]
    assert site["line"] == 14
    assert site["entry"] == "mallocgcSmallNoScanSC4"
    assert site["prediction"]["size_class"] == 4
    assert site["origin"] == "binary"

    code, out, err = _run(capsys, QUICKSTART, "--go", str(pinned_go), "--cross-check")
    assert code == 0, out + err
    assert "agree" in err


@pytest.mark.parametrize(
    "target", ["fixtures/constructs/newlit", "./fixtures/constructs/newlit/...", "./newlit"]
)
def test_directory_of_another_module(
    capsys: pytest.CaptureFixture[str],
    pinned_go: Path,
    monkeypatch: pytest.MonkeyPatch,
    target: str,
) -> None:
    """A path into a module other than the cwd's is analysed as if run in that module."""
    monkeypatch.chdir(CONSTRUCTS if target == "./newlit" else REPO)
    report = _json(capsys, target, "--go", str(pinned_go))
    assert report["packages"] == ["example.com/constructs/newlit"]
    assert report["root"] == str(CONSTRUCTS)
    assert {s["file"] for s in report["sites"]} == {"newlit/newlit.go"}


def test_same_sites_from_another_directory_on_a_cache_hit(tmp_path: Path, pinned_go: Path) -> None:
    env = dict(os.environ, GOCACHE=str(tmp_path / "gocache"), PYTHONPATH=str(REPO))
    sites = []
    for cwd, target in ((CONSTRUCTS, "./newlit"), (CONSTRUCTS / "newlit", ".")):
        result = subprocess.run(
            [sys.executable, "-m", "escape_lens", "analyze", target, "--go", str(pinned_go),
             "--format", "json"],
            cwd=cwd, env=env, capture_output=True, timeout=600, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        sites.append([(s["file"], s["line"], s["column"], s["allocates"]) for s in report["sites"]])
    assert sites[0] == sites[1]
    assert all(allocates for *_, allocates in sites[1])


def test_reasons_keep_their_words_beside_wide_columns(
    capsys: pytest.CaptureFixture[str], pinned_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compress/flate's large objects (`524320→532480 B +8160  large, 65 pages`) leave
    little room at 80 columns: the reason keeps words, the expression gives way."""
    monkeypatch.delenv("COLUMNS", raising=False)
    code, text, _ = _run(capsys, "compress/flate", "--go", str(pinned_go))
    assert code == 0
    site_lines = [line for line in text.splitlines() if line.startswith("    ")]
    assert any("large, 65 pages" in line for line in site_lines)
    cut_to_a_letter = [line for line in site_lines if re.search(r"  \S{1,3}…$", line)]
    assert cut_to_a_letter == []
