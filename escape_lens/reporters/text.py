"""The terminal report: sites grouped by package and function, one line each, 80 columns.

A site line reads: position, construct, what is allocated (the expression, and the type
when the expression does not name it), bytes requested -> bytes taken from the size
class (waste), the allocator's path, and the first reason it escapes (or the note of a
site that does not allocate). A line never exceeds the width: the expression and then
the reason are shortened with an ellipsis. `-v` adds the compiler's flow chain under each
site. Colour only when writing to a terminal and NO_COLOR is unset.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from itertools import groupby
from typing import TextIO

from escape_lens.records import Prediction, Report, Site
from escape_lens.reporters.json_report import summarize

WIDTH = 80
_RESET = "\033[0m"
_COLOURS = {"construct": "\033[36m", "waste": "\033[33m", "alarm": "\033[31;1m", "dim": "\033[2m"}


def describe_path(prediction: Prediction | None) -> str:
    """The allocator's path in words: tiny, size and span class, large pages, thresholds."""
    if prediction is None:
        return "size unknown"
    if prediction.path == "tiny":
        return "tiny (shares a 16 B block)"
    if prediction.path == "small":
        return f"class {prediction.size_class}, span {prediction.span_class}"
    if prediction.path == "large":
        return f"large, {prediction.span_pages} pages"
    if prediction.path == "dynamic":
        elem = prediction.elem_bytes or 0
        tiny = prediction.tiny_max_count or 0
        small = prediction.small_max_count or 0
        head = f"dynamic ({elem} B/elem): "
        return head + (f"tiny ≤{tiny}, " if tiny else "") + f"small ≤{small}, then large"
    return "no allocation"


def describe_bytes(site: Site) -> str:
    if not site.allocates:
        return "no allocation"
    objects = (site.prediction, *site.extra) if site.prediction is not None else site.extra
    if site.prediction is None or site.prediction.path == "dynamic":
        return "? B"
    requested = sum(p.requested_bytes for p in objects)
    text = f"{requested}→{site.class_bytes} B"
    return text + (f" +{site.waste_bytes}" if site.waste_bytes else "")


def first_reason(site: Site) -> str:
    """Why it escapes, in the compiler's words, shortest form first; else the site's note."""
    diag = site.diagnostic
    if site.note and (diag is None or not site.allocates or site.note.isupper()):
        return site.note
    if diag is not None:
        if diag.kind == "does-not-escape":
            return "does not escape"
        for step in diag.flow:
            found = re.search(r"\(([^()]+)\)(?: at \S+)?$", step.text)
            if found:
                return found.group(1)
        return diag.message
    return site.note


def _what(site: Site) -> str:
    type_name = site.type.name.rsplit("/", 1)[-1] if site.type is not None else ""
    if not site.expr:
        return type_name
    bare = type_name.split(".", 1)[-1].lstrip("*[]")
    if not bare or bare.split("[")[0] in site.expr:
        return site.expr
    return f"{site.expr} {type_name}"


def _cut(text: str, room: int) -> str:
    if room <= 1:
        return ""
    return text if len(text) <= room else text[: room - 1] + "…"


class TextReporter:
    def __init__(self, verbose: bool = False, width: int = WIDTH) -> None:
        self.verbose = verbose
        self.width = width

    def render(self, report: Report, out: TextIO) -> None:
        colour = _use_colour(out)
        paint = _painter(colour)
        origin = "binary" if report.origin == "binary" else "source"
        out.write(f"escape-lens {report.tool_version} · {report.toolchain.version} · {origin}\n")
        key = lambda s: (s.package, s.function)  # noqa: E731
        for package, package_sites in groupby(sorted(report.sites, key=key), lambda s: s.package):
            out.write(f"\n{package}\n")
            for function, function_sites in groupby(package_sites, lambda s: s.function):
                ordered = sorted(function_sites, key=lambda s: (s.pos, s.construct))
                files = sorted({s.pos.file.rsplit("/", 1)[-1] for s in ordered})
                head = f"{function or '(package level)'}  ({', '.join(files)})"
                out.write(f"  {_cut(head, self.width - 2)}\n")
                for site in ordered:
                    out.write(self.site_line(site, paint) + "\n")
                    if self.verbose:
                        self._write_flow(site, out, paint)
        out.write("\n" + self.summary_line(report) + "\n")

    def site_line(self, site: Site, paint: _Paint) -> str:
        pos = f"{site.pos.line}:{site.pos.col}" if site.pos.col else str(site.pos.line)
        fixed = [pos, site.construct, describe_bytes(site)]
        path = describe_path(site.prediction) if site.allocates else ""
        if path:
            fixed.append(path)
        what = _what(site)
        reason = first_reason(site)
        base = len("    ") + sum(len(p) + 2 for p in fixed)
        what = _cut(what, max(12, self.width - base - 2 - min(len(reason), 12)))
        room = self.width - base - (len(what) + 2 if what else 0)
        reason = _cut(reason, room)
        parts = [pos, paint("construct", site.construct)]
        if what:
            parts.append(what)
        parts.append(paint("waste", fixed[2]) if site.waste_bytes else fixed[2])
        if path:
            parts.append(path)
        if reason:
            alarm = reason.startswith("MODEL DISAGREES")
            parts.append(paint("alarm", reason) if alarm else paint("dim", reason))
        return "    " + "  ".join(parts)

    def _write_flow(self, site: Site, out: TextIO, paint: _Paint) -> None:
        if site.note and site.allocates:
            out.write(paint("dim", f"        note: {site.note}") + "\n")
        if site.inlined_from is not None:
            out.write(paint("dim", f"        inlined from {site.inlined_from}") + "\n")
        if site.call is not None:
            out.write(paint("dim", f"        runtime.{site.call.entry}") + "\n")
        if site.diagnostic is None:
            return
        for step in site.diagnostic.flow:
            out.write(paint("dim", f"        {step.text}") + "\n")

    @staticmethod
    def summary_line(report: Report) -> str:
        totals = summarize(report.sites)
        text = (
            f"{totals['sites']} sites, {totals['class_bytes']} B per execution of all sites, "
            f"{totals['waste_bytes']} B waste"
        )
        if totals["non_allocating"]:
            text += f"; {totals['non_allocating']} escape lines without an allocation"
        if report.skipped:
            text += f"; {len(report.skipped)} packages skipped"
        return text


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, role: str, text: str) -> str:
        if not self.enabled or not text:
            return text
        return f"{_COLOURS[role]}{text}{_RESET}"


def _painter(enabled: bool) -> _Paint:
    return _Paint(enabled)


def _use_colour(out: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def visible_width(line: str) -> int:
    """Columns a rendered line takes (colour codes take none)."""
    return len(re.sub(r"\033\[[0-9;]*m", "", line))


def render_lines(report: Report, verbose: bool = False) -> Sequence[str]:
    from io import StringIO

    buffer = StringIO()
    TextReporter(verbose).render(report, buffer)
    return buffer.getvalue().splitlines()


REPORTER = TextReporter()
