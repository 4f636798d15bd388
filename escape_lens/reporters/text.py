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
        return ""
    if prediction.path == "tiny":
        return "tiny (shares a 16 B block)"
    if prediction.path == "small":
        return f"class {prediction.size_class}, span {prediction.span_class}"
    if prediction.path == "large":
        return f"large, {prediction.span_pages} pages"
    if prediction.path == "dynamic":
        tiny = prediction.tiny_max_count or 0
        small = prediction.small_max_count or 0
        return "dynamic: " + (f"tiny ≤{tiny}, " if tiny else "") + f"small ≤{small}"
    return "no allocation"


def describe_bytes(site: Site) -> str:
    if not site.allocates:
        return "no allocation"
    objects = (site.prediction, *site.extra) if site.prediction is not None else site.extra
    if site.prediction is None and site.entry in ("newproc", "deferproc"):
        return "pooled"  # a g / _defer record from a free list, rarely a new object
    if site.prediction is not None and site.prediction.path == "dynamic":
        return f"n×{site.prediction.elem_bytes or 0} B"  # noqa: RUF001
    if site.prediction is None:
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
        reasons = [
            found.group(1)
            for step in diag.flow
            if (found := re.search(r"\(([^()]+)\)(?: at \S+)?$", step.text))
        ]
        # "spill" only says the value was stored somewhere; the next step says where to.
        telling = [r for r in reasons if r != "spill"]
        if telling or reasons:
            return (telling or reasons)[0]
        return diag.message
    return site.note


def _what(site: Site) -> str:
    type_name = site.type.name.rsplit("/", 1)[-1] if site.type is not None else ""
    if type_name.startswith("noalg."):
        type_name = "" if site.expr else "closure struct"  # compiler-made, not user types
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
        """One line, never wider than `width`: the expression, then the reason, give way."""
        pos = f"{site.pos.line}:{site.pos.col}" if site.pos.col else str(site.pos.line)
        size = describe_bytes(site)
        path = describe_path(site.prediction) if site.allocates else ""
        fixed = [pos, site.construct, size, *([path] if path else [])]
        room = self.width - 4 - sum(len(p) + 2 for p in fixed)
        what, reason = _what(site), first_reason(site)
        # The expression keeps up to 22 columns before the reason gives way, then shares.
        what_room = max(min(len(what), 22, room - 8), room - len(reason) - 2) if reason else room
        what = _cut(what, max(8, min(len(what), what_room)))
        reason = _cut(reason, room - (len(what) + 2 if what else 0))
        parts = [pos, paint("construct", site.construct)]
        if what:
            parts.append(what)
        parts.append(paint("waste", size) if site.waste_bytes else size)
        if path:
            parts.append(path)
        if reason:
            alarm = reason.startswith("MODEL DISAGREES")
            parts.append(paint("alarm", reason) if alarm else paint("dim", reason))
        line = "    " + "  ".join(parts)
        if visible_width(line) > self.width and not paint.enabled:
            line = _cut(line, self.width)
        return line

    def _write_flow(self, site: Site, out: TextIO, paint: _Paint) -> None:
        if site.note and site.allocates:
            out.write(paint("dim", _cut(f"        note: {site.note}", self.width)) + "\n")
        if site.inlined_from is not None:
            out.write(paint("dim", f"        inlined from {site.inlined_from}") + "\n")
        if site.call is not None:
            out.write(paint("dim", f"        runtime.{site.call.entry}") + "\n")
        if site.diagnostic is None:
            return
        for step in site.diagnostic.flow:
            out.write(paint("dim", _cut(f"        {step.text}", self.width)) + "\n")

    def summary_line(self, report: Report) -> str:
        """Sites, bytes per execution of all of them, waste; wrapped to the width."""
        totals = summarize(report.sites)
        parts = [
            f"{totals['sites']} sites",
            f"{totals['class_bytes']} B per execution of all sites",
            f"{totals['waste_bytes']} B waste",
        ]
        if totals["non_allocating"]:
            parts.append(f"{totals['non_allocating']} escape lines without an allocation")
        if report.skipped:
            parts.append(f"{len(report.skipped)} packages skipped")
        lines = [parts[0]]
        for part in parts[1:]:
            if len(lines[-1]) + 2 + len(part) <= self.width:
                lines[-1] += ", " + part
            else:
                lines[-1] += ","
                lines.append(part)
        return "\n".join(lines)


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
