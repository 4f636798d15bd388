"""The type-size helper started early (while go compiles the targets: linked by
go1.21-1.23, a `go run` waiting for its request from go1.24) sizes what the one run on
demand sizes, and one that fails says so when the helper is needed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from escape_lens.errors import ToolchainError
from escape_lens.records import GoToolchain, GoVersion
from escape_lens.toolchain import typesizes
from escape_lens.toolchain.typesizes import (
    EarlyHelper,
    WaitingHelper,
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


def _failing_go(tmp_path: Path) -> GoToolchain:
    """A go whose every command fails as a full disk makes the link fail."""
    fake = tmp_path / "go"
    fake.write_text("#!/bin/sh\necho 'cannot link: no space left' >&2\nexit 1\n")
    fake.chmod(0o755)
    return GoToolchain(str(fake), GoVersion(1, 27, 3), "linux", "amd64", (), str(tmp_path))


def test_an_early_helper_that_fails_to_build_fails_when_it_is_needed(tmp_path: Path) -> None:
    with (
        EarlyHelper(_failing_go(tmp_path), str(tmp_path)) as early,
        pytest.raises(ToolchainError, match="no space left"),
    ):
        early.binary()


def test_the_waiting_helper_sizes_what_go_run_on_demand_does(
    tmp_path: Path, pinned_toolchain: GoToolchain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked once; a process forked meanwhile (the parsing processes,
    toolchain/parallel.py) holds a copy of its stdin, which must not keep it waiting."""
    monkeypatch.setattr(typesizes, "TIMEOUT", 30.0)  # (a helper kept waiting fails sooner)
    exports = _std_exports(pinned_toolchain, ["bytes", "strings", "sync"], str(tmp_path))
    on_demand = type_sizes(pinned_toolchain, NAMES, exports)
    with WaitingHelper(pinned_toolchain, str(tmp_path)) as waiting:
        child = os.fork()
        if child == 0:  # holds the inherited pipes until the parent has its answer
            os.read(os.pipe()[0], 1)  # (blocks until killed)
            os._exit(0)
        try:
            assert waiting.waiting
            assert type_sizes(pinned_toolchain, NAMES, exports, early=waiting) == on_demand
            assert not waiting.waiting
            # asked once: a second question runs the helper anew
            assert type_sizes(pinned_toolchain, NAMES[:1], exports, early=waiting) == {
                NAMES[0]: on_demand[NAMES[0]]
            }
        finally:
            os.kill(child, 9)
            os.waitpid(child, 0)


def test_a_waiting_helper_never_asked_ends_with_its_block(
    tmp_path: Path, pinned_toolchain: GoToolchain
) -> None:
    with WaitingHelper(pinned_toolchain, str(tmp_path)) as waiting:
        process = waiting._process
    assert process.poll() is not None  # ended, not left behind
    assert not waiting.waiting


def test_a_waiting_helper_that_fails_fails_when_it_is_asked(tmp_path: Path) -> None:
    with (
        WaitingHelper(_failing_go(tmp_path), str(tmp_path)) as waiting,
        pytest.raises(ToolchainError, match="no space left"),
    ):
        waiting.ask(b"{}")


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
