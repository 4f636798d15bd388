"""Speed and memory of `escape-lens analyze net/http` against a bare `go build` (issue 3).

    .venv/bin/python benchmarks/analyze_nethttp.py [--go PATH] [--format text|json] [--std]

Targets (go1.27.3, dependencies in the build cache): the whole command within 1.3x the
bare `go build -gcflags='net/http=-m=2 -S' net/http` when net/http compiles afresh,
within 2x when the build cache replays it; peak memory of the Python process <= 300 MB.
Each measurement gets its own GOCACHE, warmed with a plain `go build net/http` (and,
for escape-lens, the one-time build of its type-size helper), so the
dependencies are cached and net/http (with the diagnostic flags) is compiled afresh on
the first run and replayed on the second. escape-lens also gets its own, empty cache
directory (ESCAPE_LENS_CACHE): its first run parses net/http's output, the second finds
the result it stored (toolchain/resultcache.py), as a user's second run would.
`--std` also times `escape-lens analyze std`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peak import CHILD, peak_mb

REPO = Path(__file__).resolve().parent.parent
PINNED = Path(sys.prefix) / "lib" / "python3.11" / "site-packages" / "go" / "bin" / "go"


def _env(cache: Path) -> dict[str, str]:
    return dict(
        os.environ,
        GOCACHE=str(cache),
        ESCAPE_LENS_CACHE=str(cache.with_name(cache.name + "-escape-lens")),
        GOTOOLCHAIN="local",
        PYTHONPATH=str(REPO),
    )


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed: {result.stderr[-2000:]}")
    return elapsed, result.stderr


def _warm(go: Path, cache: Path, tool: bool = False) -> None:
    subprocess.run([str(go), "build", "net/http"], env=_env(cache), check=True)
    if tool:  # escape-lens's type-size helper, built once as any second run finds it
        build_helper = (
            "import sys\n"
            "from pathlib import Path\n"
            "from escape_lens.toolchain import read_toolchain\n"
            "from escape_lens.toolchain.typesizes import layout_of\n"
            "layout_of(read_toolchain(Path(sys.argv[1])), 'int')\n"
        )
        subprocess.run(
            [sys.executable, "-c", build_helper, str(go)],
            env=_env(cache),
            check=True,
            capture_output=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--go", default=str(PINNED))
    parser.add_argument("--std", action="store_true")
    parser.add_argument("--format", default="text", choices=("text", "json"))
    args = parser.parse_args()
    go = Path(args.go)
    with tempfile.TemporaryDirectory() as tmp:
        bare_cache, tool_cache = Path(tmp) / "bare", Path(tmp) / "tool"
        _warm(go, bare_cache)
        _warm(go, tool_cache, tool=True)
        bare = [str(go), "build", "-o", os.devnull, "-gcflags=net/http=-m=2 -S", "net/http"]
        tool = [
            sys.executable,
            "-c",
            CHILD,
            "analyze",
            "net/http",
            "--go",
            str(go),
            "--format",
            args.format,
            "-o",
            os.devnull,
        ]
        rows = []
        for label in ("fresh", "cached"):
            bare_s, _ = _timed(bare, _env(bare_cache))
            tool_s, err = _timed(tool, _env(tool_cache))
            rows.append((label, bare_s, tool_s, tool_s / bare_s, peak_mb(err)))
        for label, bare_s, tool_s, ratio, peak in rows:
            print(
                f"{label:6}  bare {bare_s:6.2f} s  escape-lens {tool_s:6.2f} s  "
                f"ratio {ratio:4.2f}  peak {peak:5.0f} MB"
            )
        if args.std:
            std_cache = Path(tmp) / "std"
            std_s, err = _timed(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    "analyze",
                    "std",
                    "--go",
                    str(go),
                    "--format",
                    "json",
                    "-o",
                    os.devnull,
                ],
                _env(std_cache),
            )
            print(f"std     escape-lens {std_s:6.2f} s  peak {peak_mb(err):5.0f} MB")


if __name__ == "__main__":
    main()
