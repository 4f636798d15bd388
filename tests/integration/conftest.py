"""Fixtures of the tests that run escape-lens as a real process (hostile_support.py).

`sandbox` is a fresh copy of fixtures/checkmod with its own TMPDIR; `report` its JSON
report. A test module that needs a different sandbox (a baseline in it, a trap script)
defines its own fixture of the same name. `repository`: fixtures/checkmod in a
subdirectory of a git repository, the working directory (SARIF and Code Quality paths are
relative to the repository root).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.build_helpers import module_in_git_repository
from tests.integration.hostile_support import Sandbox, json_report, make_sandbox


@pytest.fixture
def sandbox(tmp_path: Path, pinned_go: Path) -> Sandbox:
    return make_sandbox(tmp_path, pinned_go)


@pytest.fixture
def report(sandbox: Sandbox) -> Path:
    return json_report(sandbox)


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    module = module_in_git_repository("checkmod", tmp_path)
    monkeypatch.chdir(module)
    return module
