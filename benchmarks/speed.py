"""escape-lens against the go command doing the same work (issue 16), several runs each.

    .venv/bin/python benchmarks/speed.py [--runs 5] [--std] [--go PATH]

Every figure is a whole process, escape-lens's own peak memory is its VmHWM (peak.py).
Ratios are taken run by run against the bare go command run just before, on the same
caches, and reported as min / median / max (the machine is shared: one run says little).
A bare go command writes its compiler output into a file, as escape-lens has go write
it (before 2026-12-03 it was read through a pipe by this script, which slowed the bare
std replay from ~2.5 s to 11-13 s and made every std ratio look 4x better than it was);
the CPU ratios (user+sys of each whole process tree) say the same with less noise from
other work on the machine:

- net/http warm, per format: `analyze net/http --format F -o /dev/null` with every cache
  hit (the report cache's: no go command runs), against the replay `go build -o
  /dev/null -gcflags='net/http=-m=2 -S' net/http`. Budget 1.3x. Also text with
  ESCAPE_LENS_REPORT_CACHE=off: what a warm run costs when go must be asked (a file
  changed somewhere the build does not care about, say), the result cache hit.
- net/http cold: net/http compiled afresh (a copy of a go cache that holds only its
  dependencies) and escape-lens's cache empty, against the bare build from another copy.
  Budget 1.2x.
- `--std`: std warm (text; also with the report cache off, go asked) against the
  replay `go build -gcflags='-m=2 -S' std` (2x);
  std with an empty result cache and a warm go cache against the same replay (1.5x);
  escape-lens's peak memory on std in every format (300 MB).
- The HTML of net/http: escape-lens's own CPU time (user+sys, not go's), budget 1 s,
  rendered (the report cache off).
- Start-up: `escape-lens --version` and `escape-lens sizeclass 48` against `python -c pass`.

Run from a copy of the tree (`git archive HEAD | tar -x -C DIR`) when editing meanwhile:
the result cache is keyed by escape-lens's own code.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peak import CHILD, peak_mb

REPO = Path(__file__).resolve().parent.parent
FORMATS = ("text", "json", "html", "sarif")


def _go() -> str:
    from escape_lens.toolchain.locate import _wheel_go

    found = _wheel_go()
    return str(found) if found else "go"


def _env(**extra: str) -> dict[str, str]:
    # Bytecode caches on, as a user has them (PYTHONDONTWRITEBYTECODE would compile every
    # module of escape-lens at every start).
    unset = ("ESCAPE_LENS_", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    env.update(GOTOOLCHAIN="local", PYTHONPATH=str(REPO), **extra)
    return env


_cpu: list[float] = [0.0]  # CPU seconds (user+sys) of the last _timed command's process tree


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds and stderr of `argv`; stderr is captured (escape-lens's is a line or
    two: its peak memory). A bare go command's is not: see `_bare`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=REPO)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _cpu[0] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])} failed: {done.stderr[-1500:]}")
    return elapsed, done.stderr


def _bare(argv: list[str], env: dict[str, str], output: Path) -> float:
    """Wall seconds of a bare go command whose compiler output goes into the file
    `output`, as escape-lens has go write it (into a temporary file). Not through a pipe
    into this process: reading std's 824 MB here would slow the bare command down and
    flatter every ratio taken against it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(output, "wb") as sink:
        done = subprocess.run(argv, env=env, stdout=sink, stderr=sink, check=False, cwd=REPO)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _cpu[0] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    output.unlink()
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])} failed")
    return elapsed


def _tool(go: str, *args: str) -> list[str]:
    return [sys.executable, "-c", CHILD, *args, "--go", go, "-o", os.devnull]


def _summary(label: str, values: list[float], budget: float | None = None, unit: str = "") -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    text = f"{label:38} min {low:6.2f}{unit}  median {mid:6.2f}{unit}  max {high:6.2f}{unit}"
    if budget is not None:
        verdict = "met" if high <= budget else "median met" if mid <= budget else "NOT met"
        text += f"   budget {budget}{unit}: {verdict}"
    return text


def nethttp_warm(go: str, runs: int, cache: Path) -> list[str]:
    env = _env(ESCAPE_LENS_CACHE=str(cache))
    bare = [go, "build", "-o", os.devnull, "-gcflags=net/http=-m=2 -S", "net/http"]
    tmp_output = cache.parent / "bare-output"
    asked = {"text, go asked": "text"}  # (the report cache off, the result cache hit)
    kinds = [*FORMATS, *asked]
    envs = dict.fromkeys(FORMATS, env)
    envs |= {kind: {**env, "ESCAPE_LENS_REPORT_CACHE": "off"} for kind in asked}
    for fmt in FORMATS:  # fill the caches
        _timed(_tool(go, "analyze", "net/http", "--format", fmt), env)
    _bare(bare, env, tmp_output)
    ratios: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpu_ratios: dict[str, list[float]] = {kind: [] for kind in kinds}
    times: dict[str, list[float]] = {kind: [] for kind in (*kinds, "bare")}
    for _ in range(runs):
        for fmt in kinds:
            bare_s = _bare(bare, env, tmp_output)
            bare_cpu = _cpu[0]
            argv = _tool(go, "analyze", "net/http", "--format", asked.get(fmt, fmt))
            tool_s, _ = _timed(argv, envs[fmt])
            ratios[fmt].append(tool_s / bare_s)
            cpu_ratios[fmt].append(_cpu[0] / bare_cpu)
            times[fmt].append(tool_s)
            times["bare"].append(bare_s)
    lines = [_summary("net/http bare replay (s)", times["bare"])]
    for fmt in kinds:
        lines.append(_summary(f"net/http warm {fmt} (s)", times[fmt]))
        lines.append(_summary(f"net/http warm {fmt} ratio", ratios[fmt], 1.3))
        lines.append(_summary(f"net/http warm {fmt} cpu ratio", cpu_ratios[fmt]))
    return lines


def _build_helper(go: str, env: dict[str, str]) -> None:
    """The type-size helper run once with env's GOCACHE, as any second run finds it (its
    packages compiled; from go1.24 its executable too, toolchain/typesizes.py), and env's
    ESCAPE_LENS_CACHE made."""
    Path(env["ESCAPE_LENS_CACHE"]).mkdir(parents=True, exist_ok=True)
    helper = "from escape_lens.toolchain.typesizes import layout_of\n"
    helper += "from escape_lens.toolchain import read_toolchain\nfrom pathlib import Path\n"
    helper += f"layout_of(read_toolchain(Path({go!r})), 'int')\n"
    subprocess.run([sys.executable, "-c", helper], env=env, check=True)


def nethttp_cold(go: str, runs: int, tmp: Path) -> list[str]:
    # The dependencies are built once; each run starts from copies, so net/http is
    # compiled afresh and no result is cached.
    template, tool_template = tmp / "deps-only", tmp / "el-helper-only"
    warm = _env(GOCACHE=str(template), ESCAPE_LENS_CACHE=str(tool_template))
    subprocess.run([go, "build", "net/http"], env=warm, check=True)
    _build_helper(go, warm)
    bare = [go, "build", "-o", os.devnull, "-gcflags=net/http=-m=2 -S", "net/http"]
    ratios, cpu_ratios, tool_times, bare_times = [], [], [], []
    for run in range(runs):
        caches = [tmp / f"cold-{run}-{who}" for who in ("bare", "tool")]
        for cache in caches:
            shutil.copytree(template, cache)
        bare_s = _bare(bare, _env(GOCACHE=str(caches[0])), tmp / "bare-output")
        bare_cpu = _cpu[0]
        tool_cache = tmp / f"el-cold-{run}"
        shutil.copytree(tool_template, tool_cache)
        tool_env = _env(GOCACHE=str(caches[1]), ESCAPE_LENS_CACHE=str(tool_cache))
        tool_s, _ = _timed(_tool(go, "analyze", "net/http"), tool_env)
        ratios.append(tool_s / bare_s)
        cpu_ratios.append(_cpu[0] / bare_cpu)
        tool_times.append(tool_s)
        bare_times.append(bare_s)
        for cache in caches:
            shutil.rmtree(cache)
    return [
        _summary("net/http cold bare (s)", bare_times),
        _summary("net/http cold escape-lens (s)", tool_times),
        _summary("net/http cold ratio", ratios, 1.2),
        _summary("net/http cold cpu ratio", cpu_ratios),
    ]


def html_cpu(go: str, runs: int, cache: Path) -> list[str]:
    env = _env(ESCAPE_LENS_CACHE=str(cache), ESCAPE_LENS_REPORT_CACHE="off")
    _timed(_tool(go, "analyze", "net/http", "--format", "html"), env)  # fills the cache
    cpu = []
    for _ in range(runs):
        _, err = _timed(_tool(go, "analyze", "net/http", "--format", "html"), env)
        line = next(r for r in reversed(err.splitlines()) if r.startswith("cpu_s "))
        cpu.append(float(line.split()[1]))
    return [_summary("net/http html, escape-lens cpu (s)", cpu, 1.0)]


def startup(runs: int) -> list[str]:
    base = [sys.executable, "-m", "escape_lens"]
    rows = []
    for label, argv in (
        ("python -c pass (s)", [sys.executable, "-c", "pass"]),
        ("escape-lens --version (s)", [*base, "--version"]),
        ("escape-lens sizeclass 48 (s)", [*base, "sizeclass", "48"]),
    ):
        rows.append(_summary(label, [_timed(argv, _env())[0] for _ in range(runs)]))
    return rows


def std(go: str, runs: int, tmp: Path) -> list[str]:
    warm_cache = tmp / "std-warm"
    env = _env(ESCAPE_LENS_CACHE=str(warm_cache))
    bare = [go, "build", "-gcflags=-m=2 -S", "std"]
    tmp_output = tmp / "bare-output"
    _bare(bare, env, tmp_output)
    helper_only = tmp / "std-helper-only"
    _build_helper(go, _env(ESCAPE_LENS_CACHE=str(helper_only)))
    peaks: dict[str, float] = {}
    for fmt in FORMATS:  # the first fills the result cache; each gives a peak
        _, err = _timed(_tool(go, "analyze", "std", "--format", fmt), env)
        peaks[fmt] = peak_mb(err)
    asked_env = {**env, "ESCAPE_LENS_REPORT_CACHE": "off"}
    warm, empties, warm_cpu, empty_cpu, bare_times = [], [], [], [], []
    asked, asked_cpu = [], []
    for run in range(runs):
        bare_s = _bare(bare, env, tmp_output)
        bare_cpu = _cpu[0]
        bare_times.append(bare_s)
        # The arguments of the first fill run: the report cache's entry is keyed by them.
        tool_s, err = _timed(_tool(go, "analyze", "std", "--format", "text"), env)
        warm.append(tool_s / bare_s)
        warm_cpu.append(_cpu[0] / bare_cpu)
        tool_s, err = _timed(_tool(go, "analyze", "std", "--format", "text"), asked_env)
        asked.append(tool_s / bare_s)
        asked_cpu.append(_cpu[0] / bare_cpu)
        bare_s = _bare(bare, env, tmp_output)
        bare_cpu = _cpu[0]
        empty = tmp / f"std-empty-{run}"
        shutil.copytree(helper_only, empty)  # the helper, as any second run has it
        empty_env = _env(ESCAPE_LENS_CACHE=str(empty))
        tool_s, err = _timed(_tool(go, "analyze", "std"), empty_env)
        empties.append(tool_s / bare_s)
        empty_cpu.append(_cpu[0] / bare_cpu)
        peaks[f"text, empty cache {run}"] = peak_mb(err)
    lines = [
        _summary("std bare replay (s)", bare_times),
        _summary("std warm ratio", warm, 2.0),
        _summary("std warm cpu ratio", warm_cpu),
        _summary("std warm, go asked ratio", asked, 2.0),
        _summary("std warm, go asked cpu ratio", asked_cpu),
        _summary("std empty result cache ratio", empties, 1.5),
        _summary("std empty result cache cpu ratio", empty_cpu),
    ]
    lines += [f"std peak memory, {fmt:28} {mb:6.0f} MB (budget 300)" for fmt, mb in peaks.items()]
    return lines


def _write_bytecode(go: str, cache: Path) -> None:
    """Run each reporter once, so the bytecode caches of a fresh copy of the tree are
    written before anything is measured: the report cache watches escape-lens's own
    package directories, and a run that makes a `__pycache__` in one is not stored."""
    env = _env(ESCAPE_LENS_CACHE=str(cache))
    for fmt in FORMATS:
        _timed(_tool(go, "analyze", "net/http", "--format", fmt), env)
    time.sleep(2.5)  # past the report cache's racy window (a `__pycache__` made is a change)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--std", action="store_true")
    parser.add_argument("--go", default=_go())
    parser.add_argument("--only", choices=("warm", "cold", "html", "startup", "std"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="escape-lens-speed-") as name:
        tmp = Path(name)
        _write_bytecode(args.go, tmp / "el-bytecode")
        parts = {
            "warm": lambda: nethttp_warm(args.go, args.runs, tmp / "el-warm"),
            "html": lambda: html_cpu(args.go, args.runs, tmp / "el-warm"),
            "cold": lambda: nethttp_cold(args.go, args.runs, tmp),
            "startup": lambda: startup(args.runs),
            "std": lambda: std(args.go, max(1, args.runs // 2), tmp),
        }
        for name_, part in parts.items():
            if (args.only and name_ != args.only) or (
                name_ == "std" and not (args.std or args.only)
            ):
                continue
            for line in part():
                print(line, flush=True)


if __name__ == "__main__":
    main()
