"""The build's go command starts with the environment's GOFLAGS while `go env` runs, and is
started again, right, when `go env` says otherwise (toolchain/golaunch.py); the report is
the same as the environment's GOFLAGS would give."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from escape_lens.cli import main

pytestmark = pytest.mark.slow

_GO = "package m\n\ntype T struct{ a, b int }\n\nfunc New() *T { return &T{1, 2} }\n"


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "mod"
    root.mkdir()
    (root / "go.mod").write_text("module example.com/m\n\ngo 1.22\n")
    (root / "m.go").write_text(_GO)
    monkeypatch.setenv("GOCACHE", str(tmp_path / "gocache"))
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / "escape-lens"))
    monkeypatch.setenv("GOENV", str(tmp_path / "goenv"))
    monkeypatch.delenv("GOFLAGS", raising=False)
    monkeypatch.chdir(root)
    return root


def _run(go: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    """The go commands a `-v` JSON run shows (`list` or `env`, their -gcflags), its report."""
    assert main(["analyze", ".", "--go", str(go), "--format", "json", "-v"]) == 0
    captured = capsys.readouterr()
    commands = []
    for line in captured.err.splitlines():
        words = shlex.split(line[2:].partition(" (in ")[0]) if line.startswith("+ ") else []
        if words[1:2] in (["list"], ["env"]):
            flags = [w for w in words if w.startswith("-gcflags")]
            commands.append(" ".join([words[1], *flags]))
    return commands, captured.out


def test_go_starts_before_go_env_answers(
    module: Path, pinned_go: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commands, _ = _run(pinned_go, capsys)
    assert commands == ["list -gcflags=-m=2 -S", "env"]


def test_goflags_of_go_env_w_start_the_command_again(
    module: Path,
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subprocess.run([str(pinned_go), "env", "-w", "GOFLAGS=-gcflags=-N"], check=True)
    commands, report = _run(pinned_go, capsys)
    # the guess (no GOFLAGS in the environment) stopped, the command go env's GOFLAGS make
    assert commands == ["list -gcflags=-m=2 -S", "env", "list -gcflags=-N -m=2 -S"]
    (module.parent / "goenv").unlink()
    monkeypatch.setenv("GOFLAGS", "-gcflags=-N")
    commands, same = _run(pinned_go, capsys)
    assert commands == ["list -gcflags=-N -m=2 -S", "env"]
    assert report == same
