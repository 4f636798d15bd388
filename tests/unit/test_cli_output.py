"""-o files are written whole or not at all, keep their mode, and special files stay."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from escape_lens.cli.output import output_stream, write_output
from escape_lens.errors import UsageError


def test_a_new_file_gets_the_usual_mode_and_no_temporary_file_stays(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    write_output("{}\n", str(target))
    assert target.read_text() == "{}\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_an_existing_file_keeps_its_mode_and_is_untouched_by_a_failure(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    target.chmod(0o640)

    def render_and_break() -> None:
        with output_stream(str(target)) as stream:
            stream.write("half a rep")
            raise RuntimeError("the renderer broke")

    with pytest.raises(RuntimeError):
        render_and_break()
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]
    write_output("new\n", str(target))
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_special_files_are_written_in_place(tmp_path: Path) -> None:
    write_output("discarded\n", os.devnull)
    assert Path(os.devnull).exists()
    assert not Path(os.devnull).is_file()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_output("through the pipe\n", str(fifo))
        assert os.read(reader, 100) == b"through the pipe\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_an_unwritable_place_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        write_output("x", str(tmp_path / "missing" / "report.json"))
