"""`escape-lens diff OLD.json NEW.json` on two real reports of the fixture module."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from escape_lens.cli import main
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow

CODEC = "codec/codec.go"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, pinned_go: Path) -> tuple[Path, Path]:
    """OLD: the fixture as it is. NEW: Record grew a size class, Checksum allocates,
    Clone's allocation is gone, and unrelated lines shifted everything down."""
    base = tmp_path_factory.mktemp("diff")
    old_module, new_module = base / "old", base / "new"
    shutil.copytree(FIXTURES / "checkmod", old_module)
    shutil.copytree(FIXTURES / "checkmod", new_module)
    source = (new_module / CODEC).read_text()
    source = source.replace("package codec\n", "package codec\n\n// Shifted.\n\n")
    source = source.replace("\tTags []string\n}", "\tTags []string\n\tHash [2]int64\n}")
    source = source.replace("\tvar sum uint32\n", "\tvar sum uint32\n\tsink = new([4]uint64)\n")
    source = source.replace("\tc := *r\n\treturn &c\n", "\treturn r\n")
    (new_module / CODEC).write_text(source)
    old, new = base / "old.json", base / "new.json"
    _analyze(old_module, pinned_go, old)
    _analyze(new_module, pinned_go, new)
    return old, new


def _analyze(module: Path, go: Path, out: Path) -> None:
    # `analyze` resolves ./... against the working directory's module.
    here = os.getcwd()
    os.chdir(module)
    try:
        code = main(["analyze", "./...", "--go", str(go), "--format", "json", "-o", str(out)])
    finally:
        os.chdir(here)
    assert code == 0


def test_diff_text(capsys: pytest.CaptureFixture[str], reports: tuple[Path, Path]) -> None:
    old, new = reports
    capsys.readouterr()
    code = main(["diff", str(old), str(new)])
    out = capsys.readouterr().out
    assert code == 1
    *changes, summary = out.splitlines()
    assert summary == "escape-lens diff: 1 new, 2 grown, 1 removed, 0 shrunk, 2 unchanged"
    kinds = [line.split(": ")[1] for line in changes]
    assert sorted(kinds) == ["grown", "grown", "new", "removed"]
    grown = [line for line in changes if ": grown: " in line]
    # Record grew: &Record{...} in Encode and in Lookup's closure. Positions are the new
    # report's (shifted by 3 lines, plus the added field).
    assert grown[0].startswith(f"{CODEC}:28:11: grown: (*Encoder).Encode:")
    assert ": grown: Lookup.func1: " in grown[1]
    assert all("48 B small (class 5) -> 64 B small (class 6)" in line for line in grown)
    [new] = [line for line in changes if ": new: " in line]
    assert ": new: Checksum: " in new
    [removed] = [line for line in changes if ": removed: " in line]
    assert ": removed: Clone: moved-to-heap c" in removed


def test_diff_json(capsys: pytest.CaptureFixture[str], reports: tuple[Path, Path]) -> None:
    old, new = reports
    capsys.readouterr()
    code = main(["diff", str(old), str(new), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["regressed"] is True
    assert data["summary"] == {
        "new": 1,
        "removed": 1,
        "grown": 2,
        "shrunk": 0,
        "changed": 0,
        "unchanged": 2,
    }
    grown, _ = [c for c in data["changes"] if c["kind"] == "grown"]
    assert grown["old"]["line"] == 24
    assert grown["new"]["line"] == 28
    assert grown["old"]["fingerprint"] == grown["new"]["fingerprint"] == grown["fingerprint"]
    [removed] = [c for c in data["changes"] if c["kind"] == "removed"]
    assert removed["new"] is None
    assert removed["old"]["function"] == "Clone"


def test_diff_reverse_and_identity(
    capsys: pytest.CaptureFixture[str], reports: tuple[Path, Path]
) -> None:
    old, new = reports
    # Going back only removes and shrinks: not a regression.
    assert main(["diff", str(new), str(old)]) == 1  # the Clone site comes back: new
    out = capsys.readouterr().out
    assert (
        out.splitlines()[-1] == "escape-lens diff: 1 new, 0 grown, 1 removed, 2 shrunk, 2 unchanged"
    )
    assert main(["diff", str(old), str(old)]) == 0
    assert (
        capsys.readouterr().out
        == "escape-lens diff: 0 new, 0 grown, 0 removed, 0 shrunk, 5 unchanged\n"
    )


def test_diff_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, reports: tuple[Path, Path]
) -> None:
    old, _ = reports
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "other"}')
    assert main(["diff", str(old), str(bad)]) == 2
    assert "not an escape-lens report" in capsys.readouterr().err
    assert main(["diff", str(old), str(tmp_path / "missing.json")]) == 2
    assert "missing.json: cannot read" in capsys.readouterr().err
