"""Shared by the test_build_* integration tests: toolchains and fixture copies."""

from __future__ import annotations

import shutil
from pathlib import Path

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
