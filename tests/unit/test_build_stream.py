"""The streaming runner the build uses: whole lines across batches, deadlines, -v."""

from __future__ import annotations

import sys

import pytest

from escape_lens.errors import ToolchainError
from escape_lens.toolchain.process import set_verbose
from escape_lens.toolchain.stream import StreamedProcess


def test_lines_are_whole_across_batch_boundaries() -> None:
    script = (
        "import sys\nfor i in range(20000): sys.stdout.write(f'line {i} ' + 'x' * (i % 37) + '\\n')"
    )
    with StreamedProcess([sys.executable, "-c", script], timeout=60) as process:
        batches = list(process.batches(size=4096))
        code = process.returncode
    lines = [line for batch in batches for line in batch]
    assert code == 0
    assert len(batches) > 10
    assert len(lines) == 20000
    assert lines[12345] == "line 12345 " + "x" * (12345 % 37)


def test_stderr_is_merged_and_the_last_line_needs_no_newline() -> None:
    script = "import sys; print('out'); sys.stdout.flush(); sys.stderr.write('err')"
    with StreamedProcess([sys.executable, "-c", script], timeout=60) as process:
        assert list(process.lines()) == ["out", "err"]


def test_a_deadline_kills_the_command_and_says_so() -> None:
    script = "import time; print('started', flush=True); time.sleep(30)"
    with StreamedProcess([sys.executable, "-c", script], timeout=1) as process:
        lines = process.lines()
        assert next(lines) == "started"
        with pytest.raises(ToolchainError, match="did not finish within 1 s"):
            next(lines)


def test_a_missing_program_is_a_toolchain_error() -> None:
    with pytest.raises(ToolchainError, match="cannot run"):
        StreamedProcess(["/nonexistent/go"], timeout=5)


def test_verbose_shows_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    set_verbose(True)
    try:
        with StreamedProcess([sys.executable, "-c", "pass"], timeout=60, cwd="/") as process:
            list(process.lines())
    finally:
        set_verbose(False)
    assert "-c pass (in /)" in capsys.readouterr().err
