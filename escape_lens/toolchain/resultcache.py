"""Parsed compiler output, kept so that a build the go cache replays is not parsed again.

Parsing tens of megabytes of `-m=2 -S` text costs more than the go command takes to
replay it, so a target package's PackageOutput is stored once computed and reused when
nothing it depends on has changed. Reuse is only allowed when that can be shown, not
guessed:

- The go command's build IDs of the package's compiles (`go list -export -json=BuildID`)
  stand for everything the compiler saw and wrote: the action ID hashes the sources,
  the flags, the toolchain and every dependency's export data (hence the sizes of types
  defined elsewhere), the content ID hashes the compiled archive (hence the inlining
  trees read from it). Same build IDs, same compiler output.
- escape-lens's own code (every module of the package, hashed), the toolchain, the
  directory go ran in and the report root, the package's import path, directory and
  name, and `--tests` are the rest of the key.
- File names are resolved with the help of the file system (parsers/positions.py). The
  questions asked while a package was parsed are stored with its result and asked again
  before it is reused; a different answer is a miss.

An entry is a pickle written atomically (another run sees all of it or nothing) under
`cache_dir()/results`; an unreadable, foreign or stale entry is a miss, never an error,
and a cache that cannot be written only costs the next run its speed. Entries unused for
a week are deleted, at most once a day. `ESCAPE_LENS_CACHE` moves the whole cache;
`ESCAPE_LENS_RESULT_CACHE=off` neither reads nor writes results (every package is parsed).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from escape_lens.parsers.positions import Probe, answers_hold
from escape_lens.records import GoToolchain, PackageOutput
from escape_lens.toolchain.wheel import cache_dir

if TYPE_CHECKING:
    from escape_lens.records import ListedPackage

__all__ = ["Context", "Probe", "enabled", "load", "store"]

_FORMAT = b"escape-lens results 1\n"
_MAX_AGE = 7 * 24 * 3600.0
_TRIM_EVERY = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Context:
    """What every package of one build shares in its key."""

    toolchain: GoToolchain
    workdir: str
    root: str
    tests: bool


def enabled() -> bool:
    return os.environ.get("ESCAPE_LENS_RESULT_CACHE", "").lower() not in ("off", "0", "no")


def load(context: Context, listed: ListedPackage) -> PackageOutput | None:
    """The stored result for `listed`, if there is one and it provably still holds."""
    if not enabled():
        return None
    path = _entry(context, listed)
    try:
        with open(path, "rb") as file:
            if file.read(len(_FORMAT)) != _FORMAT:
                return None
            probes, output = pickle.load(file)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError, TypeError):
        return None
    if not isinstance(output, PackageOutput) or not answers_hold(probes):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept by `_trim`
    return output


def store(
    context: Context, listed: ListedPackage, output: PackageOutput, probes: list[Probe]
) -> None:
    """Keep `output` for the next run; silently nothing when the cache is not writable."""
    if not enabled():
        return
    path = _entry(context, listed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as file:
            file.write(_FORMAT)
            pickle.dump((probes, output), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(file.name, path)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(file.name)
        return
    _trim(path.parent.parent)


def _entry(context: Context, listed: ListedPackage) -> Path:
    key = hashlib.sha256()
    for part in (
        _code_digest(),
        context.toolchain.path,
        str(context.toolchain.version),
        ",".join(context.toolchain.goexperiment),
        context.toolchain.goos,
        context.toolchain.goarch,
        context.toolchain.goroot,
        context.workdir,
        context.root,
        str(context.tests),
        listed.import_path,
        listed.dir,
        listed.name,
        str(listed.has_tests),
        str(listed.has_xtests),
        *listed.build_ids,
    ):
        key.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest = key.hexdigest()
    return cache_dir() / "results" / digest[:2] / digest[2:]


@cache
def _code_digest() -> str:
    """A hash of escape-lens's own modules: new parsing code never reads old results."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for module in sorted(package.rglob("*.py")):
        digest.update(str(module.relative_to(package)).encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


def _trim(results: Path) -> None:
    """Delete entries unused for `_MAX_AGE`, at most once every `_TRIM_EVERY`."""
    marker = results / "trimmed"
    now = time.time()
    try:
        if now - marker.stat().st_mtime < _TRIM_EVERY:
            return
    except OSError:
        pass
    with contextlib.suppress(OSError):
        marker.touch()
        for entry in results.glob("*/*"):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > _MAX_AGE:
                    entry.unlink()
