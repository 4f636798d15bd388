"""The CLI's end of the warning channel (escape_lens/log.py): one stderr line per record.

Warnings read `escape-lens: warning: MESSAGE`; commands started read `+ COMMAND` and are
printed only with `-v`. The stream is looked up when a record comes, so output captured
by a test or a wrapper gets them in order with everything else on stderr.
"""

from __future__ import annotations

import logging
import sys

from escape_lens import progress
from escape_lens.log import COMMANDS, LOGGER


class _StderrHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.verbose = False

    def emit(self, record: logging.LogRecord) -> None:
        progress.current().clear()  # the line comes back after the message
        if record.name == COMMANDS.name:
            if self.verbose:
                sys.stderr.write(record.getMessage() + "\n")
        elif record.levelno >= logging.WARNING:
            sys.stderr.write(f"escape-lens: warning: {record.getMessage()}\n")


_HANDLER = _StderrHandler()


def print_to_stderr(verbose: bool = False) -> None:
    """Print the library's warnings (and with `verbose` its commands) on stderr."""
    _HANDLER.verbose = verbose
    if _HANDLER not in LOGGER.handlers:
        LOGGER.addHandler(_HANDLER)
    if LOGGER.level == logging.NOTSET or LOGGER.level > logging.INFO:
        LOGGER.setLevel(logging.INFO)
