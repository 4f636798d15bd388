"""Binary mode on a large program: `go build -o x cmd/go` with the pinned toolchain.

Run by hand from the repository root (report the numbers in your note):

    .venv/bin/python benchmarks/binary_cmdgo.py [GO]

Budgets (issue 4): the main module's functions in <= 10 s, the whole binary in <= 60 s,
peak memory <= 500 MB. Each measurement runs in a fresh process (`escape-lens analyze
--binary`, JSON to a temporary file), so import time and peak RSS are the real command's.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from peak import run_child

from escape_lens.toolchain import read_toolchain
from escape_lens.toolchain.link import build_binary
from escape_lens.toolchain.locate import _wheel_go

BUDGETS = {"main module": 10.0, "whole binary": 60.0}
MEMORY_BUDGET_MB = 500


def measure(binary: Path, extra: list[str], out: Path) -> tuple[float, int]:
    wall, _, peak = run_child(
        ["analyze", "--binary", str(binary), *extra, "--format", "json", "-o", str(out)]
    )
    return wall, int(peak)


def main() -> int:
    go = Path(sys.argv[1]) if len(sys.argv) > 1 else _wheel_go()
    if go is None:
        print("no Go toolchain: pass the go binary", file=sys.stderr)
        return 2
    toolchain = read_toolchain(go)
    with tempfile.TemporaryDirectory() as tmp:
        binary = build_binary(toolchain, ["cmd/go"], Path(tmp) / "go", cwd=tmp)
        size_mb = binary.stat().st_size / 1e6
        print(f"cmd/go built with {toolchain.version}: {size_mb:.1f} MB")
        failed = False
        for label, extra in (("main module", []), ("whole binary", ["--package", "..."])):
            elapsed, peak = measure(binary, extra, Path(tmp) / "report.json")
            budget = BUDGETS[label]
            print(
                f"{label:>12}: {elapsed:6.2f} s (budget {budget:.0f} s, ratio "
                f"{elapsed / budget:.2f}); peak RSS {peak} MB (budget "
                f"{MEMORY_BUDGET_MB} MB, ratio {peak / MEMORY_BUDGET_MB:.2f})"
            )
            failed |= elapsed > budget or peak > MEMORY_BUDGET_MB
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
