"""`escape-lens sizeclass`: what the Go allocator does with an object of N bytes.

    escape-lens sizeclass SIZE... [--pointers] [--go VERSION|PATH] [--goexperiment LIST]
                          [--format text|json]
    escape-lens sizeclass --type TYPE... [--go VERSION|PATH] [--format text|json]
    escape-lens sizeclass --table [--go VERSION|PATH]
    escape-lens sizeclass --verify [SIZE...] [--go PATH]

A size query needs no Go installation: without --go it uses the discovered toolchain's
version, and without any Go the newest rules the model knows (saying so on stderr). A
type query lays the type out as the toolchain's compiler does (toolchain/typesizes.py),
so it needs one.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

import click

from escape_lens.errors import EXIT_FINDINGS, GoNotFoundError, UsageError
from escape_lens.model import AllocRules, predict, rules_for
from escape_lens.model.rules import NEWEST_KNOWN
from escape_lens.model.sizeclass import class_table
from escape_lens.records import GoToolchain, GoVersion
from escape_lens.reporters import formats, sizeclass_reporter
from escape_lens.toolchain import MIN_GO, find_go, read_toolchain
from escape_lens.toolchain.locate import toolchain_version

_VERSION_ARG = re.compile(r"^(go)?\d+\.\d+(\.\d+)?((rc|beta)\d+)?$")


# A size as people write it: `48`, `32_768`, `4KiB`, `1 MiB`, `64KB`, `8B` (KB and MB
# are decimal, as the SI units are; KiB and MiB binary).
_SIZE = re.compile(r"^(\d+)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$", re.IGNORECASE)
UNITS = {
    "b": 1,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
}


def _sizes(values: Sequence[str]) -> list[int]:
    sizes = []
    for value in values:
        match = _SIZE.match(value.replace("_", "").strip())
        if match is None:
            raise UsageError(
                f"not a size: {value!r} (want a whole number of bytes, or with a unit: "
                "4KiB, 1MiB, 64KB)"
            )
        sizes.append(int(match.group(1)) * UNITS[(match.group(2) or "b").lower()])
    return sizes


def _experiments(value: str | None) -> tuple[str, ...]:
    return tuple(e.strip() for e in (value or "").split(",") if e.strip())


def _toolchain(go: str | None) -> GoToolchain:
    return read_toolchain(find_go(go))


def _rules(go: str | None, goexperiment: tuple[str, ...]) -> AllocRules:
    """The rules for --go (a version or a go binary), else the discovered toolchain."""
    if go is not None and _VERSION_ARG.match(go.strip()):
        version = GoVersion.parse(go)
        if version < MIN_GO:
            raise UsageError(f"--go {go}: escape-lens supports go1.21 and newer")
        return rules_for(version, goexperiment)
    try:
        toolchain = toolchain_version(find_go(go))
    except GoNotFoundError:
        if go is not None:
            raise
        rules = rules_for(NEWEST_KNOWN, goexperiment)
        _note(f"no Go toolchain found; using the {NEWEST_KNOWN} rules (pass --go VERSION)")
        return rules
    return rules_for(toolchain.version, (*toolchain.goexperiment, *goexperiment))


def _note(message: str) -> None:
    click.echo(f"escape-lens: note: {message}", err=True)


@click.command("sizeclass")
@click.argument("sizes", nargs=-1, metavar="SIZE...")
@click.option("--pointers", is_flag=True, help="The object's type holds pointers (scan).")
@click.option(
    "--go", "go", metavar="VERSION|PATH", help="A Go version (1.22, go1.22.10) or binary."
)
@click.option("--goexperiment", metavar="LIST", help="GOEXPERIMENT modifiers, comma-separated.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(formats("sizeclass")),
    default="text",
    show_default=True,
    help="json: JSON Lines, one object per line.",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="A Go type ('struct{ a int64; b []byte }', '[8]*bytes.Buffer'): its size and "
    "pointers by the target's layout. Repeatable.",
)
@click.option("--table", is_flag=True, help="Print the whole size-class table for the version.")
@click.option(
    "--verify",
    "verify_",
    is_flag=True,
    help="Measure the sizes (default: every boundary) on the Go runtime and compare.",
)
def command(
    sizes: tuple[str, ...],
    pointers: bool,
    go: str | None,
    goexperiment: str | None,
    output_format: str,
    types: tuple[str, ...],
    table: bool,
    verify_: bool,
) -> int:
    """What the Go runtime's allocator does with an object of SIZE bytes.

    Path (tiny, small, large), size class, malloc header, span class, objects per span
    and the bytes wasted, for the Go version given or found.
    """
    experiments = _experiments(goexperiment)
    reporter = sizeclass_reporter(output_format)
    if table and verify_:
        raise UsageError("--table and --verify cannot be combined")
    if types:
        if sizes or pointers or table or verify_:
            raise UsageError(
                "--type gives the size and pointers: no SIZE, --pointers, --table or "
                "--verify with it"
            )
        return _types(types, go, experiments, output_format)
    if table:
        if sizes:
            raise UsageError("--table prints every class; give no SIZE with it")
        rules = _rules(go, experiments)
        _print_notes(rules)
        reporter.render_table(rules, class_table(rules), sys.stdout)
        return 0
    parsed = _sizes(sizes)
    if verify_:
        if go is not None and _VERSION_ARG.match(go.strip()):
            raise UsageError("--verify runs a Go toolchain: --go must be a path to go")
        # Imported here, as the type-size helper in _types: a size query loads neither.
        from escape_lens.model.verify import DEFAULT_CASES, verify

        cases = [(size, pointers) for size in parsed] if parsed else list(DEFAULT_CASES)
        result = verify(_toolchain(go), cases, experiments)
        _print_notes(result.rules)
        reporter.render_verification(result, sys.stdout)
        return EXIT_FINDINGS if result.mismatched else 0
    if not parsed:
        raise UsageError("give at least one SIZE in bytes (or --table, or --verify)")
    rules = _rules(go, experiments)
    _print_notes(rules)
    predictions = [predict(size, pointers, rules) for size in parsed]
    reporter.render_predictions(rules, pointers, predictions, sys.stdout)
    return 0


def _types(types: Sequence[str], go: str | None, experiments: tuple[str, ...], fmt: str) -> int:
    """Each type laid out by a toolchain (the one --go names, else the one found: the
    layout rules of the gc compiler are those of every supported version)."""
    rules = _rules(go, experiments)
    versioned = go is not None and _VERSION_ARG.match(go.strip())
    toolchain = _toolchain(None if versioned else go)
    _print_notes(rules)
    from escape_lens.toolchain.typesizes import layout_of

    laid_out = []
    for written in types:
        info = layout_of(toolchain, written)
        laid_out.append((info, predict(info.size, info.ptrbytes > 0, rules)))
    platform = f"{toolchain.goos}/{toolchain.goarch}"
    sizeclass_reporter(fmt).render_types(rules, platform, laid_out, sys.stdout)
    return 0


def _print_notes(rules: AllocRules) -> None:
    if rules.note:
        _note(rules.note)
