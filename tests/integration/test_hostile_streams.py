"""Standard streams and the cache directory in the states CI and shells leave them in
(issue 13): stdout closed, full or gone, an ASCII locale, a relative, read-only or
impossible cache. Each either works or is one line and exit 2; never a traceback.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import fetch_toolchain
from tests.integration.hostile_support import Outcome, Sandbox

pytestmark = pytest.mark.slow

SIZES = [str(size) for size in range(1, 20_001)]  # sizeclass: 20000 lines, no go needed


def test_closed_stdout_is_one_line(sandbox: Sandbox) -> None:
    assert sandbox.run("analyze", "./codec").returncode == 0  # the control: stdout open
    result = sandbox.run_redirected(">&-", "analyze", "./codec", stderr=subprocess.PIPE)
    Outcome(result.returncode, b"", result.stderr.decode()).assert_error(
        2, "escape-lens: error: cannot write to standard output: Bad file descriptor"
    )
    sandbox.assert_clean()


def test_a_full_device_is_one_line(sandbox: Sandbox) -> None:
    with open("/dev/full", "wb") as full:
        outcome = sandbox.run("analyze", "./codec", stdout=full)
    outcome.assert_error(
        2, "escape-lens: error: cannot write to standard output: No space left on device"
    )
    with open("/dev/full", "wb") as full:
        outcome = sandbox.run("sizeclass", *SIZES, stdout=full)
    outcome.assert_error(2, "cannot write to standard output: No space left on device")
    sandbox.assert_clean()


@pytest.mark.parametrize(
    "command", [("sizeclass", *SIZES), ("analyze", "net/http", "--format", "json", "-v")]
)
def test_a_reader_that_goes_away_ends_quietly_with_141(
    sandbox: Sandbox, command: tuple[str, ...]
) -> None:
    """`escape-lens ... | head -1`: 128 + SIGPIPE, nothing on stderr."""
    process = subprocess.Popen(
        sandbox.argv(*command),
        cwd=sandbox.module,
        env=sandbox.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    assert process.stdout.read(1)  # like `head -c 1`: one byte, then the reader is gone
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=600) == 141
    lines = [line for line in err.splitlines() if not line.startswith("+ ")]
    assert lines == [], err
    sandbox.assert_clean()


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "utf-8"])
def test_output_is_utf8_whatever_the_locale(sandbox: Sandbox, encoding: str) -> None:
    plain = sandbox.run("analyze", "./codec")
    assert plain.returncode == 0, plain.stderr
    assert "·".encode() in plain.stdout  # the header's separator is not ASCII
    for format_args in ((), ("--format", "json")):
        expected = sandbox.run("analyze", "./codec", *format_args).stdout
        outcome = sandbox.run(
            "analyze",
            "./codec",
            *format_args,
            env={"PYTHONIOENCODING": encoding, "LC_ALL": "C", "LANG": "C"},
        )
        assert outcome.returncode == 0, outcome.stderr
        assert outcome.stdout == expected
    sandbox.assert_clean()


def test_a_relative_cache_directory_works(sandbox: Sandbox) -> None:
    env = {"ESCAPE_LENS_CACHE": "relcache"}
    first = sandbox.run("analyze", "./codec", "--format", "json", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    assert (sandbox.module / "relcache" / "results").is_dir()
    again = sandbox.run("analyze", "./codec", "--format", "json", env=env)
    assert again.stdout == first.stdout
    sandbox.assert_clean()


def test_an_unusable_cache_directory_only_costs_speed(sandbox: Sandbox) -> None:
    """A cache that is a file, or under /proc (nothing can be made there), or unreadable:
    the results are the same, the cache is skipped without a word."""
    expected = sandbox.run(
        "analyze", "./codec", "--format", "json", env={"ESCAPE_LENS_RESULT_CACHE": "off"}
    )
    assert expected.returncode == 0, expected.stderr
    a_file = sandbox.root / "cache-file"
    a_file.write_text("not a directory\n")
    for cache in (str(a_file), "/proc/self/escape-lens", "/proc/1/escape-lens"):
        for _ in range(2):
            outcome = sandbox.run(
                "analyze", "./codec", "--format", "json", env={"ESCAPE_LENS_CACHE": cache}
            )
            assert outcome.returncode == 0, outcome.stderr
            assert outcome.stderr == ""
            assert outcome.stdout == expected.stdout
    assert a_file.read_text() == "not a directory\n"
    sandbox.assert_clean()


def test_a_helper_that_cannot_be_built_is_an_error_naming_what_is_missing(
    sandbox: Sandbox,
) -> None:
    """The type-size helper's link needs a few MB of disk: with a file size limit (a
    full disk as go sees it) it fails, and sizes would be wrong: exit 2, not a pass.
    go1.21 links it for every run that needs it (from go1.24 `go run` takes it from
    the go build cache, linked once: toolchain/typesizes.py); a first run without the
    limit compiles what the link reads."""
    import resource

    go = str(fetch_toolchain("1.21.13"))
    first = sandbox.run("check", "--go", go, env={"ESCAPE_LENS_RESULT_CACHE": "off"})
    assert first.returncode == 0, first.stderr

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_500_000, 1_500_000))

    result = subprocess.run(
        sandbox.argv("check", "--go", go),
        cwd=sandbox.module,
        env=sandbox.env({"ESCAPE_LENS_RESULT_CACHE": "off"}),
        capture_output=True,
        timeout=600,
        check=False,
        preexec_fn=limit_file_size,  # the test's child only: no threads to mind
    )
    outcome = Outcome(result.returncode, result.stdout, result.stderr.decode())
    outcome.assert_error(2, "cannot size 1 type of other packages (uint8):", "file too large")
    assert result.stdout == b""
    sandbox.assert_clean()


def test_stdin_closed_changes_nothing(sandbox: Sandbox) -> None:
    result = sandbox.run_redirected("<&- 2>&-", "analyze", "./codec", stdout=subprocess.PIPE)
    assert result.returncode == 0
    assert b"example.com/checkmod/codec" in result.stdout
    assert os.path.exists(sandbox.module / "go.mod")
    sandbox.assert_clean()
