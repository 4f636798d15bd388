"""`escape-lens --version`: the tool, the model's Go versions, the toolchain it would use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from escape_lens import __version__
from escape_lens.cli import main
from escape_lens.cli.version import version_text
from escape_lens.model.rules import NEWEST_KNOWN
from escape_lens.toolchain.locate import peek_toolchain


def test_version_names_tool_model_and_toolchain(
    capsys: pytest.CaptureFixture[str], pinned_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESCAPE_LENS_GO", str(pinned_go))
    assert main(["--version"]) == 0
    tool, model, toolchain = capsys.readouterr().out.splitlines()
    assert tool == f"escape-lens {__version__}"
    assert model == f"model: go1.21 to go1.27 (newest release known: {NEWEST_KNOWN})"
    assert toolchain.startswith("toolchain: go1.27.3 ")
    assert toolchain.endswith(f"({pinned_go})")


def test_version_without_a_toolchain_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESCAPE_LENS_GO", str(tmp_path / "no-go"))
    assert main(["--version"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("toolchain: none (")
    assert "no-go" in last


def _go_env(go: Path, *names: str) -> list[str]:
    return subprocess.run(
        [str(go), "env", *names], capture_output=True, text=True, check=True
    ).stdout.split()


def test_version_names_the_toolchain_as_go_env_does_without_running_it(
    pinned_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version, goos, goarch = _go_env(pinned_go, "GOVERSION", "GOOS", "GOARCH")
    monkeypatch.delenv("GOOS", raising=False)
    monkeypatch.delenv("GOARCH", raising=False)
    peeked = peek_toolchain(pinned_go)
    assert peeked is not None
    assert f"{peeked.version} {peeked.goos}/{peeked.goarch}" == f"{version} {goos}/{goarch}"
    monkeypatch.setenv("ESCAPE_LENS_GO", str(pinned_go))
    monkeypatch.setenv("GOARCH", "arm64")  # what analyze would build for: go env tells
    assert peek_toolchain(pinned_go) is None
    assert f"toolchain: {version} {goos}/arm64 ({pinned_go})" in version_text()


def test_version_of_a_go_outside_its_goroot_asks_go_env(
    pinned_go: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy of the binary has no VERSION file beside it (as a distribution's layout may
    # not), and finds its GOROOT by the environment: `go env` names it.
    [goroot] = _go_env(pinned_go, "GOROOT")
    monkeypatch.setenv("GOROOT", goroot)
    monkeypatch.delenv("GOOS", raising=False)
    monkeypatch.delenv("GOARCH", raising=False)
    lone = tmp_path / "bin" / "go"
    lone.parent.mkdir()
    shutil.copy2(pinned_go, lone)
    version, goos, goarch = _go_env(pinned_go, "GOVERSION", "GOHOSTOS", "GOHOSTARCH")
    assert peek_toolchain(lone) is None
    monkeypatch.setenv("ESCAPE_LENS_GO", str(lone))
    assert f"toolchain: {version} {goos}/{goarch} ({lone})" in version_text()
