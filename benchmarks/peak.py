"""The peak memory of a benchmarked escape-lens process, measured in that process.

`CHILD` runs the CLI with the arguments it is given and prints `cpu_s S` (its own CPU
time, user and system, not its children's) and `peak_kb N` last on stderr: VmHWM, the
high-water mark of the process's own memory. ru_maxrss would also count the benchmark
process it was started from (Linux keeps the peak from before exec).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

# As the `escape-lens` program runs (cli.entry): the collector's thresholds, and an exit
# that skips tearing the heap down once everything is flushed.
CHILD = (
    "import atexit, gc, os, sys\n"
    "from escape_lens.cli import _COLLECT_AFTER, main\n"
    "gc.set_threshold(*_COLLECT_AFTER)\n"
    "code = main(sys.argv[1:])\n"
    "import resource\n"
    "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print('cpu_s', usage.ru_utime + usage.ru_stime, file=sys.stderr)\n"
    "hwm = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
    "print('peak_kb', hwm, file=sys.stderr)\n"
    "sys.stdout.flush()\n"
    "sys.stderr.flush()\n"
    "atexit._run_exitfuncs()\n"
    "os._exit(code)\n"
)


def peak_mb(stderr: str) -> float:
    """The peak `CHILD` printed, in MB."""
    line = next(row for row in reversed(stderr.splitlines()) if row.startswith("peak_kb "))
    return int(line.split()[1]) / 1024


def run_child(args: list[str]) -> tuple[float, float, float]:
    """`escape-lens ARGS` in a fresh process: wall seconds, CPU seconds (user + system,
    less sensitive to a busy machine), peak MB."""
    argv = [sys.executable, "-c", CHILD, *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        argv,
        check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, peak_mb(done.stderr)
