"""The type-size helper built early (while go compiles the targets) sizes what the one
built on demand sizes, and a build that fails says so when the helper is needed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from escape_lens.errors import ToolchainError
from escape_lens.records import GoToolchain, GoVersion
from escape_lens.toolchain import typesizes
from escape_lens.toolchain.typesizes import (
    EarlyHelper,
    _std_exports,
    links_each_run,
    type_sizes,
)
from tests.integration.build_helpers import MATRIX, toolchain

pytestmark = pytest.mark.slow

NAMES = ["bytes.Buffer", "sync.Mutex", "map[string]bytes.Buffer", "[3]*strings.Builder"]


def test_the_early_helper_sizes_what_the_helper_built_on_demand_does(
    tmp_path: Path, pinned_toolchain: GoToolchain
) -> None:
    exports = _std_exports(pinned_toolchain, ["bytes", "strings", "sync"], str(tmp_path))
    on_demand = type_sizes(pinned_toolchain, NAMES, exports)
    assert on_demand["bytes.Buffer"].size == 40
    with EarlyHelper(pinned_toolchain, str(tmp_path)) as early:
        assert type_sizes(pinned_toolchain, NAMES, exports, early=early) == on_demand
        assert early.binary() == tmp_path / "typesizes"


def test_an_early_helper_that_fails_to_build_fails_when_it_is_needed(tmp_path: Path) -> None:
    fake = tmp_path / "go"
    fake.write_text("#!/bin/sh\necho 'cannot link: no space left' >&2\nexit 1\n")
    fake.chmod(0o755)
    toolchain = GoToolchain(str(fake), GoVersion(1, 27, 3), "linux", "amd64", (), str(tmp_path))
    with (
        EarlyHelper(toolchain, str(tmp_path)) as early,
        pytest.raises(ToolchainError, match="no space left"),
    ):
        early.binary()


@pytest.mark.parametrize("version", MATRIX)
def test_the_helper_is_linked_each_run_only_by_toolchains_that_cache_no_run_executable(
    tmp_path: Path, pinned_toolchain: GoToolchain, version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """go1.24 and later run the helper with `go run`, whose executable the go build cache
    keeps (a `*-d/typesizes` entry); go1.21 links it into the run's temporary directory.
    Both size the same."""
    chosen = toolchain(version, pinned_toolchain)
    exports = _std_exports(chosen, ["bytes", "strings", "sync"], str(tmp_path))
    gocache = Path(
        subprocess.run(
            [chosen.path, "env", "GOCACHE"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    linked: list[Path] = []
    link = typesizes.build_helper

    def build_helper(toolchain: GoToolchain, directory: str) -> Path:
        linked.append(link(toolchain, directory))
        return linked[-1]

    monkeypatch.setattr(typesizes, "build_helper", build_helper)
    sizes = type_sizes(chosen, NAMES, exports)
    assert bool(linked) == links_each_run(chosen)
    assert sizes["bytes.Buffer"].size == 40
    assert sizes["map[string]bytes.Buffer"].size == 8
    kept = [entry for entry in gocache.glob("??/*-d/typesizes") if _same_source(chosen, entry)]
    assert links_each_run(chosen) == (chosen.version < GoVersion(1, 24))
    if links_each_run(chosen):
        with EarlyHelper(chosen, str(tmp_path)) as early:
            assert type_sizes(chosen, NAMES, exports, early=early) == sizes
    else:
        assert kept, f"no cached typesizes executable under {gocache}"


def _same_source(chosen: GoToolchain, executable: Path) -> bool:
    """The cached executable was linked by `chosen` (its build info names the toolchain)."""
    info = subprocess.run(
        [chosen.path, "version", str(executable)], capture_output=True, text=True, check=False
    )
    return info.returncode == 0 and f"{chosen.version.major}.{chosen.version.minor}" in info.stdout
