"""The one warning channel: library code logs, the command line prints.

Library code never writes to stderr. Something left out of a result that is still right
(an archive whose inlining trees could not be read) is a warning on
`logging.getLogger("escape_lens")`; each process started is an INFO record on
`escape_lens.commands` (what `-v` shows). A library caller captures or silences them
with `logging`; without any handler Python prints warnings (not commands) as they are.
The CLI prints each on one stderr line (`escape_lens.cli.logs`). What a report itself
holds (packages skipped because they do not compile, the model's note) travels on the
Report, and the CLI prints that too.
"""

from __future__ import annotations

import logging

LOGGER = logging.getLogger("escape_lens")
COMMANDS = logging.getLogger("escape_lens.commands")


def warn(message: str) -> None:
    """A warning: part of the result is missing, what is there is right."""
    LOGGER.warning(message)


def command_started(line: str) -> None:
    """`+ go list ...`: a process escape-lens starts (shown with `-v`)."""
    COMMANDS.info(line)
