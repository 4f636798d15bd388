"""The type-size helper built early (while go compiles the targets) or started early
(`go run` waiting for its request while the output is parsed) sizes what the one started
on demand sizes, and a build that fails says so when the helper is needed."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from escape_lens.cli import main
from escape_lens.errors import ToolchainError
from escape_lens.parsers.gobuild import BuildParser
from escape_lens.records import GoToolchain, GoVersion
from escape_lens.toolchain import typesizes
from escape_lens.toolchain.typesizes import (
    EarlyHelper,
    WaitingHelper,
    _std_exports,
    links_each_run,
    type_sizes,
    waiting_helper,
)
from tests.integration.build_helpers import MATRIX, toolchain, write_two_packages

pytestmark = pytest.mark.slow

NAMES = ["bytes.Buffer", "sync.Mutex", "map[string]bytes.Buffer", "[3]*strings.Builder"]


def test_the_early_helper_sizes_what_the_helper_built_on_demand_does(
    tmp_path: Path, pinned_toolchain: GoToolchain
) -> None:
    exports = _std_exports(pinned_toolchain, ["bytes", "strings", "sync"], str(tmp_path))
    on_demand = type_sizes(pinned_toolchain, NAMES, exports)
    assert on_demand["bytes.Buffer"].size == 40
    with EarlyHelper(pinned_toolchain, str(tmp_path)) as early:
        assert type_sizes(pinned_toolchain, NAMES, exports, early=early) == on_demand
        assert early.binary() == tmp_path / "typesizes"


def _failing_go(tmp_path: Path) -> GoToolchain:
    """A go whose every command fails as a full disk makes the link fail."""
    fake = tmp_path / "go"
    fake.write_text("#!/bin/sh\necho 'cannot link: no space left' >&2\nexit 1\n")
    fake.chmod(0o755)
    return GoToolchain(str(fake), GoVersion(1, 27, 3), "linux", "amd64", (), str(tmp_path))


def test_an_early_helper_that_fails_to_build_fails_when_it_is_needed(tmp_path: Path) -> None:
    toolchain = _failing_go(tmp_path)
    with (
        EarlyHelper(toolchain, str(tmp_path)) as early,
        pytest.raises(ToolchainError, match="no space left"),
    ):
        early.binary()


@pytest.mark.parametrize("version", MATRIX)
def test_the_helper_is_linked_each_run_only_by_toolchains_that_cache_no_run_executable(
    tmp_path: Path, pinned_toolchain: GoToolchain, version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """go1.24 and later run the helper with `go run`, whose executable the go build cache
    keeps (a `*-d/typesizes` entry); go1.21 links it into the run's temporary directory.
    Both size the same."""
    chosen = toolchain(version, pinned_toolchain)
    exports = _std_exports(chosen, ["bytes", "strings", "sync"], str(tmp_path))
    gocache = Path(
        subprocess.run(
            [chosen.path, "env", "GOCACHE"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    linked: list[Path] = []
    link = typesizes.build_helper

    def build_helper(toolchain: GoToolchain, directory: str) -> Path:
        linked.append(link(toolchain, directory))
        return linked[-1]

    monkeypatch.setattr(typesizes, "build_helper", build_helper)
    sizes = type_sizes(chosen, NAMES, exports)
    assert bool(linked) == links_each_run(chosen)
    assert sizes["bytes.Buffer"].size == 40
    assert sizes["map[string]bytes.Buffer"].size == 8
    kept = [entry for entry in gocache.glob("??/*-d/typesizes") if _same_source(chosen, entry)]
    assert links_each_run(chosen) == (chosen.version < GoVersion(1, 24))
    if links_each_run(chosen):
        with EarlyHelper(chosen, str(tmp_path)) as early:
            assert type_sizes(chosen, NAMES, exports, early=early) == sizes
    else:
        assert kept, f"no cached typesizes executable under {gocache}"


def _same_source(chosen: GoToolchain, executable: Path) -> bool:
    """The cached executable was linked by `chosen` (its build info names the toolchain)."""
    info = subprocess.run(
        [chosen.path, "version", str(executable)], capture_output=True, text=True, check=False
    )
    return info.returncode == 0 and f"{chosen.version.major}.{chosen.version.minor}" in info.stdout


def test_a_waiting_helper_sizes_what_the_helper_started_on_demand_does(
    tmp_path: Path, pinned_toolchain: GoToolchain
) -> None:
    exports = _std_exports(pinned_toolchain, ["bytes", "strings", "sync"], str(tmp_path))
    on_demand = type_sizes(pinned_toolchain, NAMES, exports)
    with waiting_helper(pinned_toolchain) as waiting:
        time.sleep(0.2)  # (asked once go run has settled, as after a parse)
        assert waiting.waiting
        assert type_sizes(pinned_toolchain, NAMES, exports, early=waiting) == on_demand
        assert not waiting.waiting
        # asked once: a second question runs the helper anew
        assert type_sizes(pinned_toolchain, NAMES[:1], exports, early=waiting) == {
            NAMES[0]: on_demand[NAMES[0]]
        }


def test_a_waiting_helper_that_fails_fails_when_it_is_asked(tmp_path: Path) -> None:
    toolchain = _failing_go(tmp_path)
    with (
        waiting_helper(toolchain) as waiting,
        pytest.raises(ToolchainError, match="no space left"),
    ):
        waiting.ask(b"{}\n")


def test_a_waiting_helper_answers_while_a_forked_process_holds_its_stdin(
    tmp_path: Path, pinned_toolchain: GoToolchain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parsing processes (toolchain/parallel.py) are forked after the helper started
    and keep a copy of its stdin's write end, so its end of input never comes: the
    newline ends the request."""
    monkeypatch.setenv("ESCAPE_LENS_GO_TIMEOUT", "60")  # a hang fails instead of waiting
    exports = _std_exports(pinned_toolchain, ["bytes"], str(tmp_path))
    with waiting_helper(pinned_toolchain) as waiting:
        holder = multiprocessing.get_context("fork").Process(target=time.sleep, args=(120,))
        holder.start()
        try:
            started = time.monotonic()
            sizes = type_sizes(pinned_toolchain, ["bytes.Buffer"], exports, early=waiting)
            assert time.monotonic() - started < 30
        finally:
            holder.kill()
            holder.join()
    assert sizes["bytes.Buffer"].size == 40


def test_a_waiting_helper_never_asked_is_stopped_and_leaves_nothing(
    tmp_path: Path, pinned_toolchain: GoToolchain, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    monkeypatch.delenv("GOTMPDIR", raising=False)
    with waiting_helper(pinned_toolchain) as waiting:
        process = waiting.process
        assert process.returncode is None
        assert len(list(scratch.iterdir())) == 2  # its working directory and go's $WORK
    assert process.returncode is not None
    assert all(pipe.closed for pipe in (process.stdin, process.stdout, process.stderr) if pipe)
    assert list(scratch.iterdir()) == []
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # nothing of its group is left


def test_a_cold_build_starts_the_helper_before_it_parses(
    tmp_path: Path, pinned_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """go1.24+: the `go run` of the helper is started as the parsing starts (its lookup
    in the go build cache then runs beside it), and the sizes a package needs from
    another package come from it."""
    events: list[str] = []
    start, feed, ask = WaitingHelper.__init__, BuildParser.feed_all, WaitingHelper.ask

    def started(self: WaitingHelper, *args: Any) -> None:
        events.append("started")
        start(self, *args)  # (the process has started: `waiting_helper` made it)

    def fed(self: BuildParser, *args: Any) -> None:
        events.append("parsed")
        feed(self, *args)

    def asked(self: WaitingHelper, request: bytes) -> list[str]:
        events.append("asked")
        return ask(self, request)

    monkeypatch.setattr(WaitingHelper, "__init__", started)
    monkeypatch.setattr(BuildParser, "feed_all", fed)
    monkeypatch.setattr(WaitingHelper, "ask", asked)
    monkeypatch.setenv("ESCAPE_LENS_RESULT_CACHE", "off")
    monkeypatch.chdir(write_two_packages(tmp_path))
    out = tmp_path / "report.json"
    assert main(["analyze", "./b", "--go", str(pinned_go), "--format", "json", "-o", str(out)]) == 0
    assert events[0] == "started", events
    assert "parsed" in events, events
    assert events.count("asked") == 1, events
    assert events.index("asked") > events.index("parsed"), events
    sites = json.loads(out.read_text())["sites"]
    sized = {site["type"]: site["size"] for site in sites}
    assert sized["example.com/m/a.T"] == 24  # a's type, in b's report: sized by the helper
