"""The build's go command line, and starting it while `go env` still runs.

The command line depends on GOFLAGS as `go env` reports it (the environment's, else
`go env -w`'s): go gives a target package only the last `-gcflags`, so the user's
compiler flags are merged with ours (toolchain/buildflags.py). Asking `go env` first
costs a process's start and run before go can begin its own, which on a warm run is
mostly that. So the command is started at once with the flags the environment's GOFLAGS
alone gives, and `go env` runs meanwhile; when its answers give other flags (GOFLAGS in
go's configuration file), or refuse the toolchain or its architecture, that go command
is stopped (its whole process group, toolchain/process.py) and, if the run goes on, the
right one is started on emptied output files: the run is the one it would have been
without the guess. `.go` file targets are never guessed: which packages they are is
asked with the flags first (filetargets.py).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from escape_lens.errors import ToolchainError, UnsupportedGoError, UsageError
from escape_lens.records import GoToolchain
from escape_lens.toolchain.buildflags import BuildFlags, build_flags
from escape_lens.toolchain.filetargets import as_packages
from escape_lens.toolchain.locate import read_go_env, read_toolchain_and_env
from escape_lens.toolchain.stream import FileProcess
from escape_lens.toolchain.targets import Targets

BUILD_TIMEOUT = 3600.0
# The listings parsers/asm.py reads; others are refused rather than read wrong.
SOURCE_ARCHITECTURES = ("amd64", "arm64")
# (GOMOD, GOENV and GO111MODULE: what the report cache watches, toolchain/watch.py)
_ENV_NAMES = ("GOARCH", "GOFLAGS", "GOWORK", "GOMOD", "GOENV", "GO111MODULE")
_LIST_FIELDS = (
    "ImportPath,Dir,Name,Error,DepsErrors,Module,Standard,TestGoFiles,XTestGoFiles,"
    "Export,BuildID,DepOnly,ForTest"
)


@dataclass(frozen=True, slots=True)
class Launched:
    """The build's go command, running; what `go env` said; the targets as built."""

    toolchain: GoToolchain
    go_env: dict[str, str]
    flags: BuildFlags
    targets: Targets
    command: tuple[str, ...]
    process: FileProcess


@contextlib.contextmanager
def launch(
    go: GoToolchain | Path,
    targets: Targets,
    *,
    workdir: str,
    tests: bool,
    tags: Sequence[str],
    gcflags: Sequence[str],
    stdout: IO[bytes],
    stderr: IO[bytes],
) -> Iterator[Launched]:
    """The go command of the build, started (see above), its output in `stdout` and
    `stderr`; stopped if the block is left while it runs."""
    go_path = go.path if isinstance(go, GoToolchain) else str(go)

    def start(flags: BuildFlags, built: Targets) -> tuple[tuple[str, ...], FileProcess]:
        command = tuple(_build_argv(go_path, built, tests=tests, flags=flags.argv))
        process = FileProcess(
            command,
            stdout=stdout,
            stderr=stderr,
            timeout=BUILD_TIMEOUT,
            cwd=workdir,
            env={"GOFLAGS": flags.goflags, "PWD": workdir},
        )
        return command, process

    with contextlib.ExitStack() as running:
        guess = None if targets.files else _environment_flags(tags, gcflags)
        guessed = None
        if guess is not None:
            with contextlib.suppress(ToolchainError):  # (go env then says what is wrong)
                guessed = start(guess, targets)
                running.enter_context(guessed[1])
        if isinstance(go, GoToolchain):
            toolchain, go_env = go, read_go_env(go_path, workdir, _ENV_NAMES)
        else:  # what the toolchain is and how it is set up here, from one `go env`
            toolchain, go_env = read_toolchain_and_env(go, workdir, _ENV_NAMES)
        check_architecture(go_env["GOARCH"])
        flags = build_flags(go_env, tags=tags, gcflags=gcflags)
        if guessed is None or flags != guess:
            running.close()  # (the guessed command, if any, stopped)
            for output in (stdout, stderr):
                output.seek(0)
                output.truncate()
            env = {"GOFLAGS": flags.goflags, "PWD": workdir}
            targets = as_packages(
                go_path, targets, cwd=workdir, tests=tests, flags=flags.argv, env=env
            )
            guessed = start(flags, targets)
            running.enter_context(guessed[1])
        command, process = guessed
        yield Launched(toolchain, go_env, flags, targets, command, process)


def _environment_flags(tags: Sequence[str], gcflags: Sequence[str]) -> BuildFlags | None:
    """The flags this process's GOFLAGS alone gives (None when they are refused: the run
    then says so after `go env`, as without a guess)."""
    try:
        return build_flags({"GOFLAGS": os.environ.get("GOFLAGS", "")}, tags=tags, gcflags=gcflags)
    except UsageError:
        return None


def check_architecture(goarch: str) -> None:
    if goarch not in SOURCE_ARCHITECTURES:
        raise UnsupportedGoError(
            f"source mode reads amd64 and arm64 listings; GOARCH={goarch} is not supported"
        )


def _build_argv(go: str, targets: Targets, *, tests: bool, flags: Sequence[str]) -> list[str]:
    names = list(targets.files or targets.patterns)
    test = ["-test"] if tests else []
    return [
        go,
        "list",
        "-e",
        "-export",
        "-deps",
        *test,
        f"-json={_LIST_FIELDS}",
        *flags,
        "--",
        *names,
    ]
