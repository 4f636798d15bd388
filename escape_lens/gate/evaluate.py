"""The gate's rules as a pure function: (report, config, directives, baseline) -> result.

Invariants: nothing here reads files or runs the toolchain; findings are sorted by
position then rule, so every output format is deterministic. See `escape_lens.gate` for
what is judged and `escape_lens.findings` for the rules.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace

from escape_lens.diff import compare, match_sites, path_of
from escape_lens.findings import CheckResult, Finding, Level, describe_site
from escape_lens.gate.config import Config
from escape_lens.gate.directives import Directives
from escape_lens.gate.hotpaths import HotPaths, hot_sites
from escape_lens.gonames import qualified_name, without_type_args
from escape_lens.model.explain import describe_cost
from escape_lens.records import Report, Site, SkippedPackage, SourcePos
from escape_lens.vocab import AllocPath, FindingRule, counted

# What a `none = true` budget says of each site; the findings it supersedes for that site.
_NONE = "must not allocate"
_SUPERSEDED = (FindingRule.NEW_ALLOCATION, FindingRule.GROWN_ALLOCATION)

# Paths whose bytes per call are not a number: a run-time length, nothing, unknown.
_NOT_STATIC = (AllocPath.DYNAMIC, AllocPath.NONE, None)


def not_a_package(skipped: SkippedPackage) -> bool:
    """A directory `./...` reaches whose name is no import path (a space, `<`, invalid
    UTF-8): no go command builds it, so it is not part of the build the gate judges
    (it is named in the result's notes)."""
    return skipped.reason.startswith("malformed import path")


def evaluate(
    report: Report,
    config: Config,
    directives: Directives,
    baseline: Report | None,
    baseline_path: str = "",
) -> CheckResult:
    hot = HotPaths(config, directives)
    judged: list[Site] = []
    accepted: list[Site] = []
    for site in hot_sites(report, hot):
        suppression = directives.suppression_for(site.pos.file, site.pos.line)
        (accepted if suppression is not None and suppression.reason else judged).append(site)
    findings = _suppression_findings(report, directives)
    notes: list[str] = []
    if not (config.hot or config.budgets or directives.hot_functions):
        notes.append(
            "no hot functions: list patterns under `hot` in escape-lens.toml or mark "
            "functions with //escape-lens:hot"
        )
    findings += _unmatched_patterns(report, config, directives)
    notes += [f"skipped {s.package}: {s.reason}" for s in report.skipped if not_a_package(s)]
    if baseline is not None:
        old = [s for s in baseline.sites if s.allocates and hot.is_hot(s)]
        present = _present_functions(report, directives, hot)
        vanished = [s for s in old if hot.function_of(s) not in present]
        findings += _vanished_findings(vanished, report, hot)
        old = [s for s in old if hot.function_of(s) in present]
        findings += _baseline_findings(old, judged, accepted, hot)
        if baseline.toolchain.version.minor_version != report.toolchain.version.minor_version:
            notes.append(
                f"the baseline was made with {baseline.toolchain.version}, this build uses "
                f"{report.toolchain.version}: size classes may differ"
            )
    else:
        notes.append(
            "no baseline: only budgets were checked; run `escape-lens baseline` to record "
            "the current hot-path allocations"
        )
    findings = _one_per_site(findings + _budget_findings(judged, config, hot))
    findings.sort(key=lambda f: (f.pos, f.rule, f.message))
    return CheckResult(
        report=report,
        findings=tuple(findings),
        hot_sites=len(judged),
        baseline=baseline_path if baseline is not None else "",
        notes=tuple(notes),
    )


def _one_per_site(findings: list[Finding]) -> list[Finding]:
    """A site a `none = true` budget forbids is reported by that budget alone (EL003): it
    would also be new or grown against the baseline (EL001/EL002), one cause read twice,
    and accepting it in the baseline would not make the budget pass. The budget's finding
    says that the site is also new or grown."""
    forbidden = {
        id(f.site)
        for f in findings
        if f.rule == FindingRule.BUDGET_EXCEEDED and f.site is not None and _NONE in f.message
    }
    also = {
        id(f.site): "new" if f.rule == FindingRule.NEW_ALLOCATION else "grown"
        for f in findings
        if f.rule in _SUPERSEDED and id(f.site) in forbidden
    }
    kept: list[Finding] = []
    for finding in findings:
        how = also.get(id(finding.site))
        if how is None:
            kept.append(finding)
        elif finding.rule == FindingRule.BUDGET_EXCEEDED and _NONE in finding.message:
            kept.append(
                replace(finding, message=f"{finding.message}; also {how} against the baseline")
            )
        elif finding.rule not in _SUPERSEDED:
            kept.append(finding)
    return kept


def _unmatched_patterns(report: Report, config: Config, directives: Directives) -> list[Finding]:
    """A pattern that names no function of the build is most likely a typo, or names a
    function that was renamed or moved: a gate that silently guards nothing is worse
    than no gate (EL009, at the pattern's line in the configuration)."""
    names = set(directives.declared)
    names.update(qualified_name(s.package, s.function) for s in report.sites)
    patterns = [(p, p.line, f"hot pattern {p.text!r}") for p in config.hot]
    patterns += [(b.pattern, b.line, f"budget pattern {b.pattern.text!r}") for b in config.budgets]
    where = os.path.relpath(config.file, report.root) if config.file and report.root else ""
    severity: Level = "warning" if config.unmatched_patterns == "warning" else "error"
    return [
        Finding(
            FindingRule.UNMATCHED_PATTERN,
            f"{what} matches no function of the checked packages: it guards nothing",
            SourcePos(where or config.path, line, 0),
            severity=severity,
        )
        for pattern, line, what in patterns
        if not any(pattern.matches(name) for name in names)
    ]


def _present_functions(report: Report, directives: Directives, hot: HotPaths) -> set[str]:
    """The functions of the build, as `HotPaths.function_of` names them: declared in a
    compiled file, or holding a site (package initialisers and their closures, which no
    `func` line declares, belong to a package of the build)."""
    present = {hot.function_of(s) for s in report.sites}
    present.update(without_type_args(name) for name in directives.declared)
    for package in report.packages:
        present.update((f"{package}.init", f"{package}.glob."))
    return present


def _vanished_findings(sites: Sequence[Site], report: Report, hot: HotPaths) -> list[Finding]:
    """One EL008 per hot function of the baseline that is not in the build, at its first
    baseline site: its allocations would otherwise read as improvements."""
    by_function: dict[str, list[Site]] = {}
    for site in sites:
        by_function.setdefault(hot.function_of(site), []).append(site)
    findings = []
    for function, gone in sorted(by_function.items()):
        first = min(gone, key=lambda s: s.pos)
        if first.package in report.packages:
            why = (
                f"is no longer declared in {first.package} (renamed, moved, or its file "
                "excluded by a build constraint?)"
            )
        else:
            why = (
                f"is not in the build: package {first.package} is not (excluded by a build "
                "constraint, renamed or moved?)"
            )
        findings.append(
            Finding(
                FindingRule.VANISHED_FUNCTION,
                f"hot function {function} {why}; {counted(len(gone), 'baseline heap site')} "
                "no longer checked; run `escape-lens "
                "baseline` if that is intended",
                first.pos,
                function,
                first,
            )
        )
    return findings


def _suppression_findings(report: Report, directives: Directives) -> list[Finding]:
    lines = {(s.pos.file, s.pos.line) for s in report.sites if s.allocates}
    findings = []
    for suppression in directives.suppressions:
        pos = SourcePos(suppression.file, suppression.line, suppression.col)
        if not suppression.reason:
            findings.append(
                Finding(
                    FindingRule.SUPPRESSION_WITHOUT_REASON,
                    "//escape-lens:allow needs a reason; it accepts nothing",
                    pos,
                )
            )
        elif (suppression.file, suppression.target_line) not in lines:
            findings.append(
                Finding(
                    FindingRule.UNUSED_SUPPRESSION,
                    f"//escape-lens:allow accepts nothing: no heap allocation on line "
                    f"{suppression.target_line}",
                    pos,
                )
            )
    return findings


def _baseline_findings(
    old: Sequence[Site], current: Sequence[Site], accepted: Sequence[Site], hot: HotPaths
) -> list[Finding]:
    # Accepted sites are matched too (they are in the baseline if it was made before the
    # directive), so that accepting a site does not report its baseline entry as gone.
    judged = {id(s) for s in current}
    pairs, only_new, only_old = match_sites(old, [*current, *accepted])
    findings = []
    for site in only_new:
        if id(site) in judged:
            findings.append(
                Finding(
                    FindingRule.NEW_ALLOCATION,
                    f"new heap allocation in hot function {hot.function_of(site)}: "
                    f"{describe_site(site)}, {describe_cost(site)}",
                    site.pos,
                    hot.function_of(site),
                    site,
                )
            )
    for before, after in pairs:
        kind, how = compare(before, after)
        if kind == "grown" and id(after) in judged:
            findings.append(
                Finding(
                    FindingRule.GROWN_ALLOCATION,
                    f"heap allocation grew in hot function {hot.function_of(after)}: "
                    f"{describe_site(after)}, {how}",
                    after.pos,
                    hot.function_of(after),
                    after,
                )
            )
        elif kind == "shrunk":
            findings.append(
                Finding(
                    FindingRule.IMPROVEMENT,
                    f"heap allocation shrank: {describe_site(after)}, {how}",
                    after.pos,
                    hot.function_of(after),
                    after,
                )
            )
    for site in only_old:
        findings.append(
            Finding(
                FindingRule.IMPROVEMENT,
                f"heap allocation gone from {hot.function_of(site)}: {describe_site(site)} "
                f"(was {describe_cost(site)} at line {site.pos.line})",
                site.pos,
                hot.function_of(site),
                site,
            )
        )
    return findings


def _budget_findings(sites: Sequence[Site], config: Config, hot: HotPaths) -> list[Finding]:
    by_function: dict[str, list[Site]] = {}
    for site in sites:
        by_function.setdefault(hot.function_of(site), []).append(site)
    findings = []
    for budget in config.budgets:
        for function, function_sites in sorted(by_function.items()):
            if not budget.pattern.matches(function):
                continue
            ordered = sorted(function_sites, key=lambda s: s.pos)
            where = f"(budget {budget.pattern.text!r}, {config.path}:{budget.line})"
            if budget.none:
                findings += [
                    Finding(
                        FindingRule.BUDGET_EXCEEDED,
                        f"{function} {_NONE}, but {describe_site(s)} does {where}",
                        s.pos,
                        function,
                        s,
                    )
                    for s in ordered
                ]
            if budget.max_sites is not None and len(ordered) > budget.max_sites:
                first = ordered[budget.max_sites]
                findings.append(
                    Finding(
                        FindingRule.BUDGET_EXCEEDED,
                        f"{function} has {counted(len(ordered), 'heap allocation site')}, budget "
                        f"max-sites = {budget.max_sites} {where}",
                        first.pos,
                        function,
                        first,
                    )
                )
            static = [s for s in ordered if path_of(s) not in _NOT_STATIC]
            total = sum(s.class_bytes for s in static)
            if budget.max_bytes is not None and total > budget.max_bytes:
                findings.append(
                    Finding(
                        FindingRule.BUDGET_EXCEEDED,
                        f"{function} allocates {total} B per call in size classes "
                        f"({counted(len(static), 'static site')}), budget max-bytes = "
                        f"{budget.max_bytes} {where}",
                        ordered[0].pos,
                        function,
                        ordered[0],
                    )
                )
            for site in ordered:
                if path_of(site) in budget.forbid:
                    findings.append(
                        Finding(
                            FindingRule.FORBIDDEN_PATH,
                            f"{describe_site(site)} takes the forbidden {path_of(site)} path "
                            f"({describe_cost(site)}) in {function} {where}",
                            site.pos,
                            function,
                            site,
                        )
                    )
    return findings
