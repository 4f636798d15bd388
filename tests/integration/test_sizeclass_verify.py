"""`escape-lens sizeclass` with a real toolchain: discovery and --verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from escape_lens.cli import main

pytestmark = pytest.mark.slow


def test_version_of_the_discovered_toolchain(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, pinned_go: Path
) -> None:
    monkeypatch.setenv("ESCAPE_LENS_GO", str(pinned_go))
    assert main(["sizeclass", "32768"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("go1.27 allocator:")
    assert "large path" in out
    assert main(["sizeclass", "32768", "--go", str(pinned_go), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == "large"


def test_verify_prints_agreement(capsys: pytest.CaptureFixture[str], pinned_go: Path) -> None:
    code = main(["sizeclass", "--verify", "33", "1024", "--pointers", "--go", str(pinned_go)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("measured on go1.27.3")
    assert "ok" in out.splitlines()[1]
    assert out.splitlines()[-1] == "2 of 2 cases agree with the model"


def test_verify_json_lines(capsys: pytest.CaptureFixture[str], pinned_go: Path) -> None:
    code = main(["sizeclass", "--verify", "9", "1024", "--go", str(pinned_go), "--format", "json"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert [(r["case"], r["agrees"]) for r in rows] == [("9:n", True), ("1024:n", True)]
    assert rows[0]["prediction"]["path"] == "tiny"
    assert rows[1]["observed"]["classes"] == {"1024": rows[1]["observed"]["n"]}
