"""Options more than one command takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from escape_lens import progress

_Command = TypeVar("_Command", bound=Callable[..., object])


def _quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        progress.configure("off")


def _progress(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and progress.mode() != "off":  # --quiet wins, whatever the order
        progress.configure("on")


def progress_options(command: _Command) -> _Command:
    """`--quiet` and `--progress` (escape_lens/progress.py says when the line shows)."""
    command = click.option(
        "--progress",
        "progress_line",
        is_flag=True,
        expose_value=False,
        callback=_progress,
        help="Show the progress line even when stderr is not a terminal (CI logs).",
    )(command)
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        callback=_quiet,
        help="No progress line on a terminal.",
    )(command)
