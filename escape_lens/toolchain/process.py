"""The one way escape-lens starts a process: with a timeout, and logged (shown with `-v`)."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence

from escape_lens.errors import ToolchainError
from escape_lens.log import command_started

# A toolchain must never switch itself to another (downloaded) version behind our back:
# the version we report is the version that compiled.
_FIXED_ENV = {"GOTOOLCHAIN": "local"}


def go_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(_FIXED_ENV)
    if extra:
        env.update(extra)
    return env


def show_command(argv: Sequence[str], cwd: str | None = None) -> None:
    where = f" (in {cwd})" if cwd else ""
    command_started(f"+ {shlex.join(argv)}{where}")


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion and capture its output as text."""
    show_command(argv, cwd)
    try:
        result = subprocess.run(
            list(argv),
            cwd=cwd,
            env=go_environ(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"{shlex.join(argv)} did not finish within {timeout:.0f} s") from exc
    except OSError as exc:
        raise ToolchainError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        last = detail[-1] if detail else f"exit status {result.returncode}"
        raise ToolchainError(f"{shlex.join(argv[:3])} failed: {last}")
    return result
