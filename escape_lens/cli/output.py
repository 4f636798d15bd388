"""Writing a command's output where the user asked: stdout, or the one file named by -o.

A file is written whole or not at all: the output goes to a temporary file beside it,
which replaces the file only once everything is written (a failure, an interrupt or a
full disk leaves the old file as it was, and no temporary file behind). It streams, so
a large report (`analyze std --format json`, 80 MB) is never held twice in memory. A
path that exists and is not a regular file (`/dev/null`, a FIFO, `/dev/stdout`) is
written in place: it cannot be replaced, and must not be.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO, cast

from escape_lens.errors import UsageError


@contextlib.contextmanager
def output_stream(output: str | None) -> Iterator[TextIO]:
    """A text stream for the command's output; the file is in place when the block ends."""
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(output)
    try:
        if path.exists() and not path.is_file():
            with path.open("w", encoding="utf-8") as special:
                yield special
            return
        temporary = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed before the replace)
            "w",
            encoding="utf-8",
            dir=path.parent,
            prefix=f".{path.name}.",
            suffix=".tmp",
            delete=False,
        )
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
    try:
        with temporary:
            yield cast(TextIO, temporary)
        os.chmod(temporary.name, _mode_for(path))
        os.replace(temporary.name, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary.name)
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
        raise


def _mode_for(path: Path) -> int:
    """The file's own mode if it exists, else what a plain open() would have given it."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_output(text: str, output: str | None) -> None:
    """Write `text` whole (see the module docstring)."""
    with output_stream(output) as stream:
        stream.write(text)
