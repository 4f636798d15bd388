"""`analyze`: targets in, a Report out (find Go, compile once, join, predict, fingerprint).

Invariants: one go command compiles all targets (compile_targets); a package that does not
compile becomes a SkippedPackage with the compiler's message and the others are still
reported; BuildError only when nothing at all could be analysed. Sites are sorted by
file, line, column, construct (then entry and type, so equal positions are stable), and
packages by import path, so the same code always gives the same report byte for byte.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from escape_lens import __version__, model
from escape_lens.errors import BuildError
from escape_lens.fingerprint import assign_fingerprints
from escape_lens.records import CompileOutput, Report, Site, SkippedPackage
from escape_lens.sites import join_package
from escape_lens.toolchain import find_go
from escape_lens.toolchain.build import compile_targets
from escape_lens.toolchain.targets import find_go_mod, in_one_module


def site_order(site: Site) -> tuple[str, int, int, str, str, str, str]:
    return (
        site.pos.file,
        site.pos.line,
        site.pos.col,
        site.construct,
        site.entry or "",
        site.type.name if site.type is not None else "",
        site.expr,
    )


def sort_sites(sites: Iterable[Site]) -> list[Site]:
    return sorted(sites, key=site_order)


def report_from_output(output: CompileOutput) -> Report:
    """Join every compiled package of one build; skip (with the reason) those that failed."""
    rules = model.rules_for(output.toolchain.version, output.toolchain.goexperiment)
    sites: list[Site] = []
    packages: list[str] = []
    skipped: list[SkippedPackage] = []
    for package in output.packages:
        if package.error is not None:
            skipped.append(SkippedPackage(package.import_path, package.error.strip()))
            continue
        packages.append(package.import_path)
        sites.extend(join_package(package, rules))
    if not packages:
        if skipped:
            first = skipped[0]
            reason = first.reason.strip().splitlines()[0] if first.reason.strip() else "?"
            more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
            raise BuildError(f"nothing could be analysed: {first.package}: {reason}{more}")
        raise BuildError("nothing could be analysed: the targets contain no Go packages")
    return Report(
        tool_version=__version__,
        toolchain=output.toolchain,
        packages=tuple(sorted(packages)),
        sites=tuple(assign_fingerprints(sort_sites(sites))),
        skipped=tuple(sorted(skipped, key=lambda s: s.package)),
        root=output.root,
    )


def analyze_targets(
    targets: Sequence[str],
    *,
    go: str | None = None,
    tests: bool = False,
    cwd: str | None = None,
) -> Report:
    """Every heap allocation site of the target packages, with the model's predictions."""
    go_binary = find_go(go)
    if cwd is None:
        # `escape-lens analyze ~/src/othermod/...` analyses that module, as if run there.
        found = in_one_module(targets, os.getcwd())
        if found is not None and found[0] != find_go_mod(os.getcwd()):
            cwd, targets = found
    output = compile_targets(go_binary, targets, tests=tests, cwd=cwd)
    return report_from_output(output)
