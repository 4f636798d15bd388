"""The CI gate: hot-path allocation sites against a baseline and budgets -> findings.

Invariants:
- Only *hot* sites are judged: sites that allocate, in a function matched by a `hot`
  pattern or a budget's pattern, or marked `//escape-lens:hot` in source (closures count
  as their enclosing function). Everything else in the build is ignored.
- A site accepted by `//escape-lens:allow <reason>` is not judged at all: it is neither
  new nor grown, and does not count against a budget.
- With a baseline, a hot site the baseline lacks is new (EL001) and a matched site that
  costs more per execution grew (EL002); sites gone or cheaper are improvements (EL007,
  a note). Matching is `escape_lens.diff.match_sites` (fingerprints, not lines). Without
  a baseline file only budgets are checked, and the result says how to make one.
- Budgets apply to each matching function on its own (EL003, EL004).
- The result is a pure function of (report, config, directives, baseline); findings are
  sorted by position then rule, so every output format is deterministic.
- Exit code: 1 if any finding has level `error`, else 0 (warnings and notes never fail).
  A build in which a target package does not compile is not judged (BuildError, exit 2):
  its sites would look gone.

Rule ids are stable; `RULES` is the one list of them (SARIF, docs and tests read it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from escape_lens.config import Config, enclosing_names, qualified_name
from escape_lens.diff import compare, describe_cost, match_sites, path_of
from escape_lens.directives import Directives
from escape_lens.errors import EXIT_FINDINGS, EXIT_OK, BuildError
from escape_lens.records import Report, Site, SourcePos
from escape_lens.toolchain.targets import in_one_module

Level = Literal["error", "warning", "note"]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    level: Level
    summary: str
    help: str


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "EL000",
            "heap-allocation",
            "note",
            "A heap allocation site.",
            "Reported by `escape-lens analyze --format sarif|github`: every site that "
            "allocates on the heap, with what the Go runtime does with it.",
        ),
        Rule(
            "EL001",
            "new-allocation",
            "error",
            "A hot function has a heap allocation the baseline does not.",
            "Remove the allocation (keep the value on the stack, reuse a buffer), accept it "
            "with `//escape-lens:allow <reason>` on or above the line, or run "
            "`escape-lens baseline` to accept the current state.",
        ),
        Rule(
            "EL002",
            "grown-allocation",
            "error",
            "A hot-path allocation costs more per execution than in the baseline.",
            "The site now takes a bigger size class, more bytes, or a more expensive path "
            "(tiny < small < dynamic < large). Shrink the type or accept it with "
            "`escape-lens baseline`.",
        ),
        Rule(
            "EL003",
            "budget-exceeded",
            "error",
            "A hot function exceeds its allocation budget.",
            "The function has more heap sites (max-sites) or more size-class bytes per "
            "call (max-bytes) than its [[budget]] allows, or allocates at all while its "
            "budget says none = true.",
        ),
        Rule(
            "EL004",
            "forbidden-path",
            "error",
            "A hot-path allocation takes an allocator path its budget forbids.",
            "The budget's `forbid` list names this path (e.g. `large`: a dedicated span "
            "per object, zeroed memory, a trip to the heap lock).",
        ),
        Rule(
            "EL005",
            "unused-suppression",
            "warning",
            "An `//escape-lens:allow` directive accepts no allocation site.",
            "Nothing allocates on the line it covers (its own line if after code, else the "
            "next non-comment line): remove it.",
        ),
        Rule(
            "EL006",
            "suppression-without-reason",
            "error",
            "An `//escape-lens:allow` directive gives no reason.",
            "Write why the allocation is acceptable after the directive: "
            "`//escape-lens:allow once per request`. Without a reason it accepts nothing.",
        ),
        Rule(
            "EL007",
            "improvement",
            "note",
            "A baseline allocation is gone or costs less.",
            "Run `escape-lens baseline` to lock the improvement in.",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    message: str
    pos: SourcePos
    function: str = ""
    site: Site | None = None

    @property
    def level(self) -> Level:
        return RULES[self.rule].level


@dataclass(frozen=True, slots=True)
class CheckResult:
    """report: the analysed build; baseline: the file compared against ("" for none)."""

    report: Report
    findings: tuple[Finding, ...]
    hot_sites: int
    baseline: str = ""
    notes: tuple[str, ...] = ()

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.errors else EXIT_OK


class HotPaths:
    """Decides which functions are hot, from the config and the source directives."""

    def __init__(self, config: Config, directives: Directives) -> None:
        self.config = config
        self.marked = directives.hot_functions

    def function_of(self, site: Site) -> str:
        """The site's function as patterns see it: qualified, enclosing, no type args."""
        return enclosing_names(qualified_name(site.package, site.function))[-1]

    def is_hot(self, site: Site) -> bool:
        name = qualified_name(site.package, site.function)
        if self.config.is_hot_name(name):
            return True
        return any(n in self.marked for n in enclosing_names(name))


def hot_sites(report: Report, hot: HotPaths) -> list[Site]:
    return [s for s in report.sites if s.allocates and hot.is_hot(s)]


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
    notes += _unmatched_patterns(report, config, directives)
    if baseline is not None:
        old = [s for s in baseline.sites if s.allocates and hot.is_hot(s)]
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
    findings += _budget_findings(judged, config, hot)
    findings.sort(key=lambda f: (f.pos, f.rule, f.message))
    return CheckResult(
        report=report,
        findings=tuple(findings),
        hot_sites=len(judged),
        baseline=baseline_path if baseline is not None else "",
        notes=tuple(notes),
    )


def _unmatched_patterns(report: Report, config: Config, directives: Directives) -> list[str]:
    """A pattern that names no function of the build is most likely a typo: a gate that
    silently guards nothing is worse than no gate, so say so."""
    names = set(directives.declared)
    names.update(qualified_name(s.package, s.function) for s in report.sites)
    patterns = [(p, f"hot pattern {p.text!r}") for p in config.hot]
    patterns += [(b.pattern, f"budget pattern {b.pattern.text!r}") for b in config.budgets]
    return [
        f"{what} ({config.path}) matches no function of the checked packages"
        for pattern, what in patterns
        if not any(pattern.matches(name) for name in names)
    ]


def _suppression_findings(report: Report, directives: Directives) -> list[Finding]:
    lines = {(s.pos.file, s.pos.line) for s in report.sites if s.allocates}
    findings = []
    for suppression in directives.suppressions:
        pos = SourcePos(suppression.file, suppression.line, suppression.col)
        if not suppression.reason:
            findings.append(
                Finding("EL006", "//escape-lens:allow needs a reason; it accepts nothing", pos)
            )
        elif (suppression.file, suppression.target_line) not in lines:
            findings.append(
                Finding(
                    "EL005",
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
                    "EL001",
                    f"new heap allocation in hot function {hot.function_of(site)}: "
                    f"{_what(site)}, {describe_cost(site)}",
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
                    "EL002",
                    f"heap allocation grew in hot function {hot.function_of(after)}: "
                    f"{_what(after)}, {how}",
                    after.pos,
                    hot.function_of(after),
                    after,
                )
            )
        elif kind == "shrunk":
            findings.append(
                Finding(
                    "EL007",
                    f"heap allocation shrank: {_what(after)}, {how}",
                    after.pos,
                    hot.function_of(after),
                    after,
                )
            )
    for site in only_old:
        findings.append(
            Finding(
                "EL007",
                f"heap allocation gone from {hot.function_of(site)}: {_what(site)} "
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
                        "EL003",
                        f"{function} must not allocate, but {_what(s)} does {where}",
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
                        "EL003",
                        f"{function} has {len(ordered)} heap allocation sites, budget "
                        f"max-sites = {budget.max_sites} {where}",
                        first.pos,
                        function,
                        first,
                    )
                )
            static = [s for s in ordered if path_of(s) not in ("dynamic", "none")]
            total = sum(s.class_bytes for s in static)
            if budget.max_bytes is not None and total > budget.max_bytes:
                findings.append(
                    Finding(
                        "EL003",
                        f"{function} allocates {total} B per call in size classes "
                        f"({len(static)} static sites), budget max-bytes = "
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
                            "EL004",
                            f"{_what(site)} takes the forbidden {path_of(site)} path "
                            f"({describe_cost(site)}) in {function} {where}",
                            site.pos,
                            function,
                            site,
                        )
                    )
    return findings


def _what(site: Site) -> str:
    """`composite-literal &Record{...}`, `moved-to-heap buf`, `new([4]uint64)`."""
    subject = site.expr or (site.type.name if site.type else "")
    if subject.startswith(site.construct.split("-")[0]):
        return subject
    return f"{site.construct} {subject}".strip()


# --------------------------------------------------------------------------- running


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
    profiles: Sequence[str] = (),
    hot_share: str | None = None,
) -> Analysed:
    """Find the config, build the targets (the config's, or `./...`), scan the directives.

    Targets from the config file are relative to its directory; targets from the command
    line to `cwd`. With heap profiles (`profiles`, else the config's) the report holds
    what they observed, and functions holding `hot_share` of them are hot
    (escape_lens/profile/hot.py).
    """
    from escape_lens.analyze import analyze_targets
    from escape_lens.config import load_config
    from escape_lens.directives import scan_report

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
        run_in, targets = found
    report = analyze_targets(targets, go=go, tests=config.tests, cwd=run_in)
    if report.skipped:
        # A package that did not compile has no sites: judged, its baseline sites would
        # read as improvements. The gate refuses to judge a broken build.
        broken = report.skipped[0]
        reason = (broken.reason.strip().splitlines() or ["?"])[0]
        more = f" (and {len(report.skipped) - 1} more)" if len(report.skipped) > 1 else ""
        raise BuildError(f"{broken.package} does not compile: {reason}{more}")
    directives = scan_report(report, tests=config.tests)
    from escape_lens.profile.hot import with_profile_hot

    report, config = with_profile_hot(report, config, profiles, hot_share)
    return Analysed(report, config, directives)


def _package_dirs(targets: list[str], here: str) -> list[str]:
    """A `.go` file stands for its package: alone it would compile as
    `command-line-arguments`, whose function names match no pattern."""
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
    profiles: Sequence[str] = (),
    hot_share: str | None = None,
) -> CheckResult:
    """`escape-lens check`: a missing `--baseline FILE` is an error, a missing configured
    or default baseline means "budgets only"."""
    from escape_lens.baseline import load_baseline
    from escape_lens.errors import UsageError

    analysed = analyse(
        targets, config_file=config_file, go=go, cwd=cwd, profiles=profiles, hot_share=hot_share
    )
    if baseline_file is not None:
        if not os.path.isfile(baseline_file):
            raise UsageError(f"{baseline_file}: no such baseline file")
        path = baseline_file
    else:
        path = analysed.config.baseline_path
    baseline = load_baseline(path) if os.path.isfile(path) else None
    shown = os.path.relpath(path, cwd or os.getcwd())
    if shown.startswith(".."):
        shown = os.path.abspath(path)
    return evaluate(analysed.report, analysed.config, analysed.directives, baseline, shown)


def allocation_findings(report: Report) -> CheckResult:
    """A plain report as findings: every allocating site an EL000 note (for `analyze
    --format sarif|github`, which share the check formatters)."""
    findings = tuple(
        Finding(
            "EL000",
            f"heap allocation: {_what(site)}, {describe_cost(site)}"
            + (f" ({site.diagnostic.message})" if site.diagnostic else ""),
            site.pos,
            site.function,
            site,
        )
        for site in report.sites
        if site.allocates
    )
    return CheckResult(report=report, findings=findings, hot_sites=0)
