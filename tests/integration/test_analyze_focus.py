"""`analyze --function/--file/--path/--min-bytes/--sort/--top` on a real build of net/http."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.cli import main
from escape_lens.focus import Focus, apply_focus
from escape_lens.gate.config import FunctionPattern
from escape_lens.model.explain import site_path
from escape_lens.records import Report, Site
from escape_lens.reporters.totals import summarize
from escape_lens.vocab import SitePath

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
    large = apply_focus(http_report, Focus(paths=(SitePath.LARGE,)))
    expected = [
        s
        for s in _allocating(http_report)
        if s.prediction is not None and s.prediction.path == SitePath.LARGE
    ]
    assert list(large.report.sites) == expected
    assert large.shown == len(expected) >= 2  # 32 KiB in init.func2, 64 KiB in serve.func1
    two = apply_focus(http_report, Focus(paths=(SitePath.TINY, SitePath.LARGE)))
    assert len(two.report.sites) > len(expected)
    assert {s.prediction.path for s in two.report.sites if s.prediction} == {"tiny", "large"}
    # Every word a report counts sites under selects them, those without a prediction too.
    for word in (SitePath.POOLED, SitePath.DYNAMIC):
        chosen = apply_focus(http_report, Focus(paths=(word,))).report.sites
        assert chosen
        assert len(chosen) == summarize(list(http_report.sites))["by_path"][word.value]
        assert {site_path(s) for s in chosen} == {word}
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


def test_all_hides_and_counts_escape_lines_without_an_allocation(http_report: Report) -> None:
    quiet = [s for s in http_report.sites if not s.allocates]
    assert len(quiet) > 100  # net/http: some 175 escape lines allocate nothing
    hidden = apply_focus(http_report, Focus(quiet_lines=False))
    assert hidden.report.sites == tuple(s for s in http_report.sites if s.allocates)
    assert hidden.report.packages == http_report.packages
    assert hidden.hidden_quiet_lines == len(quiet)
    assert hidden.shown == hidden.total == len(_allocating(http_report))
    focus = Focus(quiet_lines=False)
    assert hidden.summary(focus) == (
        f"{len(quiet)} escape lines without an allocation not shown (--all shows them)"
    )
    # with another filter, only the hidden lines that filter kept are counted
    server = apply_focus(http_report, Focus(file="server.go", quiet_lines=False))
    in_server = [s for s in quiet if s.pos.file == "net/http/server.go"]
    assert 0 < server.hidden_quiet_lines == len(in_server) < len(quiet)
    assert apply_focus(http_report, Focus(quiet_lines=True)).report is http_report


def test_cli_json_keeps_what_text_hides(
    capsys: pytest.CaptureFixture[str], pinned_go: Path
) -> None:
    assert main(["analyze", "net/http", "--go", str(pinned_go), "--format", "json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    quiet = [s for s in data["sites"] if not s["allocates"]]
    assert len(quiet) == data["summary"]["non_allocating"] > 100
    assert all(s["note"] for s in quiet)  # with the reason nothing is allocated
    assert "--all" not in captured.err
    assert main(["analyze", "net/http", "--go", str(pinned_go)]) == 0
    text = capsys.readouterr().out.splitlines()
    # the last line of the totals, above what to fix first
    fix_first = text.index(
        "what to fix first (bytes a hint recovers per execution; cold paths last):"
    )
    assert text[fix_first - 2 : fix_first] == [
        f"{len(quiet)} escape lines without an allocation not shown (--all shows them)",
        "",
    ]
    assert not any("no allocation" in line for line in text)


def test_totals_say_what_they_add_up(capsys: pytest.CaptureFixture[str], pinned_go: Path) -> None:
    assert main(["analyze", "net/http", "--go", str(pinned_go), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    by_path = summary["by_path"]
    # every allocating site is of constant size, of variable size, or without a size
    unsized = by_path.get("pooled", 0) + by_path.get("unknown", 0)
    assert (
        summary["constant_size_sites"] + summary["variable_size_sites"] + unsized
        == summary["sites"]
    )
    assert by_path["pooled"] > 0  # goroutines and defers: no longer counted as unknown
    assert summary["variable_size_sites"] >= by_path["dynamic"] > 100
    assert 0 < summary["constant_size_bytes"] <= summary["class_bytes"]
    assert main(["analyze", "net/http", "--go", str(pinned_go)]) == 0
    text = capsys.readouterr().out
    assert (
        f"  constant size: {summary['constant_size_sites']} sites, "
        f"{summary['constant_size_bytes']} B once each (not per run), "
        f"{summary['constant_size_waste_bytes']} B waste"
    ) in text
    variable = summary["variable_size_sites"]
    assert (
        f"  variable size: {variable} sites (a length known at run time; bytes not counted)" in text
    )
    assert "per execution of all sites" not in text
