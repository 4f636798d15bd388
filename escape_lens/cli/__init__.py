"""The command line: a click group whose commands live one per module.

This is the only place that turns errors into exit codes (see `escape_lens.errors`):
an EscapeLensError becomes one line on stderr, never a traceback. The library's warnings
reach stderr through the logging channel the CLI listens to (escape_lens/cli/logs.py).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import importlib.util
import os
import signal
import sys
from collections.abc import Iterable, Sequence

import click

from escape_lens import progress
from escape_lens.cli.lifecycle import (
    drop_pending_output,
    handle_stop_signals,
    prepare_standard_streams,
    release_stop_signals,
    signal_name,
    swallowed_stop,
)
from escape_lens.cli.logs import print_to_stderr
from escape_lens.errors import (
    EXIT_ERROR,
    EXIT_SIGNAL_BASE,
    BuildError,
    EscapeLensError,
    Interrupted,
    OutputError,
)

# command name -> module defining `command`; imported only when that command runs, so
# `escape-lens sizeclass` does not pay for capstone or the HTML reporter.
COMMANDS: dict[str, str] = {
    "analyze": "escape_lens.cli.analyze",
    "baseline": "escape_lens.cli.baseline",
    "check": "escape_lens.cli.check",
    "diff": "escape_lens.cli.diff",
    "sizeclass": "escape_lens.cli.sizeclass",
}


def _available(module_name: str) -> bool:
    return importlib.util.find_spec(module_name) is not None


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:  # (the model's versions and the toolchain's, loaded only when asked)
        from escape_lens.cli.version import print_version

        print_version(ctx, param, value)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, module in COMMANDS.items() if _available(module))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None or not _available(module_name):
            return None
        command = importlib.import_module(module_name).command
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version, the Go versions the model covers and the toolchain found.",
)
def cli() -> None:
    """See every heap allocation in Go code and what the Go runtime does with it.

    Exit codes: 0 success, 1 findings (check, diff) or disagreements (analyze
    --cross-check, sizeclass --verify), 2 usage, input or toolchain error, 128+N stopped
    by signal N (130 ^C, 143 SIGTERM, 141 the reader of stdout went away).
    """


# escape-lens makes hundreds of thousands of records that live until the report is
# written, and few reference cycles: with the default threshold (700) the cycle collector
# walks the growing heap again and again for nothing (~20% of a cold `analyze std`'s CPU,
# the parsing processes' and the report's). Young cycles are still collected.
_COLLECT_AFTER = (100_000, 50, 1000)


def entry() -> None:
    """The `escape-lens` program: streams and signals set up, then `main` (see lifecycle)."""
    gc.set_threshold(*_COLLECT_AFTER)
    prepare_standard_streams()
    handle_stop_signals()
    code = main()
    release_stop_signals()
    # Done: the output is written and flushed (main), every file closed (with blocks),
    # every process stopped. What is left of an ordinary exit is tearing the heap down,
    # object by object: 40-90 ms after a warm `analyze net/http` (its sites, decoded),
    # longer than the rest of the run after go exits. The exit handlers still run
    # (logging's flush; multiprocessing's, which stops parse workers an error left).
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    code = _run(list(sys.argv[1:] if argv is None else argv))
    swallowed = swallowed_stop()
    if swallowed is not None and code != EXIT_SIGNAL_BASE + swallowed:
        # Raised in a callback (an import lock's, a weak reference's), where Python only
        # printed that it ignored it: the run still ends as stopped.
        click.echo(f"escape-lens: interrupted ({signal_name(swallowed)})", err=True)
        return EXIT_SIGNAL_BASE + swallowed
    return code


def _run(args: list[str]) -> int:
    progress.configure("auto")  # until --quiet or --progress says otherwise
    print_to_stderr(verbose=False)  # commands with -v turn the commands on
    try:
        # Commands return their exit code (None means 0): `check` returns 1 on findings.
        # Not `cli.main`: it turns a broken pipe into exit 1 and every interrupt into a
        # bare Abort; those exit codes are ours to give.
        result = None
        if args[:1] == ["analyze"]:
            from escape_lens.cli.reportcache import replay

            result = replay(args)
        if result is None:
            with cli.make_context("escape-lens", args) as context:
                result = cli.invoke(context)
        sys.stdout.flush()  # a full disk or a closed stdout is found here, not at exit
    except BrokenPipeError:
        # The reader went away (`escape-lens ... | head`): not an error of ours; the
        # status a shell gives a program that SIGPIPE stopped.
        drop_pending_output()
        return EXIT_SIGNAL_BASE + signal.SIGPIPE
    except OutputError as error:
        drop_pending_output()
        _error_line(str(error))
        return error.exit_code
    except EscapeLensError as error:
        if isinstance(error, BuildError):
            print_compiler_messages(error.failures)
        _error_line(str(error))
        return error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as error:
        # One line, as every other error: what was wrong, and where help is.
        command = error.ctx.command_path if error.ctx is not None else "escape-lens"
        _error_line(f"{error.format_message()} (see {command} --help)")
        return EXIT_ERROR
    except click.ClickException as error:
        _error_line(error.format_message())
        return EXIT_ERROR
    except click.exceptions.Abort:
        _error_line("aborted")
        return EXIT_SIGNAL_BASE + signal.SIGINT
    except Interrupted as stop:
        click.echo(f"escape-lens: interrupted ({signal_name(stop.signum)})", err=True)
        return EXIT_SIGNAL_BASE + stop.signum
    except KeyboardInterrupt:
        click.echo("escape-lens: interrupted (SIGINT)", err=True)
        return EXIT_SIGNAL_BASE + signal.SIGINT
    return result if isinstance(result, int) else 0


def print_compiler_messages(failures: Iterable[tuple[str, str]], heading: str = "") -> None:
    """What the compiler said of each package that failed (`escape-lens: HEADINGPKG:`,
    its messages indented): `analyze` names the packages it skipped so; when nothing
    could be analysed, or the gate's build is broken, the error's line follows."""
    for package, messages in failures:
        click.echo(f"escape-lens: {heading}{package}:", err=True)
        for line in messages.strip().splitlines():
            click.echo(f"  {line}", err=True)


def _error_line(message: str) -> None:
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    click.echo(f"escape-lens: error: {first}", err=True)
