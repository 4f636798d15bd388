"""Rendering part of a large report in a forked process, beside this one.

A report of a large build (std: 35 000 sites) takes seconds to render, one site after
another, on one core of a machine whose others are idle once go has ended. A renderer
that can cut its work in two independent parts (the text report's packages, the JSON
sites, the HTML page's lists) hands the later one to `Beside`, renders the first
itself, then takes the later one's result.

Invariants:
- The bytes are those of a serial render: the child runs the very function the parent
  would run (`work`), on the report it inherited by forking, and sends back its return
  value; if the child cannot start, fails or dies, the parent runs `work` itself.
- The child never touches what the parent owns: it writes nothing but its result into
  its own pipe and leaves with `os._exit`, so no buffered output of the parent's (the
  report half written to stdout) is flushed twice and no exit handler runs in it.
- Leaving the block early (an error, an interrupt) kills and reaps the child: nothing
  outlives the run.
- Only where it pays (`worth_forking`): enough sites, more than one core, and
  `ESCAPE_LENS_JOBS` not 1 (the knob of the parallel parse, toolchain/parallel.py);
  only on Linux.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

_T = TypeVar("_T")

# Below this a serial render takes ~0.1 s, about what forking a large heap and sending
# the result back would take away from it.
MIN_SITES = 4000


def worth_forking(sites: int) -> bool:
    """Whether a render of `sites` sites is split between two processes."""
    if sites < MIN_SITES or not sys.platform.startswith("linux"):
        return False  # (macOS's libraries are not safe in a child forked without exec)
    if os.environ.get("ESCAPE_LENS_JOBS", "").strip() == "1":
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cpus or 1) > 1


def split_at(weights: Sequence[int], theirs: float) -> int:
    """The index that leaves about the share `theirs` of the weights' sum after it, so
    that both runs are non-empty when there are two items or more."""
    if len(weights) < 2:
        return len(weights)
    ours, running = sum(weights) * (1 - theirs), 0
    for index, weight in enumerate(weights):
        if running + weight / 2 >= ours:
            return min(max(1, index), len(weights) - 1)
        running += weight
    return len(weights) - 1


class Beside(Generic[_T]):
    """`work()` in a forked child while the parent goes on; `result()` is its value."""

    def __init__(self, work: Callable[[], _T]) -> None:
        self._work = work
        self._pid = 0
        self._pipe = -1
        self._value: _T | None = None
        self._done = False
        self.forked = False  # whether the result came from the child
        try:
            read_end, write_end = os.pipe()
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return
        if pid == 0:
            os.close(read_end)
            _child(work, write_end)  # (never returns)
        os.close(write_end)
        self._pid, self._pipe = pid, read_end

    def result(self) -> _T:
        """The child's return value; `work()` here if it had none to give. Asked again,
        the same value (the work is done once)."""
        if self._done:
            return cast("_T", self._value)
        value: _T | None = None
        if self._pid:
            sent: tuple[str, Any] = ("error", None)
            with contextlib.suppress(Exception):
                sent = pickle.loads(self._collect())
            if sent[0] == "ok":
                value, self.forked = cast("_T", sent[1]), True
        if not self.forked:
            value = self._work()
        self._value, self._done = value, True
        return cast("_T", value)

    def _collect(self) -> bytes:
        chunks = []
        try:
            while chunk := os.read(self._pipe, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self._pipe)
            os.waitpid(self._pid, 0)
            self._pid, self._pipe = 0, -1
        return b"".join(chunks)

    def __enter__(self) -> Beside[_T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pid:  # left before its result was taken
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.close(self._pipe)
            with contextlib.suppress(OSError):
                os.waitpid(self._pid, 0)
            self._pid, self._pipe = 0, -1


def _child(work: Callable[[], _T], pipe: int) -> None:
    """The forked child: run `work`, send its value (or that it failed), and leave."""
    code = 0
    try:
        gc.disable()  # everything it makes lives until it exits
        try:
            data = pickle.dumps(("ok", work()), pickle.HIGHEST_PROTOCOL)
        except BaseException:  # (whatever it was, the parent renders that half itself)
            data, code = pickle.dumps(("error", None)), 1
        view = memoryview(data)
        while view:
            view = view[os.write(pipe, view) :]
    finally:
        os._exit(code)
