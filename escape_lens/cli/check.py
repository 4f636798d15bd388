"""`escape-lens check`: the CI gate (see escape_lens.gate for what it judges)."""

from __future__ import annotations

import io
import sys

import click

from escape_lens import progress
from escape_lens.cli.buildopts import build_options
from escape_lens.cli.logs import print_to_stderr
from escape_lens.cli.options import progress_options
from escape_lens.cli.output import check_writable, write_output
from escape_lens.errors import EXIT_OK
from escape_lens.gate.run import run_check
from escape_lens.reporters import check_reporter, formats


@click.command("check")
@click.argument("targets", nargs=-1)
@click.option("--config", "config_file", metavar="FILE", help="Configuration file (TOML).")
@click.option("--baseline", "baseline_file", metavar="FILE", help="Baseline to compare against.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(formats("check")),
    default="text",
    show_default=True,
)
@click.option("-o", "--output", metavar="FILE", help="Write the output to FILE.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings (report only).")
@click.option("--go", metavar="PATH", help="The go command to use.")
@build_options
@click.option("-v", "--verbose", is_flag=True, help="Show the commands run.")
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    metavar="FILE",
    help="Heap profile (pprof) to judge hot paths by; repeatable.",
)
@click.option(
    "--hot-share",
    metavar="PCT",
    help="Functions holding at least PCT (e.g. 1%) of the profiled bytes are hot.",
)
@progress_options
def command(
    targets: tuple[str, ...],
    config_file: str | None,
    baseline_file: str | None,
    output_format: str,
    output: str | None,
    exit_zero: bool,
    go: str | None,
    tags: tuple[str, ...],
    gcflags: tuple[str, ...],
    verbose: bool,
    profiles: tuple[str, ...],
    hot_share: str | None,
) -> int:
    """Fail (exit 1) when hot paths gain heap allocations.

    Compares the hot-path allocation sites of TARGETS (default: the config's targets,
    else ./...) with the baseline and the budgets of the configuration. Exit codes: 0
    pass, 1 findings, 2 usage, configuration or toolchain error, or a target package
    that does not compile (its compiler messages on stderr).
    """
    print_to_stderr(verbose)
    inputs = [name for name in (config_file, baseline_file, *profiles) if name]
    if output:
        check_writable(output, inputs)
    with progress.running():
        result = run_check(
            targets,
            config_file=config_file,
            baseline_file=baseline_file,
            go=go,
            tags=tags,
            gcflags=gcflags,
            profiles=profiles,
            hot_share=hot_share,
        )
    reporter = check_reporter(output_format)
    if output:
        buffer = io.StringIO()
        reporter.render_check(result, buffer)
        write_output(buffer.getvalue(), output, [*inputs, *result.inputs])
        if output_format != "text":
            check_reporter("text").render_check(result, sys.stdout)
    else:
        reporter.render_check(result, sys.stdout)
    return EXIT_OK if exit_zero else result.exit_code
