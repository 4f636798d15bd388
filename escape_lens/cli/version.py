"""`escape-lens --version`: the tool, the Go versions its model covers, and the toolchain
`analyze` would use (found as `--go` is by default; named from its files, or by `go env` when
something could make go report otherwise).
"""

from __future__ import annotations

import click

from escape_lens import __version__
from escape_lens.errors import EscapeLensError
from escape_lens.model.rules import NEWEST_KNOWN, OLDEST_KNOWN
from escape_lens.toolchain import find_go
from escape_lens.toolchain.locate import toolchain_version


def _minor(version: object) -> str:
    text = str(version)
    return ".".join(text.split(".")[:2])


def version_text() -> str:
    try:
        toolchain = toolchain_version(find_go(None))
        found = f"{toolchain.version} {toolchain.goos}/{toolchain.goarch} ({toolchain.path})"
    except EscapeLensError as error:
        found = f"none ({error})"
    return "\n".join(
        (
            f"escape-lens {__version__}",
            f"model: {_minor(OLDEST_KNOWN)} to {_minor(NEWEST_KNOWN)} "
            f"(newest release known: {NEWEST_KNOWN})",
            f"toolchain: {found}",
        )
    )


def print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit(0)
