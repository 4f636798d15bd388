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


# A module of two packages, b making a's type (the warm-run tests edit b's capacity, `0,
# n)`, and a's string).
TWO_PACKAGE_A = (
    'package a\n\ntype T struct{ s string; n int }\n\nfunc New() *T { return &T{s: "a"} }\n'
)
TWO_PACKAGE_B = (
    'package b\n\nimport "example.com/m/a"\n\n'
    "func Many(n int) []*a.T {\n\tout := make([]*a.T, 0, n)\n"
    "\tfor range n {\n\t\tout = append(out, a.New())\n\t}\n\treturn out\n}\n"
)


def write_two_packages(root: Path) -> Path:
    """The module above, written at `root`."""
    files = {
        "go.mod": "module example.com/m\n\ngo 1.22\n",
        "a/a.go": TWO_PACKAGE_A,
        "b/b.go": TWO_PACKAGE_B,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root
