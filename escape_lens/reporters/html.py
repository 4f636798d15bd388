"""`--format html`: one self-contained page a Go programmer would rather look at than read.

Invariants:

- One file, no network. The stylesheet and script in `html_assets/` are inlined; there is
  no external font, image, script or link, so the page works from `file://` and offline.
- The report is embedded exactly once, as the `escape-lens/1` JSON of
  `json_report.report_to_dict`, in a `<script type="application/json">`. Every `<` in it is
  written `\\u003c`, which JSON reads back as `<` and which can neither close the script
  element nor open a comment in it, whatever the Go source or type names contain.
- What needs Python is worked out here, once, and embedded beside the report, parallel to
  its `sites`: the model's explanation of each prediction (through `escape_lens.model`,
  never a copy of its tables), the compiler's escape flow as a short readable chain, and
  the source lines of every function that has sites. Everything else (summary, chart,
  table, filters) the script derives from the report in the browser.
- Pure apart from reading source: the only files read are the Go files of functions that
  have sites, only the lines needed, and an unreadable file is silently left out.
- Deterministic: the same report gives the same bytes (no timestamps, no dict-order
  accidents, no randomness).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from escape_lens import model
from escape_lens.records import EscapeDiagnostic, Prediction, Report, Site
from escape_lens.reporters.json_report import report_to_dict

# A function shown whole when it has at most this many lines; longer ones show windows of
# CONTEXT lines around each allocating line, so a 2,000-line function costs a few lines.
WHOLE_FUNCTION_LINES = 80
CONTEXT = 3
# A file this large is not a hand-written Go file worth excerpting (generated tables).
MAX_SOURCE_BYTES = 4 << 20


# --- the escape flow, made readable ---------------------------------------------------

_FLOW_RE = re.compile(r"^flow:\s*(?P<dst>.+?)\s*(?:←|=)\s*(?P<src>.+?):?$")
_FROM_RE = re.compile(r"^from\s+(?P<expr>.+?)\s+\((?P<why>[^()]+)\)(?:\s+at\s+\S+)?:?$")
_CALLEE_RE = re.compile(r"^(?:[\w.]+\s*:?=\s*)?(?P<callee>[\w.*()\[\]]+?)\(")
_RESULT_RE = re.compile(r"^~[rR]\d+$")

# Reasons the compiler gives for one edge that a reader does not need to be told.
_SILENT_REASONS = frozenset(
    {"spill", "assign", "assign-pair", "slice-literal-element", "dot", "dot-equals", "copy"}
)


def _clean(text: str) -> str:
    text = text.strip()
    if text.startswith("escflow:"):
        text = text[len("escflow:") :].strip()
    return text


def _callee(expr: str) -> str:
    match = _CALLEE_RE.match(expr)
    return match.group("callee") if match else expr


def _describe_edge(expr: str, why: str) -> str | None:
    if why in _SILENT_REASONS:
        return None
    if why == "call parameter":
        return f"passed to {_callee(expr)}"
    if why == "call receiver":
        return f"receiver of {_callee(expr)}"
    if why == "interface-converted":
        return "converted to interface"
    if why == "return":
        return None  # the destination (~r0) says it
    if why == "captured by a closure":
        return "captured by a closure"
    if why == "address-of":
        return "address taken"
    return why


def _describe_location(dst: str) -> str:
    if dst == "{heap}":
        return "heap"
    if _RESULT_RE.match(dst):
        return "returned"
    if dst.startswith("{storage for ") and dst.endswith("}"):
        inner = dst[len("{storage for ") : -1]
        return "variadic arguments" if inner == "... argument" else inner
    return dst


def flow_chain(diagnostic: EscapeDiagnostic | None, subject: str = "") -> list[str]:
    """The compiler's flow as steps a person reads left to right.

    `x → ... args → fmt.a → passed to fmt.Fprintln → heap`: where the value goes (each
    `flow:` destination) and the edges that say something (a call, an interface
    conversion, a closure). Repeats are dropped. Empty when the compiler gave no flow.
    """
    if diagnostic is None or not diagnostic.flow:
        return []
    chain: list[str] = [subject or diagnostic.subject]
    pending: list[str] = []  # edges of the current flow block, shown before its destination
    destination: str | None = None

    def close_block() -> None:
        chain.extend(pending)
        if destination is not None:
            chain.append(destination)
        pending.clear()

    for step in diagnostic.flow:
        text = _clean(step.text)
        flow = _FLOW_RE.match(text)
        if flow is not None:
            close_block()
            destination = _describe_location(flow.group("dst"))
            continue
        edge = _FROM_RE.match(text)
        if edge is not None:
            described = _describe_edge(edge.group("expr"), edge.group("why").strip())
            if described is not None:
                pending.append(described)
    close_block()
    if "heap" in diagnostic.message and chain[-1] != "heap":
        chain.append("heap")
    readable: list[str] = []
    for item in chain:
        if item and (not readable or readable[-1] != item):
            readable.append(item)
    return readable


# --- the model's explanation --------------------------------------------------------------


def _bytes(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


@dataclass(frozen=True, slots=True)
class Smaller:
    """What the next smaller size class would need: `remove` bytes from the request."""

    remove: int
    class_bytes: int
    path: str
    saving_pct: int

    def __str__(self) -> str:
        target = "the tiny allocator" if self.path == "tiny" else f"{_bytes(self.class_bytes)}"
        target += "" if self.path == "tiny" else (" class" if self.path == "small" else "")
        unit = "byte" if self.remove == 1 else "bytes"
        return f"remove {self.remove} {unit} → {target}, {self.saving_pct}% less memory"


def next_smaller(prediction: Prediction, pointers: bool, rules: model.AllocRules) -> Smaller | None:
    """The largest request that lands in a smaller class than `prediction`, if any.

    Found by bisection over `model.predict`, whose class bytes never decrease as the
    request grows (the malloc header included), so no size-class table is copied here.
    """
    current = prediction.class_bytes
    requested = prediction.requested_bytes
    if prediction.path in ("tiny", "dynamic", "none") or requested <= 1 or current <= 0:
        return None
    if model.predict(1, pointers, rules).class_bytes >= current:
        return None
    low, high = 1, requested - 1  # predict(low) is smaller; find the largest such request
    while low < high:
        middle = (low + high + 1) // 2
        if model.predict(middle, pointers, rules).class_bytes < current:
            low = middle
        else:
            high = middle - 1
    smaller = model.predict(low, pointers, rules)
    saving = round(100 * (current - smaller.class_bytes) / current)
    return Smaller(requested - low, smaller.class_bytes, smaller.path, saving)


def explain(prediction: Prediction, pointers: bool, rules: model.AllocRules) -> list[str]:
    """What the allocator does with one object, in sentences."""
    p = prediction
    kind = "pointerful (scan)" if pointers else "pointer-free (noscan)"
    if p.path == "none":
        return ["No heap allocation."]
    if p.path == "dynamic":
        elem = f"{p.elem_bytes} B elements" if p.elem_bytes is not None else "elements"
        lines = [f"Length known only at run time; {elem}, {kind}."]
        if p.tiny_max_count:
            lines.append(f"Up to {p.tiny_max_count} elements: tiny allocator (16 B blocks).")
        if p.small_max_count is not None:
            lines.append(
                f"Up to {p.small_max_count} elements: a small size class;"
                " beyond that a large object with its own span."
            )
        return lines
    waste = ""
    if p.waste_bytes:
        pct = round(100 * p.waste_bytes / p.class_bytes) if p.class_bytes else 0
        waste = f"; {_bytes(p.waste_bytes)} wasted to rounding ({pct}%)"
    if p.path == "tiny":
        return [
            f"Tiny allocator: {p.requested_bytes} B, pointer-free and under 16 B, is packed"
            " with other tiny objects into shared 16 B blocks (no class of its own)."
        ]
    if p.path == "large":
        return [
            f"Large object: {_bytes(p.requested_bytes)} requested, over 32 KiB, gets a span"
            f" of its own, {p.span_pages} page{'s' if p.span_pages != 1 else ''}"
            f" ({_bytes(p.class_bytes)}){waste}."
        ]
    header = (
        f" + {p.header_bytes} B malloc header (pointerful object over 512 B)"
        if p.header_bytes
        else ""
    )
    lines = [
        f"Size class {p.size_class}: {_bytes(p.class_bytes)} slots for {p.requested_bytes} B"
        f"{header}{waste}.",
        f"Span class {p.span_class} ({kind}): {p.span_pages} page"
        f"{'s' if p.span_pages != 1 else ''} ({_bytes(8192 * p.span_pages)}) hold"
        f" {p.objects_per_span} objects.",
    ]
    smaller = next_smaller(p, pointers, rules)
    if smaller is not None:
        lines.append(f"Next smaller: {smaller}.")
    return lines


# --- source excerpts ------------------------------------------------------------------------


def _read_lines(path: Path) -> list[str] | None:
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None


def _function_bounds(lines: Sequence[str], first: int, last: int) -> tuple[int, int]:
    """1-based first and last line of the top-level `func` around lines first..last."""
    start = first
    while start > 1 and not lines[start - 1].startswith("func "):
        start -= 1
    if not lines[start - 1].startswith("func "):
        start = first
    end = last
    while end < len(lines) and lines[end - 1].rstrip() != "}":
        if end > last and lines[end - 1].startswith("func "):
            end -= 1
            break
        end += 1
    return start, min(end, len(lines))


def _segments(start: int, end: int, marked: Iterable[int]) -> list[tuple[int, int]]:
    """Line ranges to show: the whole function when short, else windows around `marked`."""
    if end - start + 1 <= WHOLE_FUNCTION_LINES:
        return [(start, end)]
    ranges: list[tuple[int, int]] = []
    for line in sorted(set(marked)):
        lo, hi = max(start, line - CONTEXT), min(end, line + CONTEXT)
        if ranges and lo <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(hi, ranges[-1][1]))
        else:
            ranges.append((lo, hi))
    if ranges and ranges[0][0] > start:
        ranges.insert(0, (start, start))  # the signature, so the excerpt says what it is
    return ranges


def function_sources(report: Report) -> list[dict[str, Any]]:
    """Per (file, function) with sites: its source segments and the indexes of its sites."""
    groups: dict[tuple[str, str], list[int]] = {}
    for index, site in enumerate(report.sites):
        groups.setdefault((site.pos.file, site.function), []).append(index)
    root = Path(report.root) if report.root else None
    files: dict[str, list[str] | None] = {}
    result: list[dict[str, Any]] = []
    for (file, function), indexes in sorted(groups.items()):
        if file not in files:
            path = Path(file)
            if not path.is_absolute() and root is not None:
                path = root / path
            files[file] = _read_lines(path) if file.endswith(".go") else None
        lines = files[file]
        entry: dict[str, Any] = {
            "file": file,
            "function": function,
            "package": report.sites[indexes[0]].package,
            "sites": indexes,
            "segments": [],
        }
        marked = [report.sites[i].pos.line for i in indexes]
        if lines and max(marked) <= len(lines):
            start, end = _function_bounds(lines, min(marked), max(marked))
            entry["segments"] = [
                [lo, lines[lo - 1 : hi]] for lo, hi in _segments(start, end, marked)
            ]
        result.append(entry)
    return result


# --- the page -----------------------------------------------------------------------------


def _site_view(site: Site, rules: model.AllocRules) -> dict[str, Any]:
    pointers = site.type.pointers if site.type is not None else False
    objects = [site.prediction] if site.prediction is not None else []
    explanation: list[str] = []
    hint: str | None = None
    for number, prediction in enumerate((*objects, *site.extra)):
        # Extra objects (a channel buffer, map groups) are described after the main one;
        # whether they hold pointers is not recorded, so their own sentences say noscan/scan
        # only for the main object.
        sentences = explain(prediction, pointers if number == 0 else False, rules)
        if number > 0:
            sentences[0] = f"Also {_bytes(prediction.requested_bytes)}: {sentences[0]}"
        explanation.extend(sentences)
    if site.prediction is not None and site.allocates:
        smaller = next_smaller(site.prediction, pointers, rules)
        hint = str(smaller) if smaller is not None else None
    return {
        "chain": flow_chain(site.diagnostic, site.expr),
        "explain": explanation if site.allocates else [],
        "hint": hint,
    }


def payload(report: Report, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the page shows: the report's JSON plus what only Python can work out."""
    rules = model.rules_for(report.toolchain.version, report.toolchain.goexperiment)
    data: dict[str, Any] = {
        "report": report_to_dict(report),
        "model": str(rules.version),
        "views": [_site_view(site, rules) for site in report.sites],
        "functions": function_sources(report),
    }
    if extra:
        data.update(extra)
    return data


def _asset(name: str) -> str:
    return (resources.files("escape_lens.reporters") / "html_assets" / name).read_text("utf-8")


def embed_json(data: Any) -> str:
    """JSON safe inside a `<script>`: no `<` at all, so no `</script>` and no `<!--`."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return text.replace("<", "\\u003c")


def page(data: Mapping[str, Any], title: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{escape(title)}</title>\n"
        f"<style>\n{_asset('report.css')}</style>\n"
        "</head>\n<body>\n"
        '<noscript><p class="noscript">This report draws itself with JavaScript;'
        " the data is also available with <code>--format json</code>.</p></noscript>\n"
        '<div id="app" class="app"></div>\n'
        f'<script type="application/json" id="report-data">{embed_json(data)}</script>\n'
        f"<script>\n{_asset('report.js')}</script>\n"
        "</body>\n</html>\n"
    )


def _title(report: Report) -> str:
    packages = report.packages
    what = packages[0] if len(packages) == 1 else f"{len(packages)} packages"
    return f"escape-lens: {what}"


class HtmlReporter:
    def render(self, report: Report, out: TextIO) -> None:
        out.write(page(payload(report), _title(report)))


REPORTER = HtmlReporter()
