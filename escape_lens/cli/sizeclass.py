"""`escape-lens sizeclass`: what the Go allocator does with an object of N bytes.

    escape-lens sizeclass SIZE... [--pointers] [--go VERSION|PATH] [--goexperiment LIST]
                          [--format text|json]
    escape-lens sizeclass --table [--go VERSION|PATH]
    escape-lens sizeclass --verify [SIZE...] [--go PATH]

A size query needs no Go installation: without --go it uses the discovered toolchain's
version, and without any Go the newest rules the model knows (saying so on stderr).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from escape_lens.errors import EXIT_FINDINGS, GoNotFoundError, UsageError
from escape_lens.model import AllocRules, predict, rules_for
from escape_lens.model.explain import explain
from escape_lens.model.rules import NEWEST_KNOWN
from escape_lens.model.sizeclass import class_table, tiny_share
from escape_lens.records import GoToolchain, GoVersion, Prediction
from escape_lens.reporters.json_report import prediction_to_dict
from escape_lens.toolchain import MIN_GO, find_go, read_toolchain

if TYPE_CHECKING:  # --verify's: imported when it runs (start-up of a plain query)
    from escape_lens.model.verify import CaseCheck, Verification

_VERSION_ARG = re.compile(r"^(go)?\d+\.\d+(\.\d+)?((rc|beta)\d+)?$")


def _sizes(values: Sequence[str]) -> list[int]:
    sizes = []
    for value in values:
        text = value.replace("_", "")
        if not text.isdigit():
            raise UsageError(f"not a size in bytes: {value!r} (want a whole number >= 0)")
        sizes.append(int(text))
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
        toolchain = _toolchain(go)
    except GoNotFoundError:
        if go is not None:
            raise
        rules = rules_for(NEWEST_KNOWN, goexperiment)
        _note(f"no Go toolchain found; using the {NEWEST_KNOWN} rules (pass --go VERSION)")
        return rules
    return rules_for(toolchain.version, (*toolchain.goexperiment, *goexperiment))


def _note(message: str) -> None:
    click.echo(f"escape-lens: note: {message}", err=True)


def _rules_line(rules: AllocRules) -> str:
    # Patch releases share their minor version's rules: name the minor version.
    experiments = ",".join(rules.goexperiment)
    name = f"go{rules.version.major}.{rules.version.minor} allocator"
    return name + (f" (GOEXPERIMENT={experiments})" if experiments else "")


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
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: JSON Lines, one object per line.",
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
    table: bool,
    verify_: bool,
) -> int:
    """What the Go runtime's allocator does with an object of SIZE bytes.

    Path (tiny, small, large), size class, malloc header, span class, objects per span
    and the bytes wasted, for the Go version given or found.
    """
    experiments = _experiments(goexperiment)
    if table and verify_:
        raise UsageError("--table and --verify cannot be combined")
    if table:
        if sizes:
            raise UsageError("--table prints every class; give no SIZE with it")
        rules = _rules(go, experiments)
        _print_notes(rules)
        _print_table(rules, output_format)
        return 0
    parsed = _sizes(sizes)
    if verify_:
        if go is not None and _VERSION_ARG.match(go.strip()):
            raise UsageError("--verify runs a Go toolchain: --go must be a path to go")
        from escape_lens.model.verify import DEFAULT_CASES, verify

        cases = [(size, pointers) for size in parsed] if parsed else list(DEFAULT_CASES)
        result = verify(_toolchain(go), cases, experiments)
        _print_notes(result.rules)
        _print_verification(result, output_format)
        return EXIT_FINDINGS if result.mismatched else 0
    if not parsed:
        raise UsageError("give at least one SIZE in bytes (or --table, or --verify)")
    rules = _rules(go, experiments)
    _print_notes(rules)
    predictions = [predict(size, pointers, rules) for size in parsed]
    if output_format == "json":
        for prediction in predictions:
            click.echo(json.dumps(prediction_to_dict(prediction)))
    else:
        click.echo(f"{_rules_line(rules)}:")
        for prediction in predictions:
            click.echo("  " + explain(prediction, pointers, rules))
    return 0


def _print_notes(rules: AllocRules) -> None:
    if rules.note:
        _note(rules.note)


def _print_table(rules: AllocRules, output_format: str) -> None:
    rows = class_table(rules)
    if output_format == "json":
        for row in rows:
            click.echo(json.dumps(asdict(row)))
        return
    reserves = []
    if rules.span_bitmap:
        reserves.append("scan spans of objects <= 512 B keep a 1/64 pointer bitmap")
    if rules.green_tea:
        reserves.append("16..512-byte spans keep 128 B of Green Tea mark bits")
    click.echo(f"{_rules_line(rules)}: size classes, objects per span")
    if reserves:
        click.echo("(" + "; ".join(reserves) + ")")
    click.echo(
        f"{'class':>5} {'bytes':>6} {'pages':>5} {'objs scan':>9} {'objs noscan':>11} "
        f"{'tail waste':>10} {'max waste':>9}"
    )
    for r in rows:
        click.echo(
            f"{r.size_class:>5} {r.class_bytes:>6} {r.span_pages:>5} {r.objects_scan:>9} "
            f"{r.objects_noscan:>11} {r.tail_waste:>10} {r.max_waste_pct:>8.2f}%"
        )
    click.echo(
        f"larger than {rules.max_small_size} B: large objects, own span of whole pages, "
        "span class 0 (scan) / 1 (noscan)"
    )


def _short(p: Prediction) -> str:
    if p.path == "none":
        return "no allocation"
    if p.path == "large":
        return f"large, {p.span_pages} pages ({p.class_bytes} B)"
    header = " +header" if p.header_bytes else ""
    share = ""
    if p.path == "tiny":
        share = f", {tiny_share(p.requested_bytes)} per block"
    return f"{p.path}, {p.class_bytes} B{header}{share}, {p.objects_per_span}/span"


def _check_dict(check: CaseCheck) -> dict[str, object]:
    o = check.observation
    return {
        "case": o.case,
        "size": o.size,
        "pointers": o.pointers,
        "type_size": o.type_size,
        "agrees": check.agrees,
        "problems": list(check.problems),
        "prediction": prediction_to_dict(check.prediction),
        "observed": {
            "n": o.n,
            "classes": {str(k): v for k, v in sorted(o.classes.items())},
            "large": o.large,
            "large_bytes": o.large_bytes,
            "tiny": o.tiny,
            "max_per_page": o.max_per_page,
            "max_blocks_per_page": o.max_blocks_per_page,
            "offsets64": list(o.offsets64),
        },
    }


def _print_verification(result: Verification, output_format: str) -> None:
    if output_format == "json":
        for check in result.checks:
            click.echo(json.dumps(_check_dict(check)))
        return
    experiment = result.goexperiment or "default"
    click.echo(
        f"measured on {result.runtime_version} (GOEXPERIMENT {experiment}, "
        f"{Path(result.toolchain.path)}):"
    )
    for check in result.checks:
        o = check.observation
        kind = "pointers" if o.pointers else "no pointers"
        verdict = "ok     " if check.agrees else "DIFFERS"
        click.echo(
            f"  {verdict} {o.type_size:>6} B {kind:<11}  model: {_short(check.prediction)}"
            f"  runtime: {o.summary()}"
        )
        for problem in check.problems:
            click.echo(f"          {problem}")
    total = len(result.checks)
    click.echo(
        f"{result.matched} of {total} cases agree with the model"
        + ("" if not result.mismatched else f"; {len(result.mismatched)} differ")
    )
