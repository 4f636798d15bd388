"""Building Go programs into binaries (for binary mode's tests and `--cross-check`).

One `go build` per call, through `escape_lens.toolchain.run` (GOTOOLCHAIN=local, a
timeout, `-v` shows it). VCS stamping is off so the build does not depend on the
directory being a repository, and the output goes only where the caller says.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from escape_lens.records import GoToolchain
from escape_lens.toolchain.process import run

BUILD_TIMEOUT = 900.0


def build_binary(
    toolchain: GoToolchain,
    targets: Sequence[str],
    out: str | os.PathLike[str],
    *,
    strip: bool = False,
    goarch: str | None = None,
    cwd: str | None = None,
) -> Path:
    """`go build -o out targets`; `strip` adds `-ldflags=-s -w`, `goarch` cross-compiles.

    `out` is a file, or a directory (ending in a path separator, or existing) that then
    receives one executable per main package of the targets.
    """
    argv = [toolchain.path, "build", "-buildvcs=false", "-o", os.fspath(out)]
    if strip:
        argv.append("-ldflags=-s -w")
    argv += list(targets)
    env = {"GOARCH": goarch} if goarch else None
    run(argv, timeout=BUILD_TIMEOUT, cwd=cwd, env=env)
    return Path(out)
