"""A usage error (click's) is one line on stderr and exit status 2, as every other error."""

from __future__ import annotations

import pytest

from escape_lens.cli import main


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["analyze", ".", "--top", "-1"], "'--top': -1 is not in the range x>=1"),
        (["analyze", ".", "--path", "bogus"], "'--path': 'bogus' is not one of"),
        (["bogus"], "No such command 'bogus'"),
        (["sizeclass", "-5"], "No such option '-5'"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("escape-lens: error: "), line
    assert says in line, line
    assert line.endswith("--help)")


@pytest.mark.parametrize("command", ["analyze", "check", "baseline"])
@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--tags", "a-b", "--tags: 'a-b' is not a build tag (letters, digits, _ and .)"),
        ("--gcflags", "-l x", "--gcflags: 'x' is not a compiler flag (-l, -N, -d=...)"),
    ],
)
def test_build_options_are_checked_alike_by_every_command_that_builds(
    command: str, option: str, value: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # One declaration (cli/buildopts.py) parses them for all three: the same line, exit 2,
    # before anything is built (no Go is needed to be told).
    assert main([command, option, value, "--go", "/nonexistent/go", "."]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"escape-lens: error: {says}"]
