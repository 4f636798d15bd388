"""The runner the build uses: output into files, whole lines across batches, deadlines, -v."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from escape_lens.cli.logs import print_to_stderr
from escape_lens.errors import ToolchainError
from escape_lens.toolchain.stream import FileProcess, read_batches


def _run(tmp_path: Path, script: str, timeout: float = 60) -> tuple[int, Path, Path]:
    out, err = tmp_path / "out", tmp_path / "err"
    with (
        out.open("wb") as stdout,
        err.open("wb") as stderr,
        FileProcess(
            [sys.executable, "-c", script], stdout=stdout, stderr=stderr, timeout=timeout
        ) as process,
    ):
        code = process.wait()
    return code, out, err


def test_lines_are_whole_across_batch_boundaries(tmp_path: Path) -> None:
    script = (
        "import sys\nfor i in range(20000): sys.stderr.write(f'line {i} ' + 'x' * (i % 37) + '\\n')"
    )
    code, _, err = _run(tmp_path, script)
    batches = list(read_batches(str(err), size=4096))
    lines = [line for batch in batches for line in batch]
    assert code == 0
    assert len(batches) > 10
    assert len(lines) == 20000
    assert lines[12345] == "line 12345 " + "x" * (12345 % 37)


def test_batches_decode_as_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "text"
    path.write_bytes(("é€😀 x\n" * 500).encode() + b"bad \xff\xe2\x82\n\r\n" * 300 + b"\xc3")
    with path.open(encoding="utf-8", errors="replace", newline="\n") as file:
        expected = file.read().split("\n")
    for size in (1, 7, 4096, 1 << 16):
        assert [line for batch in read_batches(str(path), size) for line in batch] == expected


def test_streams_stay_apart_and_the_last_line_needs_no_newline(tmp_path: Path) -> None:
    script = "import sys; print('out'); sys.stderr.write('err\\nlast'); sys.exit(3)"
    code, out, err = _run(tmp_path, script)
    assert code == 3
    assert out.read_text() == "out\n"
    assert [line for batch in read_batches(str(err)) for line in batch] == ["err", "last"]


def test_a_deadline_kills_the_command_and_its_children_and_says_so(tmp_path: Path) -> None:
    marker = tmp_path / "child-survived"
    child = tmp_path / "child.py"
    child.write_text(f"import time\ntime.sleep(3)\nopen({str(marker)!r}, 'w').close()\n")
    script = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, {str(child)!r}])\n"
        "time.sleep(30)"
    )
    with pytest.raises(ToolchainError, match="did not finish within 1 s"):
        _run(tmp_path, script, timeout=1)
    time.sleep(3.5)
    assert not marker.exists()  # the whole process group went


def test_a_missing_program_is_a_toolchain_error(tmp_path: Path) -> None:
    with (tmp_path / "o").open("wb") as out, pytest.raises(ToolchainError, match="cannot run"):
        FileProcess(["/nonexistent/go"], stdout=out, stderr=out, timeout=5)


def test_verbose_shows_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    print_to_stderr(verbose=True)
    try:
        with (
            (tmp_path / "o").open("wb") as out,
            FileProcess(
                [sys.executable, "-c", "pass"], stdout=out, stderr=out, timeout=60, cwd="/"
            ) as process,
        ):
            assert process.wait() == 0
    finally:
        print_to_stderr(verbose=False)
    assert "-c pass (in /)" in capsys.readouterr().err


def test_leaving_the_block_early_kills_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "finished"
    script = f"import time; time.sleep(3); open({str(marker)!r}, 'w').close()"
    with (
        (tmp_path / "o").open("wb") as out,
        pytest.raises(KeyboardInterrupt),
        FileProcess([sys.executable, "-c", script], stdout=out, stderr=out, timeout=60),
    ):
        raise KeyboardInterrupt  # the user pressed ^C while go ran
    time.sleep(3.5)
    assert not marker.exists()


def test_read_batches_of_a_byte_range(tmp_path: Path) -> None:
    """The parse workers read their blocks with the same reader: lines of [start, end)."""
    text = "".join(f"line {i} ✓\n" for i in range(5000))
    path = tmp_path / "out.txt"
    path.write_text(text, encoding="utf-8")
    data = text.encode()
    start = data.index(b"line 1000 ")
    end = data.index(b"line 4000 ")
    lines = [line for batch in read_batches(str(path), 256, start, end) for line in batch]
    assert lines == [f"line {i} ✓" for i in range(1000, 4000)]
    whole = [line for batch in read_batches(str(path), 256) for line in batch]
    assert whole == text.splitlines()


def test_a_command_that_ended_in_time_is_no_timeout_when_waited_for_late(tmp_path: Path) -> None:
    """A helper started ahead (typesizes.EarlyHelper) is waited for only when needed,
    which may be after its deadline: it finished in time, so its status stands."""
    out = tmp_path / "out"
    with (
        out.open("wb") as stdout,
        FileProcess([sys.executable, "-c", "pass"], stdout=stdout, stderr=stdout, timeout=1) as p,
    ):
        time.sleep(2)
        assert p.wait() == 0
