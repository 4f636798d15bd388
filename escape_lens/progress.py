"""A progress line on stderr for runs that take a while, and for nobody else.

Invariants:
- Shown only when a person watches: stderr is a terminal, `CI` is not set, and the user
  did not say `--quiet`; `--progress` asks for it anyway (then, off a terminal, as plain
  lines at most one a second, for CI logs that want it). Never on stdout, so never in a
  report, and never in a pipe unless asked.
- Nothing appears for the first second (`DELAY`): a quick run prints exactly what it
  printed before. After that one line is redrawn in place (`\\r`, erase to end of line)
  a few times a second, by a daemon thread, from the text the work last `set`; the work
  itself never waits for the terminal.
- The line is erased when the run ends (also on an error or an interrupt), so what
  follows on stderr starts on a clean line, as if there never was one.

`set` is an attribute assignment under a lock: callers set the text as often as they
like (per package, per function), and a text may be a callable, asked when drawn (a
count that only the drawing thread needs to compute).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Literal, TextIO

__all__ = ["DELAY", "Progress", "configure", "current", "mode", "running"]

DELAY = 1.0
_REDRAW = 0.2
Mode = Literal["auto", "on", "off"]
_mode: Mode = "auto"
_current: Progress | None = None


def configure(mode: Mode) -> None:
    """`on` for --progress, `off` for --quiet, `auto` otherwise."""
    global _mode
    _mode = mode


def mode() -> Mode:
    return _mode


def _wanted(stream: TextIO) -> bool:
    if _mode != "auto":
        return _mode == "on"
    if os.environ.get("CI"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed
        return False


class Progress:
    """The line of one run; `set` what is being done, the thread draws it."""

    def __init__(self, stream: TextIO, *, terminal: bool) -> None:
        self._stream = stream
        self._terminal = terminal
        self._text: str | Callable[[], str] = ""
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._shown = False
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()

    def set(self, text: str | Callable[[], str]) -> None:
        self._text = text

    def _run(self) -> None:
        if self._done.wait(DELAY):
            return
        interval = _REDRAW if self._terminal else 1.0
        while True:
            self._draw()
            if self._done.wait(interval):
                return

    def _draw(self) -> None:
        text = self._text
        try:
            shown = text() if callable(text) else text
        except OSError:  # a count that failed (the file went away) does not stop the run
            shown = ""
        elapsed = time.monotonic() - self._start
        line = (
            f"escape-lens: {shown} · {elapsed:.0f} s" if shown else f"escape-lens: {elapsed:.0f} s"
        )
        with self._lock:
            if self._done.is_set():
                return
            with contextlib.suppress(OSError, ValueError):
                if self._terminal:
                    self._stream.write("\r" + line[: _columns() - 1] + "\x1b[K")
                else:
                    self._stream.write(line + "\n")
                self._stream.flush()
                self._shown = True

    def clear(self) -> None:
        """Erase the line, so that a message can be written; it comes back at the next draw."""
        with self._lock:
            if self._shown and self._terminal:
                with contextlib.suppress(OSError, ValueError):
                    self._stream.write("\r\x1b[K")
                    self._stream.flush()

    def close(self) -> None:
        with self._lock:
            self._done.set()
            if self._shown and self._terminal:
                with contextlib.suppress(OSError, ValueError):
                    self._stream.write("\r\x1b[K")
                    self._stream.flush()
        self._thread.join()


def _columns() -> int:
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 80
    return max(20, columns) if columns else 80  # a terminal that does not say: 80


class _Silent:
    def set(self, text: str | Callable[[], str]) -> None:
        pass

    def clear(self) -> None:
        pass


def current() -> Progress | _Silent:
    """The running progress line, or one that shows nothing."""
    return _current if _current is not None else _SILENT


_SILENT = _Silent()


@contextlib.contextmanager
def running(stream: TextIO | None = None) -> Iterator[Progress | _Silent]:
    """A progress line for the block, if one is wanted (see the module's invariants)."""
    global _current
    out = sys.stderr if stream is None else stream
    out = getattr(out, "untapped", out)  # (drawn past the report cache's recording)
    if _current is not None or not _wanted(out):
        yield current()
        return
    isatty = getattr(out, "isatty", None)
    progress = Progress(out, terminal=bool(isatty and isatty()))
    _current = progress
    try:
        yield progress
    finally:
        _current = None
        progress.close()
