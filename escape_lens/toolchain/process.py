"""The one way escape-lens starts a process, and the one way it stops one.

Invariants:
- Every command runs in a process group of its own (a new session), so that the go
  command and everything it starts (compile, asm, link, the C compiler) can be stopped
  together, and a ^C at the terminal reaches escape-lens alone, which then decides.
- Stopping is gentle first: SIGINT to the whole group (go build stops its compiles and
  removes its `$WORK`); SIGKILL to the group only after a short grace (`STOP_GRACE`:
  `go list` carries on after SIGINT for as long as its compiles take). The group is
  swept with SIGKILL once more after the leader is gone, so no member outlives us.
- go's scratch space (GOTMPDIR, hence `$WORK`) is a directory of ours, removed once the
  command is stopped: nothing is left in the temporary directory even after SIGKILL.
- Every command has a deadline (`ESCAPE_LENS_GO_TIMEOUT` overrides them all: a hostile
  checkout can make go wait forever, e.g. on a FIFO named like a source file); past it
  the group is stopped as above and the run fails with one line.
- The environment comes from `go_environ`: GOTOOLCHAIN=local, so the version reported is
  the version that compiled. Nothing from the checked repository reaches a command line
  as a flag: callers put `--` before targets (docs/check.md, "Untrusted repositories").
- Every command line is logged before it starts (`-v` shows it).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from escape_lens.errors import ToolchainError, UsageError
from escape_lens.log import command_started

# A toolchain must never switch itself to another (downloaded) version behind our back:
# the version we report is the version that compiled.
_FIXED_ENV = {"GOTOOLCHAIN": "local"}

# How long go gets to stop its compiles and remove $WORK after SIGINT.
STOP_GRACE = 2.0
TIMEOUT_ENV = "ESCAPE_LENS_GO_TIMEOUT"


def go_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(_FIXED_ENV)
    if extra:
        env.update(extra)
    return env


def deadline(default: float) -> float:
    """`default` seconds, or what `ESCAPE_LENS_GO_TIMEOUT` says."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 1e9:
        raise UsageError(f"{TIMEOUT_ENV}={text!r}: expected a positive number of seconds")
    return seconds


def show_command(argv: Sequence[str], cwd: str | None = None) -> None:
    where = f" (in {cwd})" if cwd else ""
    command_started(f"+ {shlex.join(argv)}{where}")


def start(
    argv: Sequence[str],
    *,
    stdout: IO[Any] | int,
    stderr: IO[Any] | int,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: int = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """Start `argv` as the leader of a new process group, stdin from /dev/null unless
    `stdin` is a pipe (`subprocess.PIPE`)."""
    show_command(argv, cwd)
    try:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=go_environ(env),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def running(
    argv: Sequence[str],
    *,
    stdout: IO[Any] | int,
    stderr: IO[Any] | int,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: int = subprocess.DEVNULL,
) -> Iterator[subprocess.Popen[bytes]]:
    """`start`, with the go command's scratch space (GOTMPDIR, where it makes `$WORK`) in
    a directory of our own that is removed when the block ends, and the process group
    stopped if it still runs: a go command killed before it could clean up leaves
    nothing behind either."""
    try:
        scratch = tempfile.mkdtemp(prefix="escape-lens-go-", dir=os.environ.get("GOTMPDIR") or None)
    except OSError as exc:
        raise ToolchainError(f"cannot make a temporary directory: {exc.strerror or exc}") from exc
    process = None
    try:
        scratch_env = {**(env or {}), "GOTMPDIR": scratch}
        process = start(argv, stdout=stdout, stderr=stderr, cwd=cwd, env=scratch_env, stdin=stdin)
        yield process
    finally:
        if process is not None:
            stop_group(process)
        shutil.rmtree(scratch, ignore_errors=True)


def signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send `signum` to the process group `process` leads (gone already: nothing to do)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def _leader_exited(pid: int) -> bool:
    """True once the leader has exited; it stays unreaped (WNOWAIT), so its pid, which is
    the group's id, cannot be reused while the group is being swept."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def stop_group(process: subprocess.Popen[bytes], grace: float = STOP_GRACE) -> None:
    """Stop the whole group: SIGINT, up to `grace` seconds, then SIGKILL; reap the leader.

    A leader already reaped finished on its own (go waits for its children), and its
    group id may since belong to someone else: it is left alone."""
    if process.returncode is not None:
        return
    if not _leader_exited(process.pid):
        signal_group(process, signal.SIGINT)
        until = time.monotonic() + grace
        while not _leader_exited(process.pid) and time.monotonic() < until:
            time.sleep(0.02)
    signal_group(process, signal.SIGKILL)
    process.wait()


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion and capture its output as text; `input`, if given, is
    its stdin."""
    pipe = subprocess.PIPE
    stdin = pipe if input is not None else subprocess.DEVNULL
    with running(argv, stdout=pipe, stderr=pipe, cwd=cwd, env=env, stdin=stdin) as process:
        return finish(process, argv, timeout=timeout, check=check, input=input)


def finish(
    process: subprocess.Popen[bytes],
    argv: Sequence[str],
    *,
    timeout: float,
    check: bool = True,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[str]:
    """`run` for a process already started with its output piped (and its stdin, if
    `input` is given): `input` written, then its output read to the end, as text."""
    timeout = deadline(timeout)
    try:
        out, err = process.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        stop_group(process)
        process.communicate()
        raise ToolchainError(f"{shlex.join(argv)} did not finish within {timeout:g} s") from exc
    except BaseException:
        stop_group(process)
        process.communicate()
        raise
    stdout = out.decode("utf-8", "replace")
    stderr = err.decode("utf-8", "replace")
    result = subprocess.CompletedProcess(list(argv), process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        raise failed(argv, result.returncode, stderr or stdout)
    return result


def failed(argv: Sequence[str], code: int, output: str) -> ToolchainError:
    """`go build -o ... failed: <its last line of output>`, one line."""
    detail = output.strip().splitlines()
    last = detail[-1] if detail else f"exit status {code}"
    return ToolchainError(f"{shlex.join(argv[:3])} failed: {last}")
