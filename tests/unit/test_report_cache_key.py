"""The report cache's key has the terminal's width only when the report goes to it."""

from __future__ import annotations

import os
import sys

import pytest

from escape_lens.cli import reportcache


class _Terminal:
    def isatty(self) -> bool:
        return True


def _key_at(width: int, args: list[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(sys, "stdout", _Terminal())
    monkeypatch.setattr("shutil.get_terminal_size", lambda *_: os.terminal_size((width, 40)))
    return reportcache._key(args, reportcache._output_named(args))


def test_the_width_keys_a_report_written_to_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["analyze", "./..."]
    assert _key_at(100, args, monkeypatch) != _key_at(132, args, monkeypatch)


@pytest.mark.parametrize("output", [["-o", "report.txt"], ["--output=report.json"], ["-oa.txt"]])
def test_the_width_does_not_key_a_report_written_to_a_file(
    output: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["analyze", "./...", *output]
    assert _key_at(100, args, monkeypatch) == _key_at(132, args, monkeypatch)
    assert _key_at(100, args, monkeypatch) != _key_at(100, ["analyze", "./..."], monkeypatch)
