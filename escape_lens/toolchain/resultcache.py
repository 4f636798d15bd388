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

An entry is a header, a SHA-256 of the rest and a record in escape_lens/codec.py's checked
JSON (no code runs when read), written atomically; anything unreadable is a miss and is
deleted. `Preload` decodes the last run's entries in a thread while go runs. How entries
are stored, trimmed and preloaded: docs/design.md §1 ("The result cache").
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from escape_lens.codec import CodecError, decode, encode
from escape_lens.parsers.positions import Probe, answers_hold
from escape_lens.records import GoToolchain
from escape_lens.toolchain.wheel import cache_dir

if TYPE_CHECKING:
    from escape_lens.records import ListedPackage

__all__ = ["Context", "Probe", "enabled", "load", "settle", "store", "store_beside"]

_FORMAT = b"escape-lens results 3 "
_DIGEST_HEX = 64
_MAX_ENTRY_BYTES = 1 << 30
_Stored = TypeVar("_Stored")
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


def load(
    context: Context,
    listed: ListedPackage,
    kind: type[_Stored],
    preloaded: Preload[_Stored] | None = None,
) -> _Stored | None:
    """The stored `kind` for `listed`, if there is one and it provably still holds."""
    if not enabled():
        return None
    settle()
    path = _entry(context, listed, kind)
    try:
        found = preloaded.take(path) if preloaded is not None else None
        if found is None:
            data = _read(path)
            if data is None:
                return None
            found = _parse(data, kind)
        probes, value = found
    except CodecError:
        with contextlib.suppress(OSError):
            path.unlink()  # corrupt or planted: the next run stores a good one
        return None
    if not answers_hold(probes):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept by `_trim`
    return value


def _read(path: Path) -> bytes | None:
    """The entry's bytes, None if there is none; CodecError for anything but a regular
    file of a sane size (a planted FIFO must not block the run, nor a huge file fill its
    memory)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CodecError(f"unreadable: {exc}") from None
    try:
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise CodecError("not a regular file")
            data = file.read(_MAX_ENTRY_BYTES + 1)
    except OSError as exc:
        raise CodecError(f"unreadable: {exc}") from None
    if len(data) > _MAX_ENTRY_BYTES:
        raise CodecError("larger than any entry escape-lens writes")
    return data


def _parse(data: bytes, kind: type[_Stored]) -> tuple[list[Probe], _Stored]:
    header = len(_FORMAT) + _DIGEST_HEX + 1
    if not data.startswith(_FORMAT) or data[header - 1 : header] != b"\n":
        raise CodecError("not a result cache entry of this version")
    payload = data[header:]
    if hashlib.sha256(payload).hexdigest().encode() != data[len(_FORMAT) : header - 1]:
        raise CodecError("the entry's digest does not match its content")
    probes, value = decode(payload, tuple[list[Probe], kind])  # type: ignore[valid-type]
    return probes, value


def store(context: Context, listed: ListedPackage, value: object, probes: list[Probe]) -> None:
    """Keep `value` for the next run; silently nothing when the cache is not writable."""
    if not enabled():
        return
    path = _entry(context, listed, type(value))
    payload = encode((probes, value))
    digest = hashlib.sha256(payload).hexdigest().encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as file:
            file.write(_FORMAT + digest + b"\n" + payload)
        os.replace(file.name, path)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(file.name)
        return
    _trim(path.parent.parent)


_storing: list[int] = []  # processes storing this one's entries (`store_beside`)


def store_beside(
    context: Context, items: Sequence[tuple[ListedPackage, object, list[Probe]]], fork: bool
) -> None:
    """`store` each (package, value, probes) of `items`, in a forked process when `fork`
    (a core is free for it): the caller goes on (the CLI writes the report) meanwhile. `settle`
    waits for it, and so do this process's exit, `load` and `Preload`: no entry is half
    written when the run ends, and a second build in this process reads every one."""
    if not enabled() or not items:
        return
    pid = -1
    if fork:
        with contextlib.suppress(OSError):
            pid = os.fork()
    if pid > 0:
        if not _storing:
            atexit.register(settle)
        _storing.append(pid)
        return
    try:
        for listed, value, probes in items:
            store(context, listed, value, probes)
    finally:
        if pid == 0:
            os._exit(0)  # (nothing of the parent's: its buffers, its exit handlers)


def settle() -> None:
    """Wait until the entries `store_beside` is writing are written."""
    while _storing:
        pid = _storing.pop()
        with contextlib.suppress(ChildProcessError, InterruptedError):
            os.waitpid(pid, 0)


class Preload(Generic[_Stored]):
    """The entries the last run of these targets used, decoded in a thread meanwhile.

    `run` names the run (the toolchain's path, the directory, the targets, `--tests`);
    its entries are listed in `runs/` by `remember`. Nothing read here is trusted more
    than by `load`: an entry is taken only under its own key, and its probes are asked.
    """

    def __init__(self, run: Sequence[str], kind: type[_Stored]) -> None:
        settle()
        self.kind = kind
        self.index = _run_index(run, kind)
        self._found: dict[Path, tuple[list[Probe], _Stored] | CodecError] = {}
        self._thread: threading.Thread | None = None
        self._paths, self.root = _remembered(self.index) if enabled() else ([], None)
        self.expected = len(self._paths)
        if self._paths:
            self._thread = threading.Thread(target=self._read_all, name="preload", daemon=True)
            self._thread.start()

    def _read_all(self) -> None:
        _code_digest()  # needed for every key; computed here while go runs
        for path in self._paths:
            try:
                data = _read(path)
                if data is not None:
                    self._found[path] = _parse(data, self.kind)
            except CodecError as exc:
                self._found[path] = exc

    def guess(self) -> list[_Stored] | None:
        """The last run's results in the order `remember` named them, when every one was
        read: what this run will find if nothing changed (its own lookups say)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        found = [self._found.get(path) for path in self._paths]
        values = [entry[1] for entry in found if isinstance(entry, tuple)]
        return values if len(values) == len(self._paths) and values else None

    def take(self, path: Path) -> tuple[list[Probe], _Stored] | None:
        """The decoded entry at `path` if it was preloaded; CodecError if it was bad."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        found = self._found.pop(path, None)
        if isinstance(found, CodecError):
            raise found
        return found


def remember(preloaded: Preload[_Stored], entries: Sequence[Path], root: str | None = None) -> None:
    """Name the entries of this run, and its report root, for the next run of the same
    targets (`Preload`)."""
    if not enabled():
        return
    names = [str(path.relative_to(path.parent.parent)) for path in entries]
    if root is not None:  # (JSON: one line of ASCII, whatever the directory's name)
        names.insert(0, _ROOT_LINE + json.dumps(root))
    text = "\n".join(names)
    with contextlib.suppress(OSError):
        if preloaded.index.read_text("ascii") == text:
            return
    with contextlib.suppress(OSError, ValueError):
        preloaded.index.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=preloaded.index.parent, prefix=".tmp-", delete=False
        ) as file:
            file.write(text)
        os.replace(file.name, preloaded.index)


def entry_path(context: Context, listed: ListedPackage, kind: type) -> Path:
    return _entry(context, listed, kind)


_ENTRY_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{62}")


def _run_index(run: Sequence[str], kind: type) -> Path:
    key = hashlib.sha256("\0".join((kind.__qualname__, *run)).encode("utf-8", "surrogateescape"))
    return cache_dir() / "runs" / key.hexdigest()


_ROOT_LINE = "root "


def _remembered(index: Path) -> tuple[list[Path], str | None]:
    """The entries an index names and the root it gives; nothing if it is not one (it is
    only a guess anyway)."""
    try:
        data = _read(index)
        names = data.decode("ascii").split("\n") if data else []
    except (CodecError, UnicodeDecodeError):
        return [], None
    root = None
    if names and names[0].startswith(_ROOT_LINE):
        with contextlib.suppress(ValueError):
            read = json.loads(names[0][len(_ROOT_LINE) :])
            root = read if isinstance(read, str) else None
    results = index.parent.parent / "results"
    return [results / name for name in names if _ENTRY_NAME.fullmatch(name)], root


def _entry(context: Context, listed: ListedPackage, kind: type) -> Path:
    key = hashlib.sha256()
    for part in (
        _code_digest(),
        kind.__qualname__,
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
    trim_unused(results, lambda: (*results.glob("*/*"), *results.parent.glob("runs/*")))


def trim_unused(directory: Path, entries: Callable[[], Iterable[Path]]) -> None:
    """Delete the `entries` unused for `_MAX_AGE`, at most once every `_TRIM_EVERY`
    (the time of the last trim is the mtime of `directory`/trimmed)."""
    marker = directory / "trimmed"
    now = time.time()
    try:
        if now - marker.stat().st_mtime < _TRIM_EVERY:
            return
    except OSError:
        pass
    with contextlib.suppress(OSError):
        marker.touch()
        for entry in entries():
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > _MAX_AGE:
                    entry.unlink()
