"""Running a command whose output is read line by line while it runs.

`process.run` captures everything and returns at the end; a `go build -gcflags=-m=2 -S`
of a large package writes tens of megabytes, so the build is read here as it is produced
and never held whole. Same rules as `process.run`: the environment comes from
`go_environ` (GOTOOLCHAIN=local), the command line is shown with `-v`, and a deadline
kills the whole process group (go and the compilers it started) so nothing outlives it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
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
        self.timed_out = False
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.timed_out = True
        self._kill()

    def _kill(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)

    def lines(self) -> Iterator[str]:
        """Each output line without its newline, as the command writes it."""
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            yield line.rstrip("\n")
        self._proc.wait()
        self._timer.cancel()
        if self.timed_out:
            raise ToolchainError(
                f"{shlex.join(self.argv[:3])} ... did not finish within {self.timeout:.0f} s"
            )

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
