"""`escape-lens --version`: the tool, the model's Go versions, the toolchain it would use."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens import __version__
from escape_lens.cli import main
from escape_lens.model.rules import NEWEST_KNOWN


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
