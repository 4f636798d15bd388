"""A checked-out repository cannot turn its configuration into go flags (issue 13).

`go build` on a checkout never runs a program from it; `escape-lens check` must not
either. Each test plants `pwn.sh`, which would leave a file behind if anything ran it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.hostile_support import Sandbox, make_sandbox, snapshot

pytestmark = pytest.mark.slow

FLAG_MESSAGE = "looks like a flag: targets are Go files, directories or package patterns"


@pytest.fixture
def sandbox(tmp_path: Path, pinned_go: Path) -> Sandbox:
    sandbox = make_sandbox(tmp_path, pinned_go)
    script = sandbox.module / "pwn.sh"
    script.write_text(f'#!/bin/sh\ntouch {sandbox.root / "pwned"}\nexec "$@"\n')
    script.chmod(0o755)
    return sandbox


def _assert_nothing_ran(sandbox: Sandbox) -> None:
    assert not (sandbox.root / "pwned").exists()
    sandbox.assert_clean()


@pytest.mark.parametrize("command", ["check", "baseline"])
def test_a_config_target_that_is_a_flag_is_refused(sandbox: Sandbox, command: str) -> None:
    config = sandbox.module / "escape-lens.toml"
    config.write_text('targets = ["-toolexec=./pwn.sh", "./..."]\n' + config.read_text())
    before = snapshot(sandbox.module)
    outcome = sandbox.run(command)
    outcome.assert_error(2, "escape-lens.toml:", "'-toolexec=./pwn.sh'", FLAG_MESSAGE)
    assert snapshot(sandbox.module) == before
    _assert_nothing_ran(sandbox)


def test_a_pyproject_target_that_is_a_flag_is_refused(sandbox: Sandbox) -> None:
    (sandbox.module / "escape-lens.toml").unlink()
    (sandbox.module / "pyproject.toml").write_text(
        '[tool.escape-lens]\nhot = ["example.com/checkmod/codec.*"]\n'
        'targets = [\n  "./codec",\n  "-exec=./pwn.sh",\n]\n'
    )
    outcome = sandbox.run("check")
    outcome.assert_error(2, "pyproject.toml:5: targets: '-exec=./pwn.sh'", FLAG_MESSAGE)
    _assert_nothing_ran(sandbox)


@pytest.mark.parametrize("command", ["analyze", "check", "baseline"])
def test_a_command_line_target_that_is_a_flag_is_refused(sandbox: Sandbox, command: str) -> None:
    # After `--` click passes anything through as a target.
    outcome = sandbox.run(command, "--", "-toolexec=./pwn.sh")
    outcome.assert_error(2, "'-toolexec=./pwn.sh'", FLAG_MESSAGE)
    _assert_nothing_ran(sandbox)


def test_a_path_that_starts_with_a_dash_is_written_as_a_path(sandbox: Sandbox) -> None:
    (sandbox.module / "codec").rename(sandbox.module / "-codec")
    outcome = sandbox.run("analyze", "--", "-codec")
    outcome.assert_error(2, "'-codec'", "write ./NAME for a path that starts with '-'")
    # Written as a path it reaches go as one, which has its own rule for such names.
    as_path = sandbox.run("analyze", "./-codec")
    as_path.assert_compile_error(
        2,
        {"example.com/checkmod/-codec": 'invalid input directory name "-codec"'},
        'example.com/checkmod/-codec: invalid input directory name "-codec"',
    )
    _assert_nothing_ran(sandbox)


def test_every_go_command_line_ends_its_flags_before_the_targets(sandbox: Sandbox) -> None:
    outcome = sandbox.run("analyze", "./codec", "-v", env={"ESCAPE_LENS_RESULT_CACHE": "off"})
    assert outcome.returncode == 0, outcome.stderr
    commands = [line for line in outcome.stderr.splitlines() if line.startswith("+ ")]
    builds = [c for c in commands if " list " in c or " build " in c]
    assert any(" list -e -export " in c for c in builds), commands
    assert any(" run -- " in c for c in commands), commands  # the typesizes helper
    builds += [c for c in commands if " run " in c]
    for line in builds:
        words = line.split()
        assert "--" in words, line
        assert all(not w.startswith("-") for w in words[words.index("--") + 1 :]), line
    _assert_nothing_ran(sandbox)


def test_goflags_from_the_repository_are_not_read(sandbox: Sandbox) -> None:
    """The environment go sees is the user's: nothing in the checkout sets GOFLAGS (a
    `go.env` beside go.mod is not a go configuration file; only GOROOT's is)."""
    (sandbox.module / "go.env").write_text("GOFLAGS=-toolexec=./pwn.sh\n")
    outcome = sandbox.run("check")
    assert outcome.returncode == 0, outcome.stderr
    _assert_nothing_ran(sandbox)
