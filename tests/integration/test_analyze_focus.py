"""`analyze --function/--file/--path/--min-bytes/--sort/--top` on a real build of net/http."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.cli import main
from escape_lens.focus import Focus, apply_focus
from escape_lens.gate.config import FunctionPattern
from escape_lens.records import Report, Site
from escape_lens.vocab import AllocPath

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def http_report(pinned_go: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    cwd = tmp_path_factory.mktemp("http")
    return analyze_targets(["net/http"], go=str(pinned_go), cwd=str(cwd))


def _allocating(report: Report) -> list[Site]:
    return [site for site in report.sites if site.allocates]


def test_no_focus_leaves_the_report_alone(http_report: Report) -> None:
    focused = apply_focus(http_report, Focus())
    assert focused.report is http_report
    assert focused.shown == focused.total == len(_allocating(http_report)) > 500


def test_function_pattern_takes_closures_and_full_names(http_report: Report) -> None:
    short = apply_focus(http_report, Focus(function=FunctionPattern.parse("(*conn).serve")))
    full = apply_focus(http_report, Focus(function=FunctionPattern.parse("net/http.(*conn).serve")))
    assert short.report.sites == full.report.sites
    functions = {site.function for site in short.report.sites}
    assert "(*conn).serve" in functions
    assert "(*conn).serve.func1" in functions  # the 64 KiB runtime.Stack buffer
    assert all(f.startswith("(*conn).serve") for f in functions)
    assert short.report.packages == ("net/http",)
    none = apply_focus(http_report, Focus(function=FunctionPattern.parse("NoSuchFunction")))
    assert none.report.sites == ()
    assert none.report.packages == ()


def test_file_glob_matches_the_path_or_the_base_name(http_report: Report) -> None:
    by_base = apply_focus(http_report, Focus(file="server.go")).report.sites
    by_path = apply_focus(http_report, Focus(file="net/http/server.go")).report.sites
    by_star = apply_focus(http_report, Focus(file="*/server.go")).report.sites
    expected = [s for s in http_report.sites if s.pos.file == "net/http/server.go"]
    assert list(by_base) == expected
    assert by_base
    assert by_path == by_star == by_base
    routing = apply_focus(http_report, Focus(file="routing_*.go")).report.sites
    assert routing
    assert {s.pos.file for s in routing} <= {
        "net/http/routing_index.go",
        "net/http/routing_tree.go",
    }


def test_path_and_min_bytes_select_allocating_sites(http_report: Report) -> None:
    large = apply_focus(http_report, Focus(paths=(AllocPath.LARGE,)))
    expected = [
        s
        for s in _allocating(http_report)
        if s.prediction is not None and s.prediction.path == AllocPath.LARGE
    ]
    assert list(large.report.sites) == expected
    assert large.shown == len(expected) >= 2  # 32 KiB in init.func2, 64 KiB in serve.func1
    two = apply_focus(http_report, Focus(paths=(AllocPath.TINY, AllocPath.LARGE)))
    assert len(two.report.sites) > len(expected)
    assert {s.prediction.path for s in two.report.sites if s.prediction} == {"tiny", "large"}
    big = apply_focus(http_report, Focus(min_bytes=1024)).report.sites
    assert big
    assert all(s.allocates and s.class_bytes >= 1024 for s in big)
    assert len(big) == sum(1 for s in _allocating(http_report) if s.class_bytes >= 1024)


@pytest.mark.parametrize("order", ["bytes", "waste"])
def test_sort_and_top(http_report: Report, order: str) -> None:
    focused = apply_focus(http_report, Focus(sort=order, top=10))
    measure = {"bytes": lambda s: s.class_bytes, "waste": lambda s: s.waste_bytes}[order]
    figures = [measure(s) for s in focused.report.sites]
    assert len(figures) == 10
    assert figures == sorted(figures, reverse=True)
    everything = sorted((measure(s) for s in _allocating(http_report)), reverse=True)
    assert figures == everything[:10]
    assert figures[0] > figures[-1]
    # Ties keep source order: the same input gives the same sites.
    assert apply_focus(http_report, Focus(sort=order, top=10)).report == focused.report


def test_cli_text_says_what_was_filtered_and_json_follows_the_order(
    capsys: pytest.CaptureFixture[str], pinned_go: Path
) -> None:
    args = ["analyze", "net/http", "--go", str(pinned_go), "--sort", "bytes", "--top", "3"]
    assert main(args) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[-1].startswith("focus: 3 of ")
    assert text[-1].endswith("allocating sites shown (--sort bytes --top 3)")
    assert "3 sites" in "\n".join(text)
    assert main([*args, "--format", "json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    figures = [s["class_bytes"] for s in data["sites"]]
    assert figures == sorted(figures, reverse=True)
    assert figures[0] == 65536  # (*conn).serve.func1's runtime.Stack buffer
    assert data["summary"]["sites"] == 3
    assert "focus: 3 of " in captured.err
    code = main(["analyze", "net/http", "--go", str(pinned_go), "--function", "(*conn"])
    assert code == 2
    assert "--function: invalid pattern '(*conn': unbalanced parentheses" in capsys.readouterr().err
