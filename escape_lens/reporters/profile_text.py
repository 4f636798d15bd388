"""The terminal report's profile parts (docs/profiles.md): a line under each observed
site, the profile's summary, and `--sort observed`'s ranking.

Kept apart from text.py, which calls these only for reports joined to a heap profile, so
the plain report is untouched. Every place that shows observed counts also says what the
runtime does not record (profile/unrecorded.py), and a model disagreement is spelled
with text.py's alarm word so it reads like the model's own self-check failing.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable, Sequence

from escape_lens.profile.unrecorded import UNRECORDED
from escape_lens.records import Observed, ProfileSummary, Report, Site
from escape_lens.vocab import counted

ALARM = "MODEL DISAGREES"
UNATTRIBUTED_SHOWN = 10
_INDENT = " " * 8


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0.0%"


_TIMES = "\u00d7"  # the multiplication sign


def sizes_text(observed: Observed) -> str:
    """`24 B x1000, 48 B x12` (with a multiplication sign): recorded sizes, ascending."""
    return ", ".join(f"{size.bytes} B {_TIMES}{size.objects}" for size in observed.sizes)


def _wrapped(text: str, indent: str, width: int, more: str = "  ") -> list[str]:
    return textwrap.wrap(
        text,
        width=max(width, 40),
        initial_indent=indent,
        subsequent_indent=indent + more,
        break_on_hyphens=False,
    )


def observed_text(site: Site, profile: ProfileSummary) -> str:
    observed = site.observed
    if observed is None:
        return ""
    share = percent(observed.bytes, profile.bytes)
    if observed.per_op_objects is not None and observed.per_op_bytes is not None:
        text = f"per op {observed.per_op_objects:.2f} objects, {observed.per_op_bytes:.1f} B"
    else:
        text = f"observed {counted(observed.objects, 'object')}, {observed.bytes} B"
    text += f" ({share} of the profile)"
    dynamic = site.prediction is None or site.prediction.path == "dynamic"
    if dynamic or len(observed.sizes) > 1:
        text += f": {sizes_text(observed)}"
    if observed.shared > 1:
        text += f"; split evenly with {counted(observed.shared - 1, 'other site')} at this line"
    return text


def site_lines(site: Site, profile: ProfileSummary | None, width: int) -> Iterable[str]:
    """The lines under a site line: what the profile recorded, and any disagreement."""
    if profile is None or site.observed is None:
        return
    yield from _wrapped(observed_text(site, profile), _INDENT, width)
    if site.observed.disagreement:
        yield from _wrapped(f"{ALARM}: {site.observed.disagreement}", _INDENT, width)


def summary_lines(profile: ProfileSummary | None, width: int) -> Iterable[str]:
    if profile is None:
        return
    names = ", ".join(os.path.basename(f) for f in profile.files) or "of the benchmarks"
    yield ""
    yield from _wrapped(
        f"profile {names} ({profile.sample}, rate {profile.rate}): "
        f"{counted(profile.objects, 'object')}, "
        f"{profile.bytes} B; {percent(profile.attributed_bytes, profile.bytes)} of the bytes "
        "at a site",
        "",
        width,
    )
    if profile.operations is not None:
        runs = ", ".join(f"{name} {n}" for name, n in profile.benchmarks)
        yield from _wrapped(f"{counted(profile.operations, 'operation')}: {runs}", "  ", width)
    if profile.unattributed:
        yield "  without a site (by bytes):"
        for row in profile.unattributed[:UNATTRIBUTED_SHOWN]:
            where = f"{os.path.basename(row.file)}:{row.line}" if row.file else "?"
            objects = counted(row.objects, "object")
            text = f"{row.bytes} B, {objects}  {row.function} {where}: {row.reason}"
            yield from _wrapped(text, "    ", width)
        more = len(profile.unattributed) - UNATTRIBUTED_SHOWN
        if more > 0:
            yield f"    and {more} more positions (--format json lists them all)"
    yield "  not recorded by the runtime (docs/profiles.md):"
    for text in UNRECORDED:
        yield from _wrapped(f"- {text}", "    ", width)


def ranked_lines(report: Report, what: Sequence[str], width: int) -> Iterable[str]:
    """`--sort observed`: allocating sites by observed bytes, then the rest of the report.

    `what` holds each site's short description, in the report's order.
    """
    profile = report.profile
    if profile is None:
        return
    ranked = sorted(
        (
            (-(site.observed.bytes if site.observed else 0), index)
            for index, site in enumerate(report.sites)
            if site.allocates
        ),
    )
    yield ""
    yield "sites by observed bytes"
    for negative, index in ranked:
        site = report.sites[index]
        if site.observed is None:
            continue
        share = percent(-negative, profile.bytes)
        yield (
            f"  {share:>6}  {site.pos.file}:{site.pos.line}  {site.function}  {site.construct}"
            f"  {what[index]}"
        )
        yield from site_lines(site, profile, width)
    unobserved = sum(1 for s in report.sites if s.allocates and s.observed is None)
    if unobserved:
        yield f"  {unobserved} allocating sites recorded nothing"
