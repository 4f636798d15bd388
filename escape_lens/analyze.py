"""`analyze`: targets in, a Report out (find Go, compile once, join, predict, fingerprint).

Invariants: one go command compiles all targets (compile_targets); a package that does not
compile becomes a SkippedPackage with the compiler's message and the others are still
reported; BuildError only when nothing at all could be analysed. Sites are sorted by
file, line, column, construct (then entry and type, so equal positions are stable), and
packages by import path, so the same code always gives the same report byte for byte.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence

from escape_lens import __version__
from escape_lens.errors import BuildError
from escape_lens.records import (
    BuildSettings,
    CompileOutput,
    GoToolchain,
    JoinedPackage,
    PackageOutput,
    Report,
    Site,
    SkippedPackage,
)
from escape_lens.toolchain import find_go
from escape_lens.toolchain.build import Built, Stage, build_targets
from escape_lens.toolchain.targets import check_targets, find_go_mod, in_one_module


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


def join_output(toolchain: GoToolchain, package: PackageOutput) -> JoinedPackage:
    """One package's sites in final form: joined, predicted, sorted, fingerprinted.

    Fingerprints number equal sites within their package (their key holds the package),
    and the report's order restricted to one package is the package's own sorted order,
    so a package's final sites do not depend on the others: the result cache keeps them.
    """
    # Imported here: a warm run joins nothing, and need not load the join at all.
    from escape_lens.fingerprint import assign_fingerprints
    from escape_lens.model import rules_for
    from escape_lens.sites import join_package

    if package.error is not None:
        return JoinedPackage(package.import_path, error=package.error)
    rules = rules_for(toolchain.version, toolchain.goexperiment)
    sites = assign_fingerprints(sort_sites(join_package(package, rules)))
    return JoinedPackage(package.import_path, tuple(sites), package.types)


JOIN: Stage[JoinedPackage] = Stage(JoinedPackage, join_output, lambda joined: joined.types)


def report_from_output(output: CompileOutput) -> Report:
    """Join every compiled package of one build; skip (with the reason) those that failed."""
    joined = [join_output(output.toolchain, package) for package in output.packages]
    return report_from_joined(
        output.toolchain, output.root, joined, build=output.build, only_files=output.only_files
    )


def build_failure(failed: Sequence[SkippedPackage], heading: str) -> BuildError:
    """The error of a build whose `failed` packages leave nothing to analyse or judge:
    `heading` (`{package}` names the first) and that package's first message in one line,
    every package's messages for the CLI to show above it."""
    first = failed[0]
    reason = (first.reason.strip().splitlines() or ["?"])[0]
    more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
    return BuildError(
        f"{heading.format(package=first.package)}: {reason}{more}",
        [(s.package, s.reason) for s in failed],
    )


def report_from_joined(
    toolchain: GoToolchain,
    root: str,
    joined: Sequence[JoinedPackage],
    *,
    build: BuildSettings | None = None,
    only_files: Sequence[str] = (),
) -> Report:
    """The report of the packages of one build, each joined (`join_output`)."""
    sites: list[Site] = []
    packages: list[str] = []
    skipped: list[SkippedPackage] = []
    for package in joined:
        if package.error is not None:
            skipped.append(SkippedPackage(package.import_path, package.error.strip()))
            continue
        packages.append(package.import_path)
        sites.extend(package.sites)
    if only_files:
        sites = [site for site in sites if site.pos.file in only_files]
    if not packages:
        if skipped:
            raise build_failure(skipped, "nothing could be analysed: {package}")
        raise BuildError("nothing could be analysed: the targets contain no Go packages")
    return Report(
        tool_version=__version__,
        toolchain=toolchain,
        packages=tuple(sorted(packages)),
        sites=tuple(sort_sites(sites)),
        skipped=tuple(sorted(skipped, key=lambda s: s.package)),
        root=root,
        build=build or BuildSettings(),
    )


def analyze_targets(
    targets: Sequence[str],
    *,
    go: str | None = None,
    tests: bool = False,
    cwd: str | None = None,
    tags: Sequence[str] = (),
    gcflags: Sequence[str] = (),
    while_building: Callable[[], object] | None = None,
    ahead: Callable[[Report], object] | None = None,
    store_beside: bool = False,
) -> Report:
    """Every heap allocation site of the target packages, with the model's predictions;
    `tags` and `gcflags` as toolchain/buildflags.py applies them.

    `while_building` is called while go runs (the CLI imports its reporter meanwhile);
    then `ahead`, with the report the last run's results make if they all still hold
    (the CLI renders it meanwhile). The very object returns when they do. With
    `store_beside` the result cache may still be being written when this returns (by a
    forked process the exit waits for: build_targets)."""
    go_binary = find_go(go)
    if cwd is None:
        # `escape-lens analyze ~/src/othermod/...` analyses that module, as if run there.
        found = in_one_module(targets, os.getcwd())
        if found is not None and found[0] != find_go_mod(os.getcwd()):
            check_targets(targets, os.getcwd())  # (a bad one named as the user wrote it)
            cwd, targets = found
    guessed: list[tuple[Built[JoinedPackage], Report]] = []

    def report_ahead(built: Built[JoinedPackage]) -> None:
        try:
            report = _report(built)
        except BuildError:
            return  # (the run says so itself, if it is still true)
        guessed.append((built, report))
        if ahead is not None:
            ahead(report)

    built = build_targets(
        go_binary,
        targets,
        JOIN,
        tests=tests,
        cwd=cwd,
        tags=tags,
        gcflags=gcflags,
        while_building=while_building,
        ahead=report_ahead if ahead is not None else None,
        store_beside=store_beside,
    )
    if guessed and built is guessed[0][0]:  # (confirmed: build_targets returned the guess)
        return guessed[0][1]
    return _report(built)


def _report(built: Built[JoinedPackage]) -> Report:
    return report_from_joined(
        built.toolchain, built.root, built.results, build=built.build, only_files=built.only_files
    )
