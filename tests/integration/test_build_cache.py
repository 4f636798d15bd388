"""A build the cache replays gives the same CompileOutput as a fresh one."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.records import GoToolchain
from escape_lens.toolchain.build import compile_targets
from escape_lens.toolchain.process import run
from tests.conftest import FIXTURES


def test_fresh_and_cached_builds_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned_toolchain: GoToolchain
) -> None:
    cache = tmp_path / "gocache"
    monkeypatch.setenv("GOCACHE", str(cache))
    run([pinned_toolchain.path, "clean", "-cache"], timeout=120)
    target = FIXTURES / "captured" / "src" / "kinds"
    fresh = compile_targets(pinned_toolchain, ["main.go"], cwd=str(target))
    assert any(cache.iterdir())
    cached = compile_targets(pinned_toolchain, ["main.go"], cwd=str(target))
    assert fresh == cached
    (package,) = fresh.packages
    assert package.error is None
    assert len(package.calls) > 20
    assert len(package.diagnostics) > 40
    assert any(c.type is not None and c.type.name == "errors.errorString" for c in package.calls)
