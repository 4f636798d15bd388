"""One exception hierarchy; the CLI turns each into one line on stderr and an exit code
(a BuildError's compiler messages, per package, above that line).

Exit codes (stable, documented in the README):
  0  success (check: no findings)
  1  check/diff: findings
  2  usage, configuration, input or toolchain error
  128+N  stopped by signal N: 129 SIGHUP, 130 SIGINT (^C), 141 SIGPIPE (the reader of
     stdout went away, `| head`), 143 SIGTERM
"""

from __future__ import annotations

from collections.abc import Sequence

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_SIGNAL_BASE = 128


class EscapeLensError(Exception):
    """Base class. `str(error)` is the one line the user sees."""

    exit_code = EXIT_ERROR


class UsageError(EscapeLensError):
    """The command line does not make sense."""


class ToolchainError(EscapeLensError):
    """Go is missing, too old, broken, or a go command failed or timed out."""


class GoNotFoundError(ToolchainError):
    pass


class UnsupportedGoError(ToolchainError):
    pass


class TargetError(EscapeLensError):
    """A target is not a Go file, directory or pattern that matches packages."""


class BuildError(EscapeLensError):
    """Nothing could be analysed (every target package failed to compile), or the gate's
    build is broken. `failures`: (package, the compiler's messages) of the packages that
    failed, which the CLI shows above the error's line, as a partial failure shows them."""

    def __init__(self, message: str, failures: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.failures = tuple(failures)


class BinaryFormatError(EscapeLensError):
    """A file given as a binary is not a readable Go ELF program."""


class ObjectFormatError(EscapeLensError):
    """A compiled package archive (`go list -export`) is not a readable Go object file."""


class ConfigError(EscapeLensError):
    """The configuration file is unreadable or invalid; the message names file and line."""


class ReportFormatError(EscapeLensError):
    """A JSON report or baseline given as input is not one escape-lens wrote."""


class ProfileFormatError(EscapeLensError):
    """A file given as a heap profile is not a readable Go heap profile (pprof)."""


class OutputError(EscapeLensError):
    """Standard output cannot be written (closed, a full disk, /dev/full)."""


class Interrupted(KeyboardInterrupt):
    """A signal asked escape-lens to stop (SIGINT, SIGTERM, SIGHUP): unwinds like ^C, so
    every `with` block stops its process group and removes its temporary files."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
