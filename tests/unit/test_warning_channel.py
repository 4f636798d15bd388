"""Library warnings travel on logging ("escape_lens"); the CLI prints them on stderr."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from escape_lens.cli.logs import print_to_stderr
from escape_lens.parsers.inltree import ArchiveInlineTables, FunctionRef
from escape_lens.parsers.positions import Positions
from escape_lens.toolchain.process import show_command


def _unreadable_archive(tmp_path: Path) -> ArchiveInlineTables:
    archive = tmp_path / "pkg.a"
    archive.write_bytes(b"not an archive\n")
    return ArchiveInlineTables(Positions(str(tmp_path), str(tmp_path)), str(archive), "")


def test_a_library_warning_is_a_log_record_not_stderr(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tables = _unreadable_archive(tmp_path)
    # A library caller: no CLI handler on the logger.
    monkeypatch.setattr(logging.getLogger("escape_lens"), "handlers", [])
    with caplog.at_level(logging.WARNING, logger="escape_lens"):
        assert not tables.has(FunctionRef("p.F", "x.go:1"))
        assert not tables.has(FunctionRef("p.G", "x.go:2"))  # said once per archive
    records = [r for r in caplog.records if r.name == "escape_lens"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert records[0].getMessage().startswith("inlining trees not read: ")
    assert str(tmp_path / "pkg.a") in records[0].getMessage()
    assert capsys.readouterr().err == ""


def test_the_cli_prints_warnings_and_with_verbose_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    print_to_stderr(verbose=False)
    show_command(["go", "version"], "/somewhere")
    _unreadable_archive(tmp_path).has(FunctionRef("p.F", "x.go:1"))
    err = capsys.readouterr().err
    assert err.startswith("escape-lens: warning: inlining trees not read: ")
    assert err.count("\n") == 1  # the command is not shown without -v

    print_to_stderr(verbose=True)
    show_command(["go", "version"], "/somewhere")
    assert capsys.readouterr().err == "+ go version (in /somewhere)\n"
    print_to_stderr(verbose=False)
