"""Running a command whose output is too large to hold, and reading that output back.

`process.run` captures everything in memory; a `-gcflags=-m=2 -S` compile of a large
package writes tens of megabytes, so `run_to_files` sends a command's stdout and stderr
straight to files (the operating system writes them; nothing passes through Python while
the compiler runs) and `read_batches` reads a file back in large blocks of whole lines.
Same rules as `process.run`: the environment comes from `go_environ` (GOTOOLCHAIN=local),
the command line is shown with `-v`, and a deadline (or an interrupt) kills the whole
process group, go and the compilers it started, so nothing outlives it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Iterator, Sequence
from typing import IO

from escape_lens.errors import ToolchainError
from escape_lens.toolchain.process import go_environ, show_command


def run_to_files(
    argv: Sequence[str],
    *,
    stdout: IO[bytes],
    stderr: IO[bytes],
    timeout: float,
    cwd: str | None = None,
) -> int:
    """Run `argv` to completion with its output in the two open files; its exit status."""
    show_command(argv, cwd)
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=go_environ(),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise ToolchainError(
            f"{shlex.join(argv[:3])} ... did not finish within {timeout:.0f} s"
        ) from None
    except BaseException:
        _kill_group(proc)
        raise


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def read_batches(path: str, size: int = 1 << 20) -> Iterator[list[str]]:
    """The lines of a UTF-8 text file (no newlines) in lists of about `size` bytes.

    Reading big blocks and splitting them costs far less per line than a readline per
    line, which matters for the hundreds of thousands of lines of a large package's -S.
    """
    with open(path, encoding="utf-8", errors="replace", newline="\n") as file:
        pending = ""
        while True:
            block = file.read(size)
            if not block:
                break
            lines = (pending + block).split("\n")
            pending = lines.pop()
            yield lines
        if pending:
            yield [pending]
