"""The process around a command: its standard streams and the signals that stop it.

Invariants (set up once by the console entry point, `escape_lens.cli.entry`):
- Standard output and error are UTF-8 whatever the locale or PYTHONIOENCODING says:
  the same input gives the same bytes (paths that are not UTF-8 are written as they are
  on stdout, backslash-escaped on stderr).
- A descriptor that was closed at start (`>&-`) is held by /dev/null opened for reading,
  so no file escape-lens opens can land on it; writing the output there fails with one
  line (OutputError, exit 2), like a full disk or /dev/full.
- A reader that goes away (`escape-lens ... | head`) ends the run quietly with 141
  (128 + SIGPIPE, what a shell reports for a program killed by SIGPIPE); whatever is
  still buffered is dropped, so nothing is printed at exit.
- SIGINT, SIGTERM and SIGHUP raise `Interrupted` in the main thread: the stack unwinds,
  every running go command's process group is stopped (SIGINT, grace, SIGKILL), every
  temporary file removed; the run ends with one line and 128 + the signal's number.
  Further signals are ignored while that happens (it is bounded by the grace period).
  A signal whose `Interrupted` Python swallowed (raised in a callback it runs outside
  the program's frames, an import lock's) is still the run's end: `main` reports it the
  same way, and Python's "Exception ignored" traceback is not printed.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING

from escape_lens.errors import Interrupted, OutputError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Descriptor(io.RawIOBase):
    """Writes to a standard descriptor; after one failure it drops everything quietly,
    so that the final flush at exit does not fail a second time."""

    def __init__(self, fd: int, name: str, *, quiet: bool) -> None:
        super().__init__()
        self._fd = fd
        self._name = name
        self._quiet = quiet
        self._failed = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: ReadableBuffer) -> int:
        size = memoryview(data).nbytes
        if self._failed:
            return size
        try:
            return os.write(self._fd, data)
        except OSError as exc:
            self._failed = True
            if self._quiet:
                return size
            if isinstance(exc, BrokenPipeError):
                raise
            raise OutputError(f"cannot write to {self._name}: {exc.strerror or exc}") from exc


def _hold_closed_descriptors() -> None:
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            held = os.open(os.devnull, os.O_RDONLY)
            if held != fd:
                os.dup2(held, fd)
                os.close(held)


def _stream(fd: int, name: str, *, quiet: bool, errors: str) -> io.TextIOWrapper:
    raw = _Descriptor(fd, name, quiet=quiet)
    return io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding="utf-8",
        errors=errors,
        line_buffering=raw.isatty(),
        write_through=quiet,
    )


def prepare_standard_streams() -> None:
    _hold_closed_descriptors()
    sys.stdout = _stream(1, "standard output", quiet=False, errors="surrogateescape")
    sys.stderr = _stream(2, "standard error", quiet=True, errors="backslashreplace")


# The stop signal received, until `main` has reported it: Python swallows an exception
# raised where it runs a callback outside the program's frames (an import lock's, a
# weak reference's), printing "Exception ignored", and the run would go on to exit 0.
_received: list[int] = []


def _stop(signum: int, frame: FrameType | None) -> None:
    for each in STOP_SIGNALS:
        signal.signal(each, signal.SIG_IGN)
    _received.append(signum)
    raise Interrupted(signum)


def swallowed_stop() -> int | None:
    """The stop signal received whose `Interrupted` never reached `main` (None: none)."""
    return _received[0] if _received else None


def _silence_swallowed_stops() -> None:
    """Where Python reports an exception it cannot raise: a swallowed `Interrupted` is
    reported by `main` as any other (one line, 128 + the signal); others as before."""
    previous = sys.unraisablehook

    def report(unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, Interrupted):
            previous(unraisable)

    sys.unraisablehook = report


def handle_stop_signals() -> None:
    _silence_swallowed_stops()
    for signum in STOP_SIGNALS:
        # A signal ignored when we started (nohup, a background job) stays ignored.
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _stop)


def release_stop_signals() -> None:
    """Once the work is done (output written, processes stopped): a stop signal ends the
    process as it ends any other, without an exception in the middle of the exit."""
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is _stop:
            signal.signal(signum, signal.SIG_DFL)


def drop_pending_output() -> None:
    """After a broken pipe or a failed write: what is still buffered goes nowhere."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
