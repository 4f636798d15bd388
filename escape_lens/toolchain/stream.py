"""Running a command whose output is too large to hold, and reading that output back.

`process.run` captures everything in memory; a `-gcflags=-m=2 -S` compile of a large
package writes tens of megabytes, so `FileProcess` sends a command's stdout and stderr
straight to files (the operating system writes them; nothing passes through Python while
the compiler runs, and the caller does other work meanwhile) and `read_batches` reads a
file back in large blocks of whole lines.
Same rules as `process.run`: the environment comes from `go_environ` (GOTOOLCHAIN=local),
the command line is shown with `-v`, and a deadline (or an interrupt) stops the whole
process group, go and the compilers it started, so nothing outlives it.
"""

from __future__ import annotations

import shlex
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import IO

from escape_lens.errors import ToolchainError
from escape_lens.toolchain.process import (
    STOP_GRACE,
    deadline,
    running,
    signal_group,
)


class FileProcess:
    """A command running with its stdout and stderr in two open files.

    Start it, do other work while it runs, then `wait()` for its exit status. Use as a
    context manager: leaving the block early (an error, an interrupt, a signal) stops
    the command's whole process group (`process.stop_group`: SIGINT, then SIGKILL).
    The deadline is a timer, not a polling wait, so `wait` returns as soon as it exits.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        stdout: IO[bytes],
        stderr: IO[bytes],
        timeout: float,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = tuple(argv)
        self.timeout = deadline(timeout)
        self._running = running(self.argv, stdout=stdout, stderr=stderr, cwd=cwd, env=env)
        self._proc = self._running.__enter__()
        self.timed_out = False
        self._stopped = threading.Event()
        self._timer = threading.Timer(self.timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        """On the timer's thread: ask the group to stop, then kill what is left."""
        if self._proc.poll() is not None:
            return  # ended in time, only not waited for yet (a helper built ahead)
        self.timed_out = True
        signal_group(self._proc, signal.SIGINT)
        if not self._stopped.wait(STOP_GRACE):
            signal_group(self._proc, signal.SIGKILL)

    def wait(self) -> int:
        """The exit status; ToolchainError if the deadline stopped it."""
        code = self._proc.wait()
        self._stopped.set()
        self._timer.cancel()
        if self.timed_out:
            signal_group(self._proc, signal.SIGKILL)  # members the leader left behind
            raise ToolchainError(
                f"{shlex.join(self.argv[:3])} ... did not finish within {self.timeout:g} s"
            )
        return code

    def __enter__(self) -> FileProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        self._stopped.set()
        self._running.__exit__(exc_type, exc, tb)


def read_batches(
    path: str, size: int = 1 << 16, start: int = 0, end: int | None = None
) -> Iterator[list[str]]:
    """The lines of a UTF-8 text file (no newlines) in lists of about `size` bytes; with
    `start`/`end`, of the bytes [start, end) only (a parse worker's blocks, which begin
    after a newline and end with one).

    Reading big blocks and splitting them costs far less per line than a readline per
    line, which matters for the hundreds of thousands of lines of a large package's -S.
    Blocks are cut after their last newline and decoded whole (a newline is never part of
    a longer UTF-8 sequence, so each decodes as in the whole file; undecodable bytes are
    replaced). Not too big: the lines of a block are parsed while they are in the
    processor's cache (64 KiB: a tenth faster than 1 MiB for net/http).
    """
    with open(path, "rb") as file:
        file.seek(start)
        left = float("inf") if end is None else end - start
        pending = b""
        while left > 0:
            block = file.read(size if end is None else int(min(size, left)))
            if not block:
                break
            left -= len(block)
            block = pending + block
            cut = block.rfind(b"\n") + 1
            pending = block[cut:]
            lines = block[:cut].decode("utf-8", "replace").split("\n")
            lines.pop()  # the empty text after the last newline
            if lines:
                yield lines
        if pending:
            yield [pending.decode("utf-8", "replace")]
