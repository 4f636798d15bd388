"""`analyze --bench`: run one package's benchmarks with every allocation recorded.

Invariants:
- The benchmark pattern and the iteration count come from the command line only (never
  from the checked repository or its config), each passed to `go test` as one argument;
  the count must be a fixed `Nx`, so the number of operations is known.
- `go test -run '^$' -bench P -benchtime Nx -count 1 -memprofilerate 1 -memprofile F`:
  tests do not run; every allocation is recorded (except those the runtime never
  records, docs/profiles.md); the profile goes to a private temporary directory.
- Operations are the sum of the N each benchmark result line reports. A classic
  `for i := 0; i < b.N; i++` benchmark also runs once with N=1 first, so its per-op
  figures include that one extra run (at most 1/N too high); `b.Loop` benchmarks do not.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from escape_lens.errors import ToolchainError, UsageError
from escape_lens.toolchain import find_go, run
from escape_lens.toolchain.targets import find_go_mod, in_one_module

BENCH_TIMEOUT = 3600.0
_BENCHTIME_RE = re.compile(r"^[1-9][0-9]{0,9}x$")
_RESULT_RE = re.compile(r"^(Benchmark\S*)\s+(\d+)\s+\S+ ns/op", re.MULTILINE)
# go test's lines around a failure that are not its cause (see `go_test_message`).
_NOT_THE_CAUSE = re.compile(
    r"^(?:FAIL\b|--- FAIL|exit status \d+$|ok\s|\?\s|PASS$|(?:goos|goarch|pkg|cpu): |# |"
    r"Benchmark\S*(?:\s|$))"
)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class BenchRun:
    operations: int
    benchmarks: tuple[tuple[str, int], ...]


def go_test_message(output: str) -> str:
    """The first line of go test's output that says what went wrong: not its summary
    (`FAIL`, `exit status 1`, `ok`), the benchmark header (`goos:`, `pkg:`, ...), a package
    header (`# pkg`) or a benchmark's name; "" when there is none. A bad pattern is the
    test binary's (`testing: invalid regexp for element 0 of -test.bench ...`), a compile
    error go's, a failed benchmark its own line after `--- FAIL:`."""
    for line in output.splitlines():
        text = line.strip()
        if text and not _NOT_THE_CAUSE.match(text):
            return text
    return ""


def check_benchtime(benchtime: str) -> str:
    if not _BENCHTIME_RE.match(benchtime):
        raise UsageError(
            f"--benchtime must be a fixed iteration count like 1000x, not {benchtime!r}"
        )
    return benchtime


def with_bench_profile(
    target: str,
    pattern: str,
    benchtime: str,
    use: Callable[[str, BenchRun], _T],
    *,
    go: str | None = None,
) -> _T:
    """Run the benchmarks of `target` matching `pattern`, call `use(profile_path, run)`."""
    check_benchtime(benchtime)
    go_binary = find_go(go)
    cwd: str | None = None
    targets: Sequence[str] = [target]
    found = in_one_module([target], os.getcwd())
    if found is not None and found[0] != find_go_mod(os.getcwd()):
        cwd, targets = found
    with tempfile.TemporaryDirectory(prefix="escape-lens-bench-") as tmp:
        profile = os.path.join(tmp, "mem.pprof")
        argv = [
            str(go_binary), "test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime,
            "-count", "1", "-memprofilerate", "1", "-memprofile", profile,
            "-o", os.path.join(tmp, "bench.test"), *targets,
        ]  # fmt: skip
        result = run(argv, timeout=BENCH_TIMEOUT, cwd=cwd, check=False)
        if result.returncode != 0:
            said = go_test_message(result.stderr) or go_test_message(result.stdout)
            said = said or f"exit status {result.returncode}"
            raise ToolchainError(f"go test -bench {pattern!r} failed: {said}")
        benchmarks = tuple((name, int(n)) for name, n in _RESULT_RE.findall(result.stdout))
        if not benchmarks or not os.path.exists(profile):
            raise UsageError(f"no benchmark of {target} matches {pattern!r}")
        return use(profile, BenchRun(sum(n for _, n in benchmarks), benchmarks))
