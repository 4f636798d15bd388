"""`escape-lens baseline`: record the current hot-path allocation sites."""

from __future__ import annotations

import os

import click

from escape_lens import progress
from escape_lens.cli.buildopts import build_options
from escape_lens.cli.logs import print_to_stderr
from escape_lens.cli.options import progress_options
from escape_lens.cli.output import check_writable, write_output
from escape_lens.gate.baseline import render_baseline
from escape_lens.gate.hotpaths import HotPaths, hot_sites
from escape_lens.gate.run import analyse
from escape_lens.reporters.text_layout import counted


@click.command("baseline")
@click.argument("targets", nargs=-1)
@click.option("--config", "config_file", metavar="FILE", help="Configuration file (TOML).")
@click.option(
    "-o",
    "--output",
    "--baseline",
    "output",
    metavar="FILE",
    help="Where to write (default: the config's baseline path).",
)
@click.option("--go", metavar="PATH", help="The go command to use.")
@build_options
@click.option("-v", "--verbose", is_flag=True, help="Show the commands run.")
@progress_options
def command(
    targets: tuple[str, ...],
    config_file: str | None,
    output: str | None,
    go: str | None,
    tags: tuple[str, ...],
    gcflags: tuple[str, ...],
    verbose: bool,
) -> None:
    """Write the hot-path heap allocation sites of TARGETS to the baseline file.

    `escape-lens check` then fails only on sites that are new or grew since.
    """
    print_to_stderr(verbose)
    inputs = [config_file] if config_file else []
    if output is not None:
        check_writable(output, inputs)
    with progress.running():
        analysed = analyse(targets, config_file=config_file, go=go, tags=tags, gcflags=gcflags)
    path = output or analysed.config.baseline_path
    text = render_baseline(analysed.report, analysed.config, analysed.directives)
    write_output(text, path, [*inputs, analysed.config.path])
    hot = HotPaths(analysed.config, analysed.directives)
    count = len(hot_sites(analysed.report, hot))
    shown = os.path.relpath(path)
    if not hot.any_configured():
        click.echo(
            f"escape-lens baseline: nothing is hot, wrote an empty baseline to {shown}: list "
            "patterns under `hot` in escape-lens.toml or mark functions //escape-lens:hot",
            err=True,
        )
    elif count == 0:
        click.echo(
            f"escape-lens baseline: the hot functions do not allocate, wrote an empty "
            f"baseline to {shown}"
        )
    else:
        click.echo(f"escape-lens baseline: wrote {counted(count, 'hot-path heap site')} to {shown}")
