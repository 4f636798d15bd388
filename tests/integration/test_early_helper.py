"""The type-size helper built early (while go compiles the targets) sizes what the one
built on demand sizes, and a build that fails says so when the helper is needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.errors import ToolchainError
from escape_lens.records import GoToolchain, GoVersion
from escape_lens.toolchain.typesizes import EarlyHelper, _std_exports, type_sizes

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
