"""Findings: the rules of the CI gate and the records a gate run produces.

This is the interface between the gate (`escape_lens.gate`, which fills it) and the
output formats (`escape_lens.reporters`, which render it): reporters read these records
and never import the gate.

Invariants:
- Rule ids are stable; `RULES` is the one list of them (SARIF, docs and tests read it).
- A `CheckResult` fails (exit 1) if any finding has level `error`; warnings and notes
  never fail.
- `allocation_findings` views a plain report as findings (every allocating site an EL000
  note), so `analyze --format sarif|github` share the check formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from escape_lens.errors import EXIT_FINDINGS, EXIT_OK
from escape_lens.model.explain import describe_cost
from escape_lens.records import Report, Site, SkippedPackage, SourcePos
from escape_lens.vocab import FindingRule

Level = Literal["error", "warning", "note"]


@dataclass(frozen=True, slots=True)
class Rule:
    id: FindingRule
    name: str
    level: Level
    summary: str
    help: str


RULES: dict[FindingRule, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            FindingRule.HEAP_ALLOCATION,
            "heap-allocation",
            "note",
            "A heap allocation site.",
            "Reported by `escape-lens analyze --format sarif|github`: every site that "
            "allocates on the heap, with what the Go runtime does with it.",
        ),
        Rule(
            FindingRule.NEW_ALLOCATION,
            "new-allocation",
            "error",
            "A hot function has a heap allocation the baseline does not.",
            "Remove the allocation (keep the value on the stack, reuse a buffer), accept it "
            "with `//escape-lens:allow <reason>` on or above the line, or run "
            "`escape-lens baseline` to accept the current state.",
        ),
        Rule(
            FindingRule.GROWN_ALLOCATION,
            "grown-allocation",
            "error",
            "A hot-path allocation costs more per execution than in the baseline.",
            "The site now takes a bigger size class, more bytes, or a more expensive path "
            "(tiny < small < dynamic < large). Shrink the type or accept it with "
            "`escape-lens baseline`.",
        ),
        Rule(
            FindingRule.BUDGET_EXCEEDED,
            "budget-exceeded",
            "error",
            "A hot function exceeds its allocation budget.",
            "The function has more heap sites (max-sites) or more size-class bytes per "
            "call (max-bytes) than its [[budget]] allows, or allocates at all while its "
            "budget says none = true.",
        ),
        Rule(
            FindingRule.FORBIDDEN_PATH,
            "forbidden-path",
            "error",
            "A hot-path allocation takes an allocator path its budget forbids.",
            "The budget's `forbid` list names this path (e.g. `large`: a dedicated span "
            "per object, zeroed memory, a trip to the heap lock).",
        ),
        Rule(
            FindingRule.UNUSED_SUPPRESSION,
            "unused-suppression",
            "warning",
            "An `//escape-lens:allow` directive accepts no allocation site.",
            "Nothing allocates on the line it covers (its own line if after code, else the "
            "next non-comment line): remove it.",
        ),
        Rule(
            FindingRule.SUPPRESSION_WITHOUT_REASON,
            "suppression-without-reason",
            "error",
            "An `//escape-lens:allow` directive gives no reason.",
            "Write why the allocation is acceptable after the directive: "
            "`//escape-lens:allow once per request`. Without a reason it accepts nothing.",
        ),
        Rule(
            FindingRule.IMPROVEMENT,
            "improvement",
            "note",
            "A baseline allocation is gone or costs less.",
            "Run `escape-lens baseline` to lock the improvement in.",
        ),
        Rule(
            FindingRule.VANISHED_FUNCTION,
            "vanished-function",
            "error",
            "A hot function with allocations in the baseline is no longer in the build.",
            "Its package is excluded by a build constraint, or the function or package was "
            "renamed or moved: its allocations are no longer checked, so the gate fails "
            "rather than report them as improvements. Fix the build, or run "
            "`escape-lens baseline` to accept that the function is gone.",
        ),
        Rule(
            FindingRule.UNMATCHED_PATTERN,
            "unmatched-pattern",
            "error",
            "A `hot` or budget pattern matches no function of the checked packages.",
            "A typo, or a renamed or moved function: the pattern guards nothing. Fix the "
            'pattern or remove it. `unmatched-patterns = "warning"` in the configuration '
            "makes this a warning.",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Finding:
    rule: FindingRule
    message: str
    pos: SourcePos
    function: str = ""
    site: Site | None = None
    severity: Level | None = None  # the configuration's choice, else the rule's level

    @property
    def level(self) -> Level:
        return self.severity or RULES[self.rule].level


@dataclass(frozen=True, slots=True)
class CheckResult:
    """report: the analysed build; baseline: the file compared against ("" for none);
    inputs: the files the check read (configuration, baseline), never to be overwritten."""

    report: Report
    findings: tuple[Finding, ...]
    hot_sites: int
    baseline: str = ""
    notes: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.errors else EXIT_OK


def skipped_line(skipped: SkippedPackage) -> str:
    """`PKG was not analysed: REASON` (the first line of the compiler's message), as every
    output format says it."""
    reason = next((line for line in skipped.reason.splitlines() if line.strip()), "?")
    return f"{skipped.package} was not analysed: {reason.strip()}"


def describe_site(site: Site) -> str:
    """`composite-literal &Record{...}`, `moved-to-heap buf`, `new([4]uint64)`."""
    subject = site.expr or (site.type.name if site.type else "")
    if subject.startswith(site.construct.split("-")[0]):
        return subject
    return f"{site.construct} {subject}".strip()


def allocation_findings(report: Report) -> CheckResult:
    """A plain report as findings: every allocating site an EL000 note (for `analyze
    --format sarif|github`, which share the check formatters)."""
    findings = tuple(
        Finding(
            FindingRule.HEAP_ALLOCATION,
            f"heap allocation: {describe_site(site)}, {describe_cost(site)}"
            + (f" ({site.diagnostic.message})" if site.diagnostic else ""),
            site.pos,
            site.function,
            site,
        )
        for site in report.sites
        if site.allocates
    )
    return CheckResult(report=report, findings=findings, hot_sites=0)
