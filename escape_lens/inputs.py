"""Reading a file the user names (a report, a baseline, a configuration, a binary, a
heap profile), or a site's position names (a Go source file).

Invariants:
- Only a regular file is read. It is opened without blocking, so a FIFO with no writer
  is refused at once instead of waiting forever; a device (`/dev/zero`), a directory or
  a socket is refused with what it is. A symbolic link is followed to what it names,
  which must be a regular file too.
- Never more than the format allows is read: the caller gives the limit (a report, a
  configuration), the file's size is checked against it before reading, and the read
  stops at the limit even if the file grows meanwhile.
- Every failure is the caller's error class with one line naming the file; a source file
  that cannot be read has no lines (`source_reader`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from escape_lens.errors import EscapeLensError

MiB = 1 << 20
# `analyze std cmd --format json` is about 200 MiB; a JSON report far beyond that would
# take tens of GiB to hold.
MAX_REPORT_BYTES = 1024 * MiB
MAX_CONFIG_BYTES = 4 * MiB
# A Go heap profile of 2^19 stacks of ~70 frames is 46 MB decompressed; the bound, on
# the file and on what its gzip expands to, is far above any real one.
MAX_PROFILE_BYTES = 1024 * MiB
MAX_SOURCE_BYTES = 16 * MiB
# Source files a `source_reader` keeps read at once.
_FILES_KEPT = 4

SourceLines = Callable[[str], Sequence[str] | None]

_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is a FIFO"),
    (stat.S_ISCHR, "is a character device"),
    (stat.S_ISBLK, "is a block device"),
    (stat.S_ISSOCK, "is a socket"),
)


def kind_of(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "is not a regular file"


def read_regular(
    path: str | os.PathLike[str],
    *,
    limit: int,
    what: str,
    error: type[EscapeLensError],
) -> bytes:
    """The bytes of the regular file `path` (at most `limit`), else `error`."""
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise error(f"{name}: cannot read {what}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{name}: {kind_of(info.st_mode)}, not a {what} file")
        if info.st_size > limit:
            raise error(f"{name}: {info.st_size} bytes, more than a {what} can be ({limit})")
        chunks = []
        left = limit + 1
        # Asked for what the file holds (and one byte, to see it grow), not for `limit`:
        # os.read allocates what it is asked for, 16 MB per source file read.
        step = min(max(info.st_size + 1, 64 * 1024), 16 * MiB)
        while left > 0:
            chunk = os.read(fd, min(left, step))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise error(f"{name}: grew past {limit} bytes while being read")
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"{name}: cannot read {what}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def read_text(
    path: str | os.PathLike[str], *, limit: int, what: str, error: type[EscapeLensError]
) -> str:
    """`read_regular` decoded as UTF-8 (an undecodable file is `error` too)."""
    data = read_regular(path, limit=limit, what=what, error=error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{os.fspath(path)}: {what} is not UTF-8 text ({exc.reason})") from exc


def source_reader(root: str, *, limit: int = MAX_SOURCE_BYTES) -> SourceLines:
    """Lines of a report's files, relative to `root` (None when a file cannot be read).

    Only the last few files read are kept: a report's sites come in file order, so each
    file is still read once, and std's sources are never all held (45 MB of its peak)."""
    cache: dict[str, Sequence[str] | None] = {}

    def lines(file: str) -> Sequence[str] | None:
        if file not in cache:
            if len(cache) >= _FILES_KEPT:
                del cache[next(iter(cache))]  # the oldest read
            # A position may name any path (`//line /dev/zero:1` in an untrusted module):
            # only a regular file of a source's size is read, never a FIFO or a device.
            path = Path(root, file) if root else Path(file)
            try:
                data = read_regular(path, limit=limit, what="source", error=EscapeLensError)
            except EscapeLensError:
                cache[file] = None
            else:
                cache[file] = data.decode("utf-8", "replace").splitlines()
        return cache[file]

    return lines
