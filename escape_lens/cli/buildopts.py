"""`--tags` and `--gcflags`, shared by the commands that build (analyze, check, baseline)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

_Command = TypeVar("_Command", bound=Callable[..., object])


def build_options(command: _Command) -> _Command:
    """Adds `tags` and `gcflags` (str | None) to the command's parameters."""
    command = click.option(
        "--gcflags",
        metavar="FLAGS",
        help="Extra compiler flags for the targets (e.g. '-l -N'), with escape-lens's own.",
    )(command)
    return click.option(
        "--tags", metavar="TAGS", help="Build tags, comma-separated (as go's -tags)."
    )(command)
