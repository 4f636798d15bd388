"""The report cache: an `analyze` run whose inputs are all as they were is answered with
what it wrote last time, before go starts (docs/design.md, "The report cache").

Invariants:
- An entry is one run's report bytes, where they went (stdout or `-o`'s file, which
  must be the one the arguments name) and its stderr before and after the report. Only
  a source `analyze` with one toolchain that exited 0 is stored, never with `-v`,
  `--binary`, `--profile`, `--bench` or `--cross-check`; `check` never uses it.
- Its key is what outside the file system could change the run: the arguments, the
  working directory, the environment (less what a shell changes between commands),
  whether stdout is a terminal and, when the report goes there, its width, the Python.
- It is used only when everything the run read (toolchain/watch.py, and escape-lens's
  own modules) has the same status: inode, size, mtime, ctime and mode, to the
  nanosecond, or is still absent. Content cannot change without ctime changing, and
  no program can set a ctime back.
- Not stored when something watched changed within two seconds before the run or during
  it (one tick of a file system's clock could hide a change), nor when a build cannot
  be watched. The one change a run makes itself, replacing `-o`'s file, is told apart:
  that file is no input, and the directory holding it (if watched) is compared by the
  names in it, but that file's, once its status differs (`_Beside`).
- An entry supplies bytes, never code or flags: a header (SHA-256 of the rest, the
  report's length), the report, then JSON checked field by field; written atomically;
  anything unreadable is a miss and is deleted. ESCAPE_LENS_REPORT_CACHE=off (or
  ESCAPE_LENS_RESULT_CACHE=off) turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TextIO, cast

from escape_lens.cli.output import output_stream
from escape_lens.toolchain import watch
from escape_lens.toolchain.wheel import cache_dir

__all__ = ["Recording", "enabled", "recording", "replay"]

_FORMAT = b"escape-lens report 1 "
_HEADER = len(_FORMAT) + 64 + 1 + 20 + 1  # format, digest, space, length, newline
_RACY_NS = 2_000_000_000
_MAX_META_BYTES = 1 << 28
# set by a shell between commands, or naming the terminal's session: not the run's input
_VOLATILE_ENV = frozenset({"OLDPWD", "SHLVL", "_", "TERM_SESSION_ID", "WINDOWID", "SECONDS"})
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_pending: tuple[str, int] | None = None  # (key, start) of the run `main` looked up


def enabled() -> bool:
    return all(
        os.environ.get(name, "").lower() not in ("off", "0", "no")
        for name in ("ESCAPE_LENS_RESULT_CACHE", "ESCAPE_LENS_REPORT_CACHE")
    )


def replay(args: Sequence[str]) -> int | None:
    """The exit code of `escape-lens ARGS` replayed from its entry, with the report and
    the lines on stderr written as that run wrote them; None when there is no entry
    whose inputs all hold (the run then goes on, and may be stored: `recording`)."""
    global _pending
    _pending = None
    if not args or args[0] != "analyze" or not enabled():
        return None
    output = _output_named(args)
    try:
        started = time.time_ns()
        key = _key(args, output)
        _pending = key, started
        found = _found(_reports() / key, output)
    except OSError:  # (no working directory, say: the run says what is wrong)
        return None
    if found is None:
        return None
    report, meta = found
    sys.stderr.write(meta.stderr[0])
    sys.stderr.flush()
    with output_stream(meta.output, meta.inputs) as stream:
        stream.write(report.decode("utf-8", "surrogateescape"))
    sys.stderr.write(meta.stderr[1])
    return 0


def _found(path: Path, output: str | _Unknown | None) -> tuple[bytes, _Meta] | None:
    """The entry at `path` and its report, if every input it watched holds; a corrupt
    entry, or one that would write elsewhere than the arguments say, is deleted."""
    try:
        meta = _read_meta(path)
        if meta is None or isinstance(output, _Unknown):
            return None
        if meta.output != output:
            raise _Corrupt  # (the output is the arguments', never the cache's to choose)
        if not _all_hold(meta.watched, _Beside.of(output)):
            return None
        report = meta.read_report()
    except _Corrupt:
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept by the trim
    return report, meta


class _Unknown:
    """Arguments whose output file a plain reading cannot tell (a cluster of short
    options): not replayed."""


def _output_named(args: Sequence[str]) -> str | _Unknown | None:
    """The file `-o`/`--output` names in `analyze ARGS`, as click reads it."""
    named: str | None = None
    index = 1
    while index < len(args):
        arg = args[index]
        if arg == "--":
            break
        if arg in ("-o", "--output"):
            if index + 1 >= len(args):
                return _Unknown()
            named, index = args[index + 1], index + 2
            continue
        if arg.startswith("--output="):
            named = arg.partition("=")[2]
        elif arg.startswith("-o"):
            named = arg[2:]
        elif arg.startswith("-") and not arg.startswith("--") and "o" in arg[1:]:
            return _Unknown()
        index += 1
    return named


@contextlib.contextmanager
def recording(
    cacheable: bool, output: str | None, inputs: Sequence[str]
) -> Iterator[Recording | None]:
    """The run recorded for the cache when `replay` looked it up, found nothing and the
    command says it is `cacheable`; stored by `Recording.store`, dropped otherwise."""
    global _pending
    pending, _pending = _pending, None
    if pending is None or not cacheable or not enabled():
        yield None
        return
    try:
        run = Recording(pending[0], pending[1], output, inputs)
    except OSError:  # (a cache that cannot be written only costs the next run its speed)
        yield None
        return
    try:
        yield run
    finally:
        run.close()


class Recording:
    """One run being recorded: its stderr and its report, tapped as they are written."""

    def __init__(self, key: str, started: int, output: str | None, inputs: Sequence[str]):
        self._key, self._started = key, started
        self._output, self._inputs = output, list(inputs)
        self._beside = _Beside.of(output)
        if self._beside is not None:
            self._beside.names_before = self._beside.names()
        self._builds = watch.record()
        self._stderr: list[str] = []
        self._before: str | None = None
        self._digest = hashlib.sha256()
        self._length = 0
        self._tapped = False
        self._usable = True
        directory = _reports()
        directory.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = tempfile.NamedTemporaryFile(  # noqa: SIM115 (close())
            dir=directory, prefix=".tmp-", delete=False
        )
        self._file.write(b" " * _HEADER)
        self._stderr_stream = sys.stderr
        sys.stderr = cast(TextIO, _Tap(sys.stderr, self._stderr.append))

    def tap(self, stream: TextIO) -> TextIO:
        """`stream`, the report's, with what is written to it kept (once per run: a second
        report is not what one entry can hold)."""
        if self._tapped:
            self._usable = False
            return stream
        self._tapped = True
        self._before = "".join(self._stderr)
        self._stderr.clear()
        return cast(TextIO, _Tap(stream, self._keep))

    def _keep(self, text: str) -> None:
        data = text.encode("utf-8", "surrogateescape")
        self._digest.update(data)
        self._length += len(data)
        try:
            self._file.write(data)
        except OSError:
            self._usable = False

    def store(self) -> None:
        """The run ended well: stored, if all it read could be watched and held still."""
        sys.stderr = self._stderr_stream
        builds, self._builds = self._builds, []
        watch.stop()
        if not self._usable or not self._tapped or not builds or None in builds:
            return
        try:
            watched = _snapshot([b for b in builds if b is not None], self._beside)
        except OSError:
            return
        if _racy(watched, self._started, self._beside):
            return
        meta = {
            "output": self._output,
            "inputs": self._inputs,
            "stderr": [self._before or "", "".join(self._stderr)],
            "watched": watched,
        }
        data = json.dumps(meta, separators=(",", ":")).encode()
        self._digest.update(data)
        header = _FORMAT + self._digest.hexdigest().encode() + b" %020d\n" % self._length
        try:
            self._file.write(data)
            self._file.seek(0)
            self._file.write(header)
            self._file.close()
            os.replace(self._file.name, _reports() / self._key)
        except OSError:
            return
        from escape_lens.toolchain.resultcache import trim_unused

        reports = _reports()
        trim_unused(reports, lambda: (*reports.glob("*"), *reports.glob(".tmp-*")))

    def close(self) -> None:
        sys.stderr = self._stderr_stream
        watch.stop()
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(OSError):
            os.unlink(self._file.name)  # (gone when stored)


class _Tap:
    """A text stream that also hands what is written to `keep`; the rest is the
    stream's own (a progress line draws on the stream itself, `untapped`)."""

    def __init__(self, stream: TextIO, keep: object) -> None:
        self.untapped = stream
        self._keep = keep

    def write(self, text: str) -> int:
        written = self.untapped.write(text)
        self._keep(text)  # type: ignore[operator]
        return written

    def __getattr__(self, name: str) -> object:
        return getattr(self.untapped, name)


class _Corrupt(Exception):
    pass


class _Meta:
    def __init__(self, path: Path, length: int, digest: bytes, meta: bytes) -> None:
        self._path, self._length, self._digest = path, length, digest
        self._meta = meta
        value = json.loads(meta)
        if not isinstance(value, dict):
            raise _Corrupt
        output, inputs, stderr = value.get("output"), value.get("inputs"), value.get("stderr")
        watched = value.get("watched")
        if not (output is None or isinstance(output, str)) or not isinstance(watched, list):
            raise _Corrupt
        self.output: str | None = output
        self.inputs = _strings(inputs)
        self.stderr = _strings(stderr)
        if len(self.stderr) != 2:
            raise _Corrupt
        self.watched: list[list[object]] = watched

    def read_report(self) -> bytes:
        try:
            with _open_entry(self._path) as file:
                file.seek(_HEADER)
                report = file.read(self._length)
        except OSError as exc:
            raise _Corrupt from exc
        if len(report) != self._length:
            raise _Corrupt
        digest = hashlib.sha256(report)
        digest.update(self._meta)
        if digest.hexdigest().encode() != self._digest:
            raise _Corrupt
        return report


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Corrupt
    return value


def _open_entry(path: Path) -> IO[bytes]:
    """The entry, opened only if it is a regular file (a planted FIFO must not block the
    run, nor a link lead elsewhere); FileNotFoundError if there is none."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    file = os.fdopen(descriptor, "rb")
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        file.close()
        raise _Corrupt
    return file


def _read_meta(path: Path) -> _Meta | None:
    try:
        with _open_entry(path) as file:
            size = os.fstat(file.fileno()).st_size
            header = file.read(_HEADER)
            if len(header) != _HEADER or not header.startswith(_FORMAT):
                raise _Corrupt
            digest = header[len(_FORMAT) : len(_FORMAT) + 64]
            length = int(header[len(_FORMAT) + 65 : -1])
            if length < 0 or size - _HEADER - length > _MAX_META_BYTES:
                raise _Corrupt
            file.seek(_HEADER + length)
            return _Meta(path, length, digest, file.read())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:  # (json's errors are ValueErrors)
        raise _Corrupt from exc


def _key(args: Sequence[str], output: str | _Unknown | None) -> str:
    """The entry's name: see the module docstring (`output`: what `-o` names in `args`)."""
    environment = sorted(
        (name, value) for name, value in os.environ.items() if name not in _VOLATILE_ENV
    )
    terminal = sys.stdout.isatty()
    # The width lays out a report written to the terminal; one written to `-o`'s file
    # is laid out for no terminal, whatever the terminal's width.
    on_terminal = terminal and output is None
    columns = shutil.get_terminal_size().columns if on_terminal else 0
    parts = [_FORMAT.decode(), list(args), os.getcwd(), environment, terminal, columns]
    parts += [sys.executable, sys.version]
    return hashlib.sha256(json.dumps(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _reports() -> Path:
    return cache_dir() / "reports"


def _status(path: str) -> list[object]:
    try:
        found = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return [path]
    return [path, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_mode]


def _all_hold(watched: list[list[object]], beside: _Beside | None) -> bool:
    for entry in watched:
        if not entry or not isinstance(entry[0], str):
            raise _Corrupt
        try:
            status = _status(entry[0])
            if len(entry) != _STATUS + 1:  # (a path's status, or its absence)
                if status != entry:
                    return False
            elif status != entry[:_STATUS] and not _holds_beside(beside, status, entry):
                return False
        except OSError:
            return False
    return True


_STATUS = 6  # the fields of `_status` for a path that exists


def _holds_beside(beside: _Beside | None, status: list[object], entry: list[object]) -> bool:
    """Whether the directory `-o`'s file is in, whose status changed, holds the names
    but that file's it held (`entry`'s digest)."""
    return (
        beside is not None
        and beside.holds(cast(str, entry[0]), status)
        and beside.names() == entry[_STATUS]
    )


class _Beside:
    """The directory the file `-o` names is in (a link resolved, as it is written): the
    run replaces that file, which changes the directory's status while nothing the
    build reads changed. Its entry then also holds a digest of the names in it, but
    that file's: a new or removed name is a change, as a changed status was."""

    def __init__(self, directory: str, name: str, inode: int) -> None:
        self.directory, self.name, self.inode = directory, name, inode
        self.names_before: str | None = None  # as a recorded run started (`Recording`)

    @classmethod
    def of(cls, output: str | None) -> _Beside | None:
        if output is None:
            return None
        target = os.path.realpath(output)
        directory = os.path.dirname(target)
        try:
            found = os.stat(directory)
        except OSError:
            return None
        return cls(directory, os.path.basename(target), found.st_ino)

    def holds(self, path: str, status: list[object]) -> bool:
        """Whether `path`, of `status`, is this directory (watched paths are spelt as go
        spells them, links and all: the inode first, as that costs nothing)."""
        return (
            len(status) == _STATUS
            and status[1] == self.inode
            and stat.S_ISDIR(cast(int, status[5]))
            and os.path.realpath(path) == self.directory
        )

    def is_output(self, path: str) -> bool:
        return os.path.basename(path) == self.name and os.path.realpath(path) == os.path.join(
            self.directory, self.name
        )

    def names(self) -> str:
        listed = sorted(name for name in os.listdir(self.directory) if name != self.name)
        return hashlib.sha256("\0".join(listed).encode("utf-8", "surrogateescape")).hexdigest()


def _snapshot(builds: Sequence[watch.Watch], beside: _Beside | None) -> list[list[object]]:
    """The status of everything the builds read, and of escape-lens's own code; the
    directory `-o`'s file is in with the digest of its names (`_Beside`)."""
    files: set[str] = set()
    listed: set[str] = set()  # directories whose files are watched too
    trees: set[str] = set()
    for build in builds:
        files.update(build.files)
        listed.update(build.dirs)
        for root in build.trees:
            trees.update(watch.walk_tree(root))
    for directory, subdirectories, _ in os.walk(_PACKAGE_DIR):
        subdirectories[:] = [d for d in subdirectories if d != "__pycache__"]
        listed.add(directory)
    report = _report_file()
    for directory in listed:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_file() and (report is None or entry.inode() != report):
                    files.add(entry.path)
    statuses = []
    for path in sorted(files | listed | trees):
        status = _status(path)
        if beside is not None and beside.holds(path, status):
            status.append(beside.names())
        elif beside is not None and beside.is_output(path):
            continue  # what this run wrote, no input
        statuses.append(status)
    return statuses


def _report_file() -> int | None:
    """The inode of the file stdout was redirected to, which the run writes, and its
    next run's shell truncates, whatever directory it is in (`analyze ./... > a.txt`):
    no input of the build unless it is a Go file, which nothing here writes into."""
    try:
        status = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return status.st_ino if stat.S_ISREG(status.st_mode) else None


def _racy(watched: list[list[object]], started: int, beside: _Beside | None) -> bool:
    """Whether something watched changed too close to the run, or during it. The
    directory `-o`'s file is in changed as the run replaced that file: it counts as
    changed only if a name in it but that file's is not what it was as the run started
    (its files are compared each by their own status)."""
    cutoff = started - _RACY_NS
    for entry in watched:
        if len(entry) == _STATUS + 1:
            if beside is None or entry[_STATUS] != beside.names_before:
                return True
        elif len(entry) > 1 and max(cast(int, entry[3]), cast(int, entry[4])) > cutoff:
            return True
    return False
