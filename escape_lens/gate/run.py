"""`escape-lens check` end to end: find the config, build, scan directives, evaluate.

The orchestration around the pure rules of `escape_lens.gate.evaluate`: this is where
files are read and the toolchain runs. A build in which a target package does not
compile is not judged (BuildError, exit 2): its sites would look gone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace

from escape_lens.analyze import analyze_targets, build_failure
from escape_lens.errors import ConfigError, UsageError
from escape_lens.findings import CheckResult
from escape_lens.gate.baseline import load_baseline
from escape_lens.gate.config import Config, load_config
from escape_lens.gate.directives import Directives, scan_files
from escape_lens.gate.evaluate import evaluate, not_a_package
from escape_lens.gate.profile_hot import with_profile_hot
from escape_lens.records import Report
from escape_lens.toolchain.golist import source_files
from escape_lens.toolchain.targets import check_targets, in_one_module


@dataclass(frozen=True, slots=True)
class Analysed:
    """A build analysed for checking: the report, its config and its source directives."""

    report: Report
    config: Config
    directives: Directives


def analyse(
    targets: Sequence[str],
    *,
    config_file: str | None = None,
    go: str | None = None,
    cwd: str | None = None,
    tags: Sequence[str] = (),
    gcflags: Sequence[str] = (),
    profiles: Sequence[str] = (),
    hot_share: str | None = None,
) -> Analysed:
    """Find the config, build the targets (the config's, or `./...`), scan the directives.

    Targets from the config file are relative to its directory; targets from the command
    line to `cwd`. With heap profiles (`profiles`, else the config's) the report holds
    what they observed, and functions holding `hot_share` of them are hot
    (gate/profile_hot.py).
    """
    here = os.path.abspath(cwd or os.getcwd())
    start = here
    if targets:
        first = targets[0].removesuffix("/...")
        candidate = first if os.path.isabs(first) else os.path.join(here, first)
        if os.path.exists(candidate):
            start = candidate
    config = load_config(config_file, start)
    run_in = here
    if not targets:
        if config.targets:
            targets, run_in = list(config.targets), config.base
        else:
            targets = ["./..."]
    targets = _package_dirs(list(targets), run_in)
    found = in_one_module(targets, run_in)  # go runs in the targets' module
    if found is not None:
        check_targets(targets, run_in)  # (a bad one named as written)
        run_in, targets = found
    report = analyze_targets(
        targets, go=go, tests=config.tests, cwd=run_in, tags=tags, gcflags=gcflags
    )
    failed = [s for s in report.skipped if not not_a_package(s)]
    if failed:
        # A package that did not compile has no sites: judged, its baseline sites would
        # read as improvements. The gate refuses to judge a broken build.
        raise build_failure(failed, "{package} does not compile")
    files = source_files(
        report.toolchain.path, report.packages, cwd=run_in, tests=config.tests, tags=tags
    )
    directives = scan_files(report.root, files)
    report, config = with_profile_hot(report, config, profiles, hot_share)
    return Analysed(report, config, directives)


def _package_dirs(targets: list[str], here: str) -> list[str]:
    """A `.go` file stands for its whole package: the gate judges packages (only the
    file's sites would make the baseline's others read as improvements), and alone it
    would compile as `command-line-arguments`, whose function names match no pattern."""
    result = []
    for target in targets:
        path = os.path.join(here, target)
        result.append(os.path.dirname(os.path.abspath(path)) if _is_go_file(path) else target)
    return result


def _is_go_file(path: str) -> bool:
    return path.endswith(".go") and os.path.isfile(path)


def run_check(
    targets: Sequence[str],
    *,
    config_file: str | None = None,
    baseline_file: str | None = None,
    go: str | None = None,
    cwd: str | None = None,
    tags: Sequence[str] = (),
    gcflags: Sequence[str] = (),
    profiles: Sequence[str] = (),
    hot_share: str | None = None,
) -> CheckResult:
    """`escape-lens check`. The baseline is `--baseline FILE`, else the configuration's
    `baseline`, else the default path. Only the default path may be missing ("budgets
    only": a project that has not made one yet); a named one that is missing, and any
    that exists but cannot be read as a baseline (a directory, a link to /dev/zero, too
    big, not a report), is an error: the gate never passes on a baseline it did not read.
    """
    analysed = analyse(
        targets,
        config_file=config_file,
        go=go,
        cwd=cwd,
        tags=tags,
        gcflags=gcflags,
        profiles=profiles,
        hot_share=hot_share,
    )
    config = analysed.config
    path = baseline_file if baseline_file is not None else config.baseline_path
    shown = os.path.relpath(path, cwd or os.getcwd())
    if shown.startswith(".."):
        shown = os.path.abspath(path)
    baseline = None
    if os.path.lexists(path):
        baseline = load_baseline(path)
    elif baseline_file is not None:
        raise UsageError(f"{baseline_file}: no such baseline file")
    elif config.baseline:
        raise ConfigError(
            f"{shown}: no such baseline file (named by `baseline` in {config.path}; "
            "run `escape-lens baseline` to make it)"
        )
    result = evaluate(analysed.report, analysed.config, analysed.directives, baseline, shown)
    read = tuple(p for p in (analysed.config.path, path if baseline is not None else "") if p)
    return replace(result, inputs=read)
