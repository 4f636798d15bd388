"""A usage error (click's) is one line on stderr and exit status 2, as every other error."""

from __future__ import annotations

import signal
import sys

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


def test_a_stop_signal_python_swallows_in_a_callback_still_ends_the_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A signal handled while Python runs a weak reference's or an import lock's callback
    raises there, where Python only prints "Exception ignored": the run still ends as
    stopped, with its one line and 128 + the signal, and no traceback."""
    import gc
    import weakref

    from escape_lens.cli import lifecycle

    monkeypatch.setattr(lifecycle, "_received", [])
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)
    saved = {s: signal.getsignal(s) for s in lifecycle.STOP_SIGNALS}
    try:
        lifecycle.handle_stop_signals()

        class Held:
            pass

        held = Held()
        ref = weakref.ref(held, lambda _: lifecycle._stop(signal.SIGHUP, None))
        del held
        gc.collect()
        assert ref() is None
        assert main(["--version"]) == 128 + signal.SIGHUP
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    err = capsys.readouterr().err
    assert err == "escape-lens: interrupted (SIGHUP)\n"
