"""Signals, interrupts and a hung go: escape-lens stops go's whole process tree, removes
its temporary files, says so in one line and exits 128 + the signal (issue 13).

The build runs with an empty GOCACHE, so go is really compiling (its `compile` children
running) when the signal arrives; the sandbox's marker finds every process it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from escape_lens.errors import Interrupted, ToolchainError
from escape_lens.toolchain.process import run, stop_group
from tests.integration.hostile_support import (
    Outcome,
    Sandbox,
    processes_with,
    wait_for,
)

pytestmark = pytest.mark.slow


def _compiling(sandbox: Sandbox) -> bool:
    return any("/compile " in command for command in sandbox.survivors())


@pytest.mark.parametrize(
    ("signum", "how"),
    [
        (signal.SIGTERM, "kill"),  # timeout(1), docker stop, CI cancellation
        (signal.SIGHUP, "kill"),  # the terminal went away
        (signal.SIGINT, "terminal"),  # ^C: the terminal signals the foreground group
    ],
)
def test_a_signal_stops_the_build_and_leaves_nothing(
    sandbox: Sandbox, signum: int, how: str
) -> None:
    env = {"GOCACHE": str(sandbox.root / "gocache"), "ESCAPE_LENS_RESULT_CACHE": "off"}
    process = sandbox.start("analyze", "./codec", env=env)
    try:
        wait_for(lambda: _compiling(sandbox), 300, "go to start compiling")
        assert any(name.startswith("escape-lens-") for name in sandbox.leftovers())
        if how == "terminal":
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    name = signal.Signals(signum).name
    outcome = Outcome(process.returncode, out, err.decode())
    outcome.assert_error(128 + signum, f"escape-lens: interrupted ({name})")
    assert out == b""
    sandbox.assert_clean()


def test_a_hung_go_times_out_and_its_group_is_killed(sandbox: Sandbox) -> None:
    """A FIFO named like a source file makes go list wait forever for a writer."""
    os.mkfifo(sandbox.module / "codec" / "hang.go")
    outcome = sandbox.run("analyze", "./codec", env={"ESCAPE_LENS_GO_TIMEOUT": "3"}, timeout=120)
    outcome.assert_error(2, "go list -e ... did not finish within 3 s")
    sandbox.assert_clean()


def test_a_bad_timeout_setting_is_one_line(sandbox: Sandbox) -> None:
    outcome = sandbox.run("analyze", "./codec", env={"ESCAPE_LENS_GO_TIMEOUT": "soon"})
    outcome.assert_error(2, "ESCAPE_LENS_GO_TIMEOUT='soon': expected a positive number")
    sandbox.assert_clean()


# The process layer itself, with real processes standing in for go and its compiles:
# a parent that records SIGINT, and a child in its group that ignores SIGINT.
_GROUP = """
import os, signal, subprocess, sys, time
marker = sys.argv[1]
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(600)"])
def interrupted(signum, frame):
    open(marker, "w").write("SIGINT")
    time.sleep(600)  # a go that does not stop in time
signal.signal(signal.SIGINT, interrupted)
print("ready", flush=True)
time.sleep(600)
"""


def _group_members(needle: str) -> list[str]:
    return processes_with(needle)


def test_stopping_asks_the_group_first_then_kills_it(tmp_path: Path) -> None:
    marker = tmp_path / "got-sigint"
    tag = f"ESCAPE_LENS_TEST_MARKER=stop-{os.getpid()}-{tmp_path.name}"
    env = dict(os.environ, ESCAPE_LENS_TEST_MARKER=tag.split("=", 1)[1])
    process = subprocess.Popen(
        [sys.executable, "-c", _GROUP, str(marker)],
        stdout=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    wait_for(lambda: len(_group_members(tag)) == 2, 30, "the child")
    stop_group(process, grace=0.5)
    process.stdout.close()
    assert marker.read_text() == "SIGINT"  # asked first
    assert process.returncode == -signal.SIGKILL  # killed after the grace
    wait_for(lambda: _group_members(tag) == [], 5, "the group to go")


def test_run_stops_the_group_on_timeout_and_on_interrupt(tmp_path: Path) -> None:
    tag = f"stop-{os.getpid()}-{tmp_path.name}"
    script = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
        "time.sleep(600)"
    )
    os.environ["ESCAPE_LENS_TEST_MARKER"] = tag
    try:
        with pytest.raises(ToolchainError, match=r"did not finish within 1 s"):
            run([sys.executable, "-c", script], timeout=1)
        wait_for(lambda: processes_with(f"ESCAPE_LENS_TEST_MARKER={tag}") == [], 5, "none")

        def interrupt(signum: int, frame: object) -> None:
            raise Interrupted(signum)

        previous = signal.signal(signal.SIGALRM, interrupt)
        try:
            signal.alarm(1)
            with pytest.raises(Interrupted):
                run([sys.executable, "-c", script], timeout=60)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        wait_for(lambda: processes_with(f"ESCAPE_LENS_TEST_MARKER={tag}") == [], 5, "none")
    finally:
        del os.environ["ESCAPE_LENS_TEST_MARKER"]
