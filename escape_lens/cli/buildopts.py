"""`--tags` and `--gcflags`, shared by the commands that build (analyze, check, baseline):
declared and checked here, so each command receives them parsed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from escape_lens.toolchain.buildflags import parse_gcflags, parse_tags

_Command = TypeVar("_Command", bound=Callable[..., object])


def build_options(command: _Command) -> _Command:
    """Adds `tags` and `gcflags` (tuple[str, ...], empty when not given) to the command's
    parameters; a malformed value is a UsageError (exit 2) before the command runs."""
    command = click.option(
        "--gcflags",
        metavar="FLAGS",
        callback=lambda _ctx, _param, value: parse_gcflags(value),
        help="Extra compiler flags for the targets (e.g. '-l -N'), with escape-lens's own.",
    )(command)
    return click.option(
        "--tags",
        metavar="TAGS",
        callback=lambda _ctx, _param, value: parse_tags(value),
        help="Build tags, comma-separated (as go's -tags).",
    )(command)
