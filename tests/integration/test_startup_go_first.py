"""`analyze` starts its go command before it loads what only later stages need, so that
loading overlaps go's work (issue 16); a warm text run never loads another format.

The modules are those loaded when the real go list process is started, and at the end
of the run, in an escape-lens process run twice on a small module (the second run warm).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_startup_imports import NOT_BEFORE_GO, NOT_FOR_TEXT, REPO, present

pytestmark = pytest.mark.slow

# Records sys.modules as each process starts and at the end, then runs the CLI.
_DRIVER = """
import json, subprocess, sys
seen = []
start = subprocess.Popen.__init__
def recording(self, args, *rest, **options):
    seen.append([list(map(str, args[:2])), sorted(sys.modules)])
    start(self, args, *rest, **options)
subprocess.Popen.__init__ = recording
from escape_lens.cli import main
code = main(sys.argv[2:])
seen.append([["end"], sorted(sys.modules)])
json.dump(seen, open(sys.argv[1], "w"))
sys.exit(code)
"""

_MAIN = 'package main\n\ntype T struct{ s string }\n\nfunc main() { println(&T{s: "x"}) }\n'


@pytest.fixture
def module(tmp_path: Path) -> Path:
    root = tmp_path / "mod"
    root.mkdir()
    (root / "go.mod").write_text("module example.com/m\n\ngo 1.22\n")
    (root / "main.go").write_text(_MAIN)
    return root


def _run(module: Path, tmp_path: Path, go: Path) -> list[tuple[list[str], set[str]]]:
    out = tmp_path / "seen.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GOCACHE": str(tmp_path / "gocache"),
        "ESCAPE_LENS_CACHE": str(tmp_path / "escape-lens"),
    }
    argv = ["analyze", "./...", "--go", str(go), "-o", str(tmp_path / "report.txt")]
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(out), *argv],
        env=env,
        cwd=module,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [(command, set(modules)) for command, modules in json.loads(out.read_text())]


def test_go_starts_first_and_a_warm_text_run_loads_no_other_format(
    module: Path, tmp_path: Path, pinned_go: Path
) -> None:
    for run in ("cold", "warm"):
        seen = _run(module, tmp_path, pinned_go)
        listing = [modules for command, modules in seen if command[1:] == ["list"]]
        assert len(listing) == 1, f"{run}: {[command for command, _ in seen]}"
        assert present(listing[0], NOT_BEFORE_GO) == [], run
        command, at_end = seen[-1]
        assert command == ["end"]
        assert "escape_lens.reporters.text" in at_end
        assert present(at_end, NOT_FOR_TEXT) == [], run
    # warm: nothing was parsed, joined or sized
    assert present(at_end, ("escape_lens.sites", "escape_lens.parsers.gobuild")) == []
    assert present(at_end, ("escape_lens.toolchain.typesizes",)) == []
