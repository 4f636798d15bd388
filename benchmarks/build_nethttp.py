"""compile_targets on net/http against the bare `go build -gcflags='net/http=-m=2 -S'`.

Run by hand from the repository root:

    .venv/bin/python benchmarks/build_nethttp.py [--go PATH] [--reps 3] [--std]

"Fresh" means net/http itself is compiled again while its dependencies come from the
build cache: each fresh run adds a different `-D=/nonce` to the gcflags (a no-op for a
package that has no local imports, but part of the cache key), for the bare command and
for escape-lens alike. "Cached" repeats the same flags, so the go command replays the
compiler output from the cache. escape-lens runs in a child process (`--one`) so its wall
time includes interpreter start-up and its peak memory (ru_maxrss) is its own. The bare
command's output goes to /dev/null. The machine is shared, so medians of `--reps` runs
are reported, with CPU seconds (user+sys of all processes) next to wall seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GCFLAGS = "-m=2 -S"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bare(go: str, nonce: str) -> tuple[float, float]:
    argv = [go, "build", "-o", os.devnull, f"-gcflags=net/http={GCFLAGS} -D={nonce}", "net/http"]
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run(
        argv,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "GOTOOLCHAIN": "local"},
    )
    return time.perf_counter() - start, children_cpu() - cpu


def ours(go: str, nonce: str, target: str) -> tuple[float, float, dict[str, float]]:
    argv = [sys.executable, __file__, "--one", "--go", go, "--nonce", nonce, target]
    cpu, start = children_cpu(), time.perf_counter()
    result = subprocess.run(
        argv,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    wall = time.perf_counter() - start
    return wall, children_cpu() - cpu, json.loads(result.stdout)


def one(go: str, nonce: str, target: str) -> None:
    """Child mode: one compile_targets, then print its numbers as JSON."""
    from escape_lens.toolchain import build, read_toolchain

    if nonce:
        build.GCFLAGS = f"{build.GCFLAGS} -D={nonce}"
    toolchain = read_toolchain(Path(go))
    start = time.perf_counter()
    output = build.compile_targets(toolchain, [target], cwd=str(REPO))
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "compile_targets_s": elapsed,
                "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "packages": len(output.packages),
                "failed": sum(1 for p in output.packages if p.error),
                "calls": sum(len(p.calls) for p in output.packages),
                "diagnostics": sum(len(p.diagnostics) for p in output.packages),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--go", default=str(Path(sys.prefix) / "lib/python3.11/site-packages/go/bin/go")
    )
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--std", action="store_true", help="also time `std` once (cached deps)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--nonce", default="", help=argparse.SUPPRESS)
    parser.add_argument("target", nargs="?", default="net/http", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.go, args.nonce, args.target)
        return
    # Warm the dependencies and the type-size helper once, outside the measurements.
    ours(args.go, f"/escape-lens-bench-warm-{os.getpid()}", "net/http")
    rows: dict[str, list[tuple[float, float]]] = {k: [] for k in ("bare", "ours")}
    cached: dict[str, list[tuple[float, float]]] = {k: [] for k in ("bare", "ours")}
    memory: list[float] = []
    for rep in range(args.reps):
        nonce_bare = f"/escape-lens-bench-{os.getpid()}-{rep}-bare"
        nonce_ours = f"/escape-lens-bench-{os.getpid()}-{rep}-ours"
        rows["bare"].append(bare(args.go, nonce_bare))
        wall, cpu, numbers = ours(args.go, nonce_ours, "net/http")
        rows["ours"].append((wall, cpu))
        memory.append(numbers["maxrss_mb"])
        cached["bare"].append(bare(args.go, nonce_bare))
        wall, cpu, numbers = ours(args.go, nonce_ours, "net/http")
        cached["ours"].append((wall, cpu))
        memory.append(numbers["maxrss_mb"])
    for label, table in (("fresh", rows), ("cached", cached)):
        bare_wall = statistics.median(w for w, _ in table["bare"])
        ours_wall = statistics.median(w for w, _ in table["ours"])
        bare_cpu = statistics.median(c for _, c in table["bare"])
        ours_cpu = statistics.median(c for _, c in table["ours"])
        print(
            f"net/http {label:6}: bare {bare_wall:6.2f} s wall {bare_cpu:6.2f} s cpu | "
            f"escape-lens {ours_wall:6.2f} s wall {ours_cpu:6.2f} s cpu | "
            f"ratio wall {ours_wall / bare_wall:4.2f} cpu {ours_cpu / bare_cpu:4.2f}"
        )
    print(f"net/http peak memory of escape-lens: {max(memory):.0f} MB (ru_maxrss)")
    if args.std:
        wall, cpu, numbers = ours(args.go, "", "std")
        print(
            f"std: {wall:.1f} s wall, {cpu:.1f} s cpu, peak {numbers['maxrss_mb']:.0f} MB, "
            f"{numbers['packages']:.0f} packages ({numbers['failed']:.0f} failed), "
            f"{numbers['calls']:.0f} calls, {numbers['diagnostics']:.0f} diagnostics"
        )


if __name__ == "__main__":
    main()
