"""fixtures/profiled built and run: a real program's allocs profile, every allocation
recorded (shared by the test_profile_* integration tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from escape_lens.toolchain.process import go_environ
from tests.conftest import FIXTURES


@dataclass(frozen=True)
class Profiled:
    module: Path  # the copy of fixtures/profiled (fixtures/constructs beside it)
    program: Path
    profile: Path


def build_and_profile(root: Path, go: Path, calls: int) -> Profiled:
    """Copy the fixtures into `root` (builds never write into the repository), build the
    driver with `go`, run it to call each construct `calls` times and write its profile."""
    for name in ("constructs", "profiled"):
        shutil.copytree(FIXTURES / name, root / name)
    found = Profiled(root / "profiled", root / "profiled.bin", root / "allocs.pprof")
    env = go_environ()
    subprocess.run(
        [str(go), "build", "-o", str(found.program), "."],
        cwd=found.module,
        env=env,
        check=True,
        timeout=600,
    )
    # No collection starts inside a measured call (it would allocate for itself there).
    subprocess.run(
        [str(found.program), str(calls), str(found.profile)],
        env={**os.environ, "GOGC": "off"},
        check=True,
        timeout=300,
    )
    return found


def one_error_line(err: str) -> str:
    """The single `escape-lens: error:` line a bad input gives, never a traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("escape-lens: error: ")
    assert "Traceback" not in err
    return lines[0]
