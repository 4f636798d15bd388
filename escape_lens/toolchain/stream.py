"""Running a command whose output is read line by line while it runs.

`process.run` captures everything and returns at the end; a `go build -gcflags=-m=2 -S`
of a large package writes tens of megabytes, so the build is read here as it is produced
and never held whole. Same rules as `process.run`: the environment comes from
`go_environ` (GOTOOLCHAIN=local), the command line is shown with `-v`, and a deadline
kills the whole process group (go and the compilers it started) so nothing outlives it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType

from escape_lens.errors import ToolchainError
from escape_lens.toolchain.process import go_environ, show_command


class StreamedProcess:
    """A running command; iterate `lines()` (stdout and stderr merged), then `returncode`.

    Use as a context manager: leaving the block kills the command if it still runs.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.argv = tuple(argv)
        self.timeout = timeout
        show_command(self.argv, cwd)
        try:
            self._proc = subprocess.Popen(
                list(self.argv),
                cwd=cwd,
                env=go_environ(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1 << 16,
                start_new_session=True,
            )
        except OSError as exc:
            raise ToolchainError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
        self._widen_pipe()
        self.timed_out = False
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _widen_pipe(self) -> None:
        """A 1 MiB pipe (Linux) lets go write its replayed output in fewer round trips."""
        set_pipe_size = getattr(fcntl, "F_SETPIPE_SZ", 1031) if sys.platform == "linux" else None
        if set_pipe_size is None or self._proc.stdout is None:
            return
        with contextlib.suppress(OSError):
            fcntl.fcntl(self._proc.stdout.fileno(), set_pipe_size, 1 << 20)

    def _expire(self) -> None:
        self.timed_out = True
        self._kill()

    def _kill(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)

    def batches(self, size: int = 1 << 20) -> Iterator[list[str]]:
        """The output as lists of complete lines (no newlines), about `size` bytes each.

        Reading big blocks and splitting them costs far less per line than a readline
        per line, which matters for the tens of megabytes of a large package's -S.
        """
        assert self._proc.stdout is not None
        pending = ""
        while True:
            block = self._proc.stdout.read(size)
            if not block:
                break
            lines = (pending + block).split("\n")
            pending = lines.pop()
            yield lines
        if pending:
            yield [pending]
        self._proc.wait()
        self._timer.cancel()
        if self.timed_out:
            raise ToolchainError(
                f"{shlex.join(self.argv[:3])} ... did not finish within {self.timeout:.0f} s"
            )

    def lines(self) -> Iterator[str]:
        """Each output line without its newline, as the command writes it."""
        for batch in self.batches():
            yield from batch

    @property
    def returncode(self) -> int:
        code = self._proc.poll()
        if code is None:
            code = self._proc.wait()
        return code

    def __enter__(self) -> StreamedProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        self._kill()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc.wait()
