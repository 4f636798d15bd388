"""Shared by the test_build_* integration tests: toolchains and fixture copies."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from escape_lens.cli import main
from escape_lens.records import GoToolchain
from escape_lens.toolchain import read_toolchain
from tests.conftest import FIXTURES, fetch_toolchain

SOURCES = FIXTURES / "captured" / "src"
# The version matrix of the parsers: the oldest supported, one with the 1.24 map and
# malloc changes, and the pinned newest (size-specialized malloc).
MATRIX = ("1.21.13", "1.24.11", "pinned")


def toolchain(version: str, pinned: GoToolchain) -> GoToolchain:
    return pinned if version == "pinned" else read_toolchain(fetch_toolchain(version))


def copy_source(name: str, dest: Path) -> Path:
    """A private copy of fixtures/captured/src/<name> (builds never write into the repo)."""
    target = dest / name
    shutil.copytree(SOURCES / name, target)
    return target


def module_in_git_repository(fixture: str, tmp_path: Path) -> Path:
    """fixtures/<fixture> copied into `repo/services/<fixture>` of a git repository, so
    CI formats must name files relative to the repository root, not the module's."""
    repo = tmp_path / "repo"
    module = repo / "services" / fixture
    shutil.copytree(FIXTURES / fixture, module)
    git = shutil.which("git")
    if git is not None:
        subprocess.run([git, "init", "-q", str(repo)], check=True)
    else:
        (repo / ".git").mkdir()
    return module


def baseline_then_edit(module: Path, go: Path, file: str, *edits: tuple[str, str]) -> str:
    """Record the baseline of `module` (the working directory), then apply the (old, new)
    edits to `file`; returns the edited source."""
    assert main(["baseline", "--go", str(go)]) == 0
    source = (module / file).read_text()
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new)
    (module / file).write_text(source)
    return source


def analyze_twice(capsys: pytest.CaptureFixture[str], go: Path, output_format: str) -> str:
    """`analyze ./... --format FORMAT` of the working directory, exit 0, run twice: the
    output, asserted the same bytes both times (deterministic)."""
    outputs = []
    for _ in range(2):
        assert main(["analyze", "./...", "--go", str(go), "--format", output_format]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    return outputs[0]
