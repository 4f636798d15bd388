"""`--format html`: one self-contained page a Go programmer would rather look at than read.

Invariants:

- One file, no network. The stylesheet and script in `html_assets/` are inlined; there is
  no external font, image, script or link, so the page works from `file://` and offline.
- The report is embedded exactly once, as the `escape-lens/1` JSON of
  `json_report.report_to_dict` with its sites packed as rows (`pack_sites`), in a
  `<script type="application/json">`. Every `<` in it is written `\\u003c`, which JSON
  reads back as `<` and which can neither close the script element nor open a comment in
  it, whatever the Go source or type names contain.
- What needs Python is worked out here, once, and embedded beside the report, parallel to
  its `sites` (`views`): the next smaller size class and what it would take (asking
  `escape_lens.model`, never a copy of its tables), the compiler's escape flow as a short
  readable chain (which replaces the raw flow steps), each site's path word and reason
  (the words text and JSON use), and the source lines of every function that has sites.
  Everything else (summary, chart, table, filters, the model's numbers in sentences) the
  script derives from the report in the browser.
- A diff is the same page: the new report's sites plus the removed ones, each view
  marked with its change (`render_diff`).
- Pure apart from reading source: the only files read are the Go files of functions that
  have sites, only the lines needed, and an unreadable file is silently left out.
- Deterministic: the same report gives the same bytes (no timestamps, no dict-order
  accidents, no randomness).
- Over 500 lines as one thing: every view the page embeds is built here, from one report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from importlib import resources
from typing import IO, Any, TextIO

from escape_lens import gonames, model
from escape_lens.advice.hints import size_words
from escape_lens.advice.report import ReportAdvice
from escape_lens.diff import SiteDiff
from escape_lens.inputs import source_reader
from escape_lens.model.explain import describe_cost, site_path
from escape_lens.records import EscapeDiagnostic, FlowStepKind, Prediction, Report, Site
from escape_lens.reporters import advice_json, beside
from escape_lens.reporters.flowwords import BOOKKEEPING, Edge, edge_words
from escape_lens.reporters.json_report import report_site_to_dict, report_to_dict
from escape_lens.reporters.prediction_json import PREDICTION_FIELDS
from escape_lens.reporters.text_words import first_reason
from escape_lens.reporters.totals import summarize
from escape_lens.vocab import AllocPath, Construct

# A function is shown whole when it has at most this many lines; longer ones show windows
# of CONTEXT lines around each allocating line, so a 2,000-line function costs a few lines.
WHOLE_FUNCTION_LINES = 40
CONTEXT = 3
# Characters of source the page may carry in all (net/http must stay well under 2 MB).
SOURCE_BUDGET = 600_000
# Constructs whose main object is mostly a runtime structure (a map or channel header, a
# goroutine): bytes of it are not the programmer's to remove, so no next-smaller hint.
FIXED_SIZE = frozenset({Construct.CHAN, Construct.GOROUTINE, Construct.MAP})
FILES_PACKAGE = "command-line-arguments"
# A file this large is not a hand-written Go file worth excerpting (generated tables).
MAX_SOURCE_BYTES = 4 << 20


# --- the escape flow, made readable ---------------------------------------------------

_RESULT_RE = re.compile(r"^~[rR]\d+$")

# Edges a reader of the chain need not be told: bookkeeping, and plain assignments and
# returns, which the next destination says (`x → returned`).
_SILENT_REASONS = BOOKKEEPING | {
    "assign",
    "assign-pair",
    "slice-literal-element",
    "return",
    "dot-equals",
    "copy",
}


def _describe_edge(edge: Edge) -> str | None:
    return None if edge.reason in _SILENT_REASONS else edge_words(edge)


def _describe_location(dst: str) -> str:
    if dst == "{heap}":
        return "heap"
    if dst.startswith(".autotmp"):
        return "a temporary"  # a compiler-made variable, named nowhere in the source
    if _RESULT_RE.match(dst):
        return "returned"
    if dst.startswith("{storage for ") and dst.endswith("}"):
        inner = dst[len("{storage for ") : -1]
        return "variadic arguments" if inner == "... argument" else inner
    return dst


def flow_chain(diagnostic: EscapeDiagnostic | None, subject: str = "") -> list[str]:
    """The compiler's flow as steps a person reads left to right.

    `x → variadic arguments → fmt.a → passed to fmt.Fprintln → heap`: where the value
    goes (each `flow:` destination) and the edges that say something (a call, an interface
    conversion, a closure). Repeats are dropped. Empty when the compiler gave no flow.
    """
    if diagnostic is None or not diagnostic.flow:
        return []
    chain: list[str] = [_describe_location(subject or diagnostic.subject)]
    pending: list[str] = []  # edges of the current flow block, shown before its destination
    destination: str | None = None

    def close_block() -> None:
        chain.extend(pending)
        if destination is not None:
            chain.append(destination)
        pending.clear()

    hop = ""
    for step in diagnostic.flow:
        if step.kind == FlowStepKind.HOP:
            close_block()
            hop = step.destination
            destination = _describe_location(hop)
        elif step.kind == FlowStepKind.EDGE:
            described = _describe_edge(Edge(hop, step.expression, step.reason))
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


@dataclass(frozen=True, slots=True)
class Smaller:
    """What the next smaller size class would need: `remove` bytes from the request."""

    remove: int
    class_bytes: int
    path: str
    saving_pct: int

    def __str__(self) -> str:
        if self.path == AllocPath.TINY:
            target = "the tiny allocator"
        elif self.path == AllocPath.LARGE:
            target = f"a {size_words(self.class_bytes)} span"
        else:
            target = f"{size_words(self.class_bytes)} class"
        unit = "byte" if self.remove == 1 else "bytes"
        return f"remove {self.remove} {unit} → {target}, {self.saving_pct}% less memory"


_NO_SMALLER = frozenset({AllocPath.TINY, AllocPath.DYNAMIC, AllocPath.NONE})


def next_smaller(prediction: Prediction, pointers: bool, rules: model.AllocRules) -> Smaller | None:
    """The largest request that lands in a smaller class than `prediction`, if any.

    Found by bisection over `model.predict`, whose class bytes never decrease as the
    request grows (the malloc header included), so no size-class table is copied here.
    """
    current = prediction.class_bytes
    requested = prediction.requested_bytes
    if prediction.path in _NO_SMALLER or requested <= 1 or current <= 0:
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


# --- source excerpts ------------------------------------------------------------------------


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


def _segments(
    start: int, end: int, marked: Iterable[int], whole: int, context: int
) -> list[tuple[int, int]]:
    """Line ranges to show: the whole function when short, else windows around `marked`."""
    if end - start + 1 <= whole:
        return [(start, end)]
    ranges: list[tuple[int, int]] = []
    for line in sorted(set(marked)):
        lo, hi = max(start, line - context), min(end, line + context)
        if ranges and lo <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(hi, ranges[-1][1]))
        else:
            ranges.append((lo, hi))
    if ranges and ranges[0][0] > start:
        ranges.insert(0, (start, start))  # the signature, so the excerpt says what it is
    return ranges


# (whole, context) of `_segments`, tried in turn until the excerpts fit SOURCE_BUDGET;
# each setting's lines are a subset of the one before's.
_SETTINGS = ((WHOLE_FUNCTION_LINES, CONTEXT), (12, 1), (0, 0))


@dataclass(frozen=True, slots=True)
class _Function:
    file: str
    function: str
    package: str
    sites: list[int]
    segments: tuple[list[tuple[int, int]], ...]  # per setting; () when without source
    text: dict[int, str]  # line number -> source, of the lines a setting still possible shows

    def keep_only(self, setting: int) -> None:
        shown = {n for lo, hi in self.segments[setting] for n in range(lo, hi + 1)}
        for line in [n for n in self.text if n not in shown]:
            del self.text[line]


def local_name(site: Site) -> str:
    """The function's name inside its package: `(*T).M`, whether or not it was qualified.

    Files named on the command line form package `command-line-arguments`, whose symbols
    still say `main.`.
    """
    aliases = ("main",) if site.package == FILES_PACKAGE else ()
    return gonames.local_name(site.package, site.function, *aliases)


def _functions(report: Report, sourceless: frozenset[int]) -> tuple[list[_Function], int]:
    """The functions with sites, each with its excerpts' lines under every setting, and
    the setting the page uses: the first whose excerpts fit SOURCE_BUDGET, else the last.

    Only the lines of the settings still possible are kept as the files are read, one
    at a time: std's sources held whole were 45 MB of the page's peak."""
    groups: dict[tuple[str, str, bool], list[int]] = {}
    for index, site in enumerate(report.sites):
        key = (site.pos.file, local_name(site), index in sourceless)
        groups.setdefault(key, []).append(index)
    source = source_reader(report.root, limit=MAX_SOURCE_BYTES)
    sizes = [0] * len(_SETTINGS)
    setting = 0
    functions: list[_Function] = []
    for (file, function, without_source), indexes in groups.items():
        package = report.sites[indexes[0]].package
        lines = None if without_source or not file.endswith(".go") else source(file)
        marked = [report.sites[i].pos.line for i in indexes]
        if lines is None or min(marked) < 1 or max(marked) > len(lines):
            functions.append(_Function(file, function, package, indexes, (), {}))
            continue
        bounds = _function_bounds(lines, min(marked), max(marked))
        segments = tuple(_segments(*bounds, marked, *whole_context) for whole_context in _SETTINGS)
        for number, ranges in enumerate(segments):
            for lo, hi in ranges:
                shown = lines[lo - 1 : hi]
                sizes[number] += sum(map(len, shown)) + 3 * len(shown)
        while setting < len(_SETTINGS) - 1 and sizes[setting] > SOURCE_BUDGET:
            setting += 1
            for earlier in functions:
                if earlier.segments:
                    earlier.keep_only(setting)
        text = {n: lines[n - 1] for lo, hi in segments[setting] for n in range(lo, hi + 1)}
        functions.append(_Function(file, function, package, indexes, segments, text))
    # In file order, so the page reads like the code.
    functions.sort(key=lambda f: (f.file, report.sites[f.sites[0]].pos.line, f.function))
    return functions, setting


def function_sources(report: Report, sourceless: Collection[int] = ()) -> list[dict[str, Any]]:
    """Per (file, function) with sites: its source segments and the indexes of its sites.

    Short functions are shown whole, long ones as windows around their sites; when all of
    it would pass SOURCE_BUDGET characters (a large package), the windows shrink to the
    allocating lines and their neighbours, then to the allocating lines alone. Sites in
    `sourceless` (a diff's removed sites, whose lines are the old code's) get no source.
    """
    return list(_function_views(report, sourceless)())


def _function_views(
    report: Report, sourceless: Collection[int] = ()
) -> Callable[[], Iterator[dict[str, Any]]]:
    """`function_sources` an item at a time (`Streamed`): the sources are read now, each
    function's view is made as it is written (std's, made whole and then written as one
    string, were ~40 MB of the page's peak)."""
    functions, setting = _functions(report, frozenset(sourceless))

    def view(fn: _Function) -> dict[str, Any]:
        return {
            "file": fn.file,
            "function": fn.function,
            "package": fn.package,
            "sites": fn.sites,
            "segments": [
                [lo, [fn.text[n] for n in range(lo, hi + 1)]]
                for lo, hi in (fn.segments[setting] if fn.segments else ())
            ],
        }

    return lambda: (view(fn) for fn in functions)


# --- the page -----------------------------------------------------------------------------


class _Hints:
    """`next_smaller` under one report's rules, worked out once per distinct request (a
    package's sites share a few dozen sizes; each answer is a bisection over the model)."""

    def __init__(self, rules: model.AllocRules) -> None:
        self.rules = rules
        self._known: dict[tuple[int, int, str, bool], str | None] = {}

    def hint(self, prediction: Prediction, pointers: bool) -> str | None:
        key = (prediction.requested_bytes, prediction.class_bytes, prediction.path, pointers)
        if key not in self._known:
            smaller = next_smaller(prediction, pointers, self.rules)
            self._known[key] = None if smaller is None else str(smaller)
        return self._known[key]


def _site_view(site: Site, hints: _Hints) -> dict[str, Any]:
    """What the page shows of a site beyond its record; keys only when there is something:
    its path as every output counts it (`site_path`), the text report's reason column."""
    view: dict[str, Any] = {}
    path = site_path(site)
    if path is not None:
        view["path"] = path
    reason = first_reason(site)
    if reason:
        view["reason"] = reason
    chain = flow_chain(site.diagnostic, site.expr)
    if chain:
        view["chain"] = chain
    if site.prediction is not None and site.allocates and site.construct not in FIXED_SIZE:
        pointers = site.type.pointers if site.type is not None else False
        hint = hints.hint(site.prediction, pointers)
        if hint is not None:
            view["hint"] = hint
    return view


def pack_sites(sites: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Sites as rows of values under one list of field names (the page unpacks them).

    Repeating some thirty key names per site would be most of the page on a large package.
    Predictions become lists in PREDICTION_FIELDS order, and the raw flow steps are left
    out: the page shows the readable chain made from them (`--format json` keeps them);
    so are the notes' codes, which are for programs (the page shows the `note` text).
    """
    fields: list[str] = []
    rows: list[list[Any]] = []
    for site in sites:
        fields = fields or _row_fields(site)
        rows.append(_row(site, fields))
    return {"fields": fields, "rows": rows}


def _row_fields(site: Mapping[str, Any]) -> list[str]:
    return [name for name in site if name != "notes"]


def _row(site: Mapping[str, Any], fields: Sequence[str]) -> list[Any]:
    values = dict(site)
    values["prediction"] = _prediction_row(site["prediction"])
    values["extra"] = [_prediction_row(p) for p in site["extra"]]
    if site["escape"] is not None:
        values["escape"] = {k: v for k, v in site["escape"].items() if k != "flow"}
    return [values[name] for name in fields]


class Streamed:
    """A list of the page's data written an item at a time, each made as it is written
    (`write_page`): std's rows and views are never all held, which was most of the
    page's peak memory. The bytes are those of the list made whole."""

    def __init__(self, items: Callable[[], Iterator[Any]]) -> None:
        self.items = items


def _prediction_row(prediction: Mapping[str, Any] | None) -> list[Any] | None:
    return None if prediction is None else [prediction[name] for name in PREDICTION_FIELDS]


def payload(
    report: Report,
    statuses: Sequence[Mapping[str, str]] | None = None,
    extra: Mapping[str, Any] | None = None,
    *,
    streamed: bool = False,
) -> dict[str, Any]:
    """Everything the page shows: the report's JSON plus what only Python can work out.

    `statuses`, parallel to the sites, marks a diff: each site's `status` (new, removed,
    grown, shrunk, unchanged) and what it `was`; removed sites get no source excerpt.
    `streamed`: the sites' rows and views are `Streamed`, made while `write_page` writes.
    """
    advice = ReportAdvice(report)
    rules = advice.rules
    hints = _Hints(rules)
    data: dict[str, Any] = report_to_dict(dataclasses.replace(report, sites=()))
    data["summary"] = summarize(report.sites)
    del data["fix_first"]  # (of no sites: the page's is `fix_first`, below)
    views: list[dict[str, Any]] | Streamed
    if streamed and not statuses:
        first = report_site_to_dict(report.sites[0], report, advice) if report.sites else {}
        fields = _row_fields(first)
        rows = Streamed(
            lambda: (_row(report_site_to_dict(s, report, advice), fields) for s in report.sites)
        )
        data["sites"] = {"fields": fields, "rows": rows}
        views = Streamed(lambda: (_site_view(site, hints) for site in report.sites))
    else:
        data["sites"] = pack_sites(
            report_site_to_dict(site, report, advice) for site in report.sites
        )
        views = [_site_view(site, hints) for site in report.sites]
    removed: list[int] = []
    for index, status in enumerate(statuses or ()):
        assert isinstance(views, list)
        views[index].update(status)
        if status.get("status") == "removed":
            removed.append(index)
    # a diff's sites are not the report's: its panel ranks its own (ranked before the
    # sources are read, so that the two are not held at once)
    fix_first = advice_json.fix_first_list(advice) if statuses is None else None
    functions: list[dict[str, Any]] | Streamed
    if streamed and not statuses:
        functions = Streamed(_function_views(report))
    else:
        functions = function_sources(report, removed)
    result: dict[str, Any] = {
        "report": data,
        "prediction_fields": list(PREDICTION_FIELDS),
        "model": f"go{rules.version.major}.{rules.version.minor}",
        "model_note": rules.note,
        "views": views,
        "functions": functions,
    }
    if fix_first is not None:
        result["fix_first"] = fix_first
    if extra:
        result.update(extra)
    return result


def diff_payload(old: Report, new: Report, result: SiteDiff) -> tuple[dict[str, Any], str]:
    """The page of a diff: the new report's sites plus the removed ones, each marked.

    Drawn by the same components as a report: the table gains a Change column and filter,
    the summary says what changed; chart and totals are the new code's.
    """
    changes = {id(c.new): c for c in result.changes if c.new is not None}
    removed = sorted(
        (c.old for c in result.changes if c.old is not None and c.new is None),
        key=lambda s: (s.pos, s.construct),
    )
    sites = [*new.sites, *removed]
    statuses: list[dict[str, str]] = []
    for site in new.sites:
        change = changes.get(id(site))
        if change is not None:
            status = {"status": change.kind, "reason": change.reason}
            if change.old is not None:
                status["was"] = describe_cost(change.old)
            statuses.append(status)
        else:
            statuses.append({"status": "unchanged"} if site.allocates else {})
    statuses += [{"status": "removed", "reason": describe_cost(site)} for site in removed]
    combined = dataclasses.replace(new, sites=tuple(sites))
    counts = {kind: len(result.of_kind(kind)) for kind in ("new", "grown", "shrunk", "removed")}
    data = payload(combined, statuses)
    data["report"]["summary"] = summarize(new.sites)
    data["diff"] = {
        "counts": counts,
        "unchanged": result.unchanged,
        "old_summary": summarize(old.sites),
        "old_toolchain": str(old.toolchain.version),
    }
    return data, f"escape-lens diff: {_title(new).removeprefix('escape-lens: ')}"


def _asset(name: str) -> str:
    return (resources.files("escape_lens.reporters") / "html_assets" / name).read_text("utf-8")


def embed_json(data: Any) -> str:
    """JSON safe inside a `<script>`: no `<` at all, so no `</script>` and no `<!--`."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return text.replace("<", "\\u003c")


def write_page(data: Mapping[str, Any], title: str, out: TextIO, *, sites: int = 0) -> None:
    """The page, its data a top-level value at a time (std's JSON whole tripled the peak)
    and `Streamed` lists an item at a time. With a report of many `sites`, the lists
    after the first (the sites' views, the functions' sources) are written into
    temporary files by a forked process while this one writes the first (the sites'
    rows), and copied in their place (reporters/beside.py: the same bytes)."""
    head, _, tail = _page_text(title).partition(_DATA_MARK)
    out.write(head)
    later = _streamed_in(data)[1:]
    if not later or not beside.worth_forking(sites):
        _write_json(data, out, {})
        out.write(tail)
        return
    with contextlib.ExitStack() as files:
        spills = {
            id(streamed): files.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
            for streamed in later
        }

        def theirs() -> bool:
            for streamed in later:
                spill = spills[id(streamed)]
                spill.seek(0)
                spill.truncate()
                _write_json(streamed, spill, {})
                spill.flush()
            return True

        child = files.enter_context(beside.Beside(theirs))
        _write_json(data, out, spills, child.result)
    out.write(tail)


def _write_json(
    value: Any,
    out: TextIO,
    spills: Mapping[int, IO[str]],
    written: Callable[[], object] = lambda: None,
) -> None:
    """`out.write(embed_json(value))`, in pieces where `value` holds `Streamed` lists
    (`embed_json`'s separators: `,` between items, `:` after a key); a list in `spills`
    is copied from its file once `written` (which waits for it) returns."""
    spill = spills.get(id(value))
    if spill is not None:
        written()
        spill.seek(0)
        shutil.copyfileobj(spill, out, 1 << 20)
    elif isinstance(value, Streamed):
        out.write("[")
        for index, item in enumerate(value.items()):
            out.write(("," if index else "") + embed_json(item))
        out.write("]")
    elif isinstance(value, Mapping):
        out.write("{")
        for index, (key, item) in enumerate(value.items()):
            out.write(("," if index else "") + embed_json(key) + ":")
            if _holds_streamed(item):
                _write_json(item, out, spills, written)
            else:
                out.write(embed_json(item))
        out.write("}")
    else:
        out.write(embed_json(value))


def _streamed_in(value: Any) -> list[Streamed]:
    """The `Streamed` lists `value` holds, in the order they are written."""
    if isinstance(value, Streamed):
        return [value]
    if isinstance(value, Mapping):
        return [found for item in value.values() for found in _streamed_in(item)]
    return []


def _holds_streamed(value: Any) -> bool:
    if isinstance(value, Streamed):
        return True
    return isinstance(value, Mapping) and any(_holds_streamed(v) for v in value.values())


_DATA_MARK = "\x00data\x00"


def _page_text(title: str) -> str:
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
        f'<script type="application/json" id="report-data">{_DATA_MARK}</script>\n'
        f"<script>\n{_asset('report.js')}</script>\n"
        "</body>\n</html>\n"
    )


def _title(report: Report) -> str:
    packages = report.packages
    what = packages[0] if len(packages) == 1 else f"{len(packages)} packages"
    return f"escape-lens: {what}"


class HtmlReporter:
    def render(self, report: Report, out: TextIO) -> None:
        data = payload(report, streamed=True)
        write_page(data, _title(report), out, sites=len(report.sites))

    def render_diff(self, old: Report, new: Report, diff: SiteDiff, out: TextIO) -> None:
        """`diff --format html`: what changed from `old` to `new` (`diff`), on one page."""
        data, title = diff_payload(old, new, diff)
        write_page(data, title, out)


REPORTER = HtmlReporter()
