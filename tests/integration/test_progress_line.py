"""The progress line: on a terminal during a long run, erased at its end; never on a pipe,
in CI or with --quiet unless --progress asks. Real processes, a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

PROGRESS = b"escape-lens: "
ERASE = b"\r\x1b[K"


@pytest.fixture
def slow_module(tmp_path: Path) -> Path:
    """A package that takes the compiler and the parser well over a second, and is new to
    the go cache (its source is unique to this test's directory)."""
    module = tmp_path / "slow"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/slow\n\ngo 1.21\n")
    functions = "".join(
        f"type T{i} struct{{ a, b [{i % 7 + 1}]int; s string }}\n"
        f"func New{i}(n int) (*T{i}, []int, any) {{\n"
        f"\tv := &T{i}{{s: {json.dumps(str(tmp_path))}}}\n"
        f"\treturn v, make([]int, n), n + {i}\n}}\n"
        for i in range(3000)
    )
    (module / "slow.go").write_text("package slow\n\n" + functions)
    return module


def _environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["ESCAPE_LENS_CACHE"] = str(tmp_path / "escape-lens-cache")  # nothing cached
    env.update(extra)
    return env


def _argv(module: Path, *extra: str) -> list[str]:
    report = module.parent / f"report{len(extra)}.json"
    args = ["analyze", "./...", "--format", "json", "-o", str(report), *extra]
    return [sys.executable, "-m", "escape_lens", *args]


def _on_a_terminal(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, bytes]:
    """Exit status and everything written to stderr, which is a pseudo-terminal."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=follower,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            process.kill()
            pytest.fail(f"no output and no end within 120 s: {seen!r}")
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: every copy of the follower is closed, the process ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return process.wait(timeout=60), seen


def test_a_long_run_on_a_terminal_shows_the_line_and_erases_it(
    slow_module: Path, tmp_path: Path
) -> None:
    code, stderr = _on_a_terminal(_argv(slow_module), slow_module, _environ(tmp_path))
    assert code == 0, stderr
    assert PROGRESS in stderr, stderr
    drawn = stderr.split(b"\r")
    assert any(b"go: " in line or b"parsing" in line for line in drawn), stderr
    # the last thing written is the erasure: the terminal is left as it was found
    assert stderr.endswith(ERASE), stderr[-200:]
    assert b"\n" not in stderr, stderr  # only redrawn in place


@pytest.mark.parametrize(
    ("extra", "env"),
    [((), {"CI": "true"}), (("--quiet",), {}), (("--quiet", "--progress"), {})],
    ids=["ci", "quiet", "quiet-wins"],
)
def test_no_line_in_ci_or_when_quiet(
    slow_module: Path, tmp_path: Path, extra: tuple[str, ...], env: dict[str, str]
) -> None:
    argv = _argv(slow_module, *extra)
    code, stderr = _on_a_terminal(argv, slow_module, _environ(tmp_path, **env))
    assert code == 0, stderr
    assert stderr == b""


def test_none_on_a_pipe_unless_asked(slow_module: Path, tmp_path: Path) -> None:
    env = _environ(tmp_path)
    piped = subprocess.run(
        _argv(slow_module), cwd=slow_module, env=env, capture_output=True, check=False
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == b""
    env = _environ(tmp_path / "again")  # nothing cached: the run is long again
    asked = subprocess.run(
        _argv(slow_module, "--progress"), cwd=slow_module, env=env, capture_output=True, check=False
    )
    assert asked.returncode == 0, asked.stderr
    lines = asked.stderr.splitlines()
    assert lines, "a line a second or so"
    assert all(line.startswith(PROGRESS) for line in lines), lines
    assert b"\r" not in asked.stderr  # plain lines in a log, not redrawn
