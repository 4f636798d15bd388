"""A large report rendered partly in a forked process (reporters/beside.py) is the serial
render, byte for byte: text, verbose text, JSON and HTML of a real build of several
packages, written into a buffered file as the CLI writes it, with the split forced on
(the real threshold is thousands of sites), with a child that fails, and off."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.records import Report
from escape_lens.reporters import beside, get_reporter
from escape_lens.reporters.text import TextReporter

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(pinned_go: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    directory = tmp_path_factory.mktemp("several")
    (directory / "go.mod").write_text("module example.com/several\n\ngo 1.21\n")
    targets = ["encoding/json", "fmt", "net/url", "strconv", "text/template"]
    return analyze_targets(targets, go=str(pinned_go), cwd=str(directory))


def _render(report: Report, name: str, path: Path, *, verbose: bool = False) -> bytes:
    reporter = TextReporter(verbose, 100) if name == "text" else get_reporter(name)
    with open(path, "w", encoding="utf-8") as out:  # buffered, as stdout is
        out.write("a line the parent wrote before\n")
        reporter.render(report, out)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "verbose"), [("text", False), ("text", True), ("json", False), ("html", False)]
)
def test_forked_render_is_the_serial_render(
    report: Report, name: str, verbose: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(report.packages) == 5
    assert len(report.sites) > 500
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1}, raising=False)
    monkeypatch.delenv("ESCAPE_LENS_JOBS", raising=False)
    serial = _render(report, name, tmp_path / "serial", verbose=verbose)

    started: list[beside.Beside[object]] = []
    real_init = beside.Beside.__init__

    def recording_init(self: beside.Beside[object], work: object) -> None:
        real_init(self, work)  # type: ignore[arg-type]
        started.append(self)

    monkeypatch.setattr(beside, "MIN_SITES", 1)
    monkeypatch.setattr(beside.Beside, "__init__", recording_init)
    assert _render(report, name, tmp_path / "forked", verbose=verbose) == serial
    assert len(started) == 1
    assert started[0].forked  # the child's part was the child's, not redone here

    # A child that fails halfway leaves its part to the parent: the same bytes again.
    parent = os.getpid()
    real_child = beside._child

    def failing_child(work: object, pipe: int) -> None:
        def fail() -> None:
            assert os.getpid() != parent
            raise RuntimeError("the child failed")

        real_child(fail, pipe)

    monkeypatch.setattr(beside, "_child", failing_child)
    assert _render(report, name, tmp_path / "fallback", verbose=verbose) == serial
    assert len(started) == 2
    assert not started[1].forked

    monkeypatch.setenv("ESCAPE_LENS_JOBS", "1")
    assert _render(report, name, tmp_path / "asked-serial", verbose=verbose) == serial
    assert len(started) == 2
