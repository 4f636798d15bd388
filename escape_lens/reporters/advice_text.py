"""Causes, hints and "what to fix first" in the terminal report (reporters/text.py).

A site line ends with its cause (`· interface-boxing`, or its one word, `· boxing`, when
only that fits) unless the reason already says it (`passed to F`, `stored in x`); `-v`
adds the cause with what the value went to, and the hint; the report ends with the first
five sites worth fixing (escape_lens/advice/rank.py), each with its hint, cold ones marked.
"""

from __future__ import annotations

from collections.abc import Iterable

from escape_lens.advice.hints import size_words
from escape_lens.advice.report import ReportAdvice
from escape_lens.records import Site
from escape_lens.reporters.text_layout import Paint, base_name, cut, wrap
from escape_lens.vocab import Cause

FIX_FIRST_LINES = 5
# Reasons (reporters/flowwords.py, whole or shortened) that already say the cause.
_SAID_BY_REASON = {
    Cause.PASSED_TO_CALL: ("passed to ", "to ", "receiver of "),
    Cause.STORED_TO_HEAP: ("stored in ", "in "),
    Cause.GLOBAL: ("stored in ", "in ", "assigned to "),
    Cause.SENT_ON_CHANNEL: ("sent on a channel",),
    Cause.CLOSURE_CAPTURE: ("captured",),
    Cause.MOVED_TO_HEAP: ("moved to heap",),
    Cause.KEPT_PAST_SCOPE: ("assigned to ", "to "),
}
# A cause in one word, for a site line that has no room for its id (docs/analyze.md).
SHORT_CAUSE = {
    Cause.GLOBAL: "global",
    Cause.STORED_TO_HEAP: "stored",
    Cause.SENT_ON_CHANNEL: "sent",
    Cause.PASSED_TO_CALL: "call",
    Cause.CLOSURE_CAPTURE: "captured",
    Cause.GOROUTINE: "go",
    Cause.DEFER: "defer",
    Cause.INTERFACE_BOXING: "boxing",
    Cause.TOO_LARGE_FOR_STACK: "too large",
    Cause.UNKNOWN_SIZE: "run-time size",
    Cause.SLICE_GROWTH: "growth",
    Cause.MAP: "map",
    Cause.CHANNEL: "chan",
    Cause.STRING_BUILDING: "string",
    Cause.METHOD_VALUE: "method value",
    Cause.MOVED_TO_HEAP: "moved",
    Cause.KEPT_PAST_SCOPE: "kept",
    Cause.RUNTIME_INTERNAL: "runtime",
}
_SEPARATOR = " · "


def cause_suffix(site: Site, advice: ReportAdvice, reason: str, room: int) -> str:
    """` · CAUSE` for a site line with `room` columns left ("" when it does not fit, the
    site allocates nothing, or the reason already opens with the cause's word)."""
    if not site.allocates:
        return ""
    cause = advice.of(site).cause.category
    if reason.startswith((cause, *_SAID_BY_REASON.get(cause, ()))):
        return ""
    for form in (str(cause), SHORT_CAUSE.get(cause, "")):
        if form and len(_SEPARATOR) + len(form) <= room:
            return _SEPARATOR + form
    return ""


def detail_lines(site: Site, advice: ReportAdvice, width: int, paint: Paint) -> Iterable[str]:
    """-v: `cause: CATEGORY (via X)` and `hint: ...` under a site."""
    indent = " " * 8
    known = advice.of(site)
    cause, hint = known.cause, known.hint
    via = f" (via {cause.via})" if cause.via else ""
    yield from wrap(f"cause: {cause.category}{via}", indent, width, paint)
    if hint.text:
        yield from wrap(f"hint: {hint.text}", indent, width, paint)


def fix_first_lines(advice: ReportAdvice, width: int, paint: Paint) -> Iterable[str]:
    """The report's closing "what to fix first" (nothing when no hint recovers bytes)."""
    report = advice.report
    ranked = advice.fix_first(FIX_FIRST_LINES)
    if not ranked:
        return
    yield ""
    yield "what to fix first (bytes a hint recovers per execution; cold paths last):"
    # One package's files are told apart by their names; across packages a name is
    # not enough (std: `io.go` is internal/saferio's, or io's, or ...).
    several = len(report.packages) > 1
    for number, candidate in enumerate(ranked, 1):
        site = candidate.site
        where = f"{site.pos.file if several else base_name(site.pos.file)}:{site.pos.line}"
        if site.observed is not None:
            gain = f"~{size_words(round(candidate.weight))} observed"
        else:
            gain = f"{size_words(candidate.hint.recoverable)}"
        cold = f" [low priority: {candidate.cold}]" if candidate.cold else ""
        head = f"  {number}. {where} {site.function}{_SEPARATOR}{candidate.cause.category}"
        yield cut(f"{head}{_SEPARATOR}{gain}{cold}", width)
        yield from wrap(candidate.hint.text, " " * 5, width, paint)
