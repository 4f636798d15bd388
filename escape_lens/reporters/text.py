"""The terminal report: sites grouped by package and function, one aligned line each.

A site line reads, in columns (tab stops) shared by the lines of a package:

    LINE:COL  CONSTRUCT  REQUESTED→CLASS B [+WASTE]  PATH  EXPRESSION [TYPE]  REASON

What each cell says is reporters/text_words.py; where the cells go (stops, cutting to
fit, colour, width) is reporters/text_layout.py; what a reader sees is described in
docs/analyze.md#text-output. Invariants:

* **Width.** No line is wider than `$COLUMNS` when set, else the terminal's on a TTY,
  else 80, so the same input gives the same bytes through a pipe.
* **Determinism.** Lines depend only on the report, the width and the colour choice:
  packages by name, functions in source order (generated code and other packages'
  generic instances last), sites by position.
* **Colour** only on a terminal and never with `NO_COLOR`; it adds escape codes and
  nothing else (without them the text is the uncoloured output byte for byte).
* **Primary before secondary.** Allocating sites come first; escape lines with no
  allocation behind them follow, dimmed, saying why nothing is allocated.
* **Alarms first.** A failed self-check of the model (a note coded MODEL_DISAGREES)
  stands in red right after the construct, in place of the bytes and path it doubts.

`-v` prints the construct legend and, under each site, the whole flow chain, its notes,
the allocator's objects and the runtime entry.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO

from escape_lens.advice.report import ReportAdvice
from escape_lens.model.explain import object_words
from escape_lens.records import Report, Site, SourcePos
from escape_lens.reporters import advice_text, beside, profile_text
from escape_lens.reporters.text_layout import (
    ANSI,
    GAP,
    INDENT,
    WIDTH,
    Line,
    Paint,
    Row,
    Stops,
    base_name,
    counted,
    cut,
    fit_line,
    flow_words,
    terminal_width,
    use_colour,
    wrap,
)
from escape_lens.reporters.text_words import (
    INLINED_MARK,
    SHORT_CONSTRUCT,
    cut_reason,
    reason_forms,
    row_of,
    what_of,
)
from escape_lens.reporters.totals import summarize
from escape_lens.vocab import AllocPath, SitePath

_REASON_FLOOR = 12  # columns a reason keeps: "needs no…", "stored in S…", "returned"
_WHAT_FLOOR = 6  # columns below which an expression is left out for its reason
# The later packages' share of the sites that a forked process renders (with the
# totals): about half, as this one works out their advice and ranks what to fix first.
_CHILD_SHARE = 0.58


class TextReporter:
    """Renders a report for a terminal. `width` None: $COLUMNS, the terminal's, or 80."""

    def __init__(
        self,
        verbose: bool = False,
        width: int | None = None,
        sort_by: str = "position",
        focus_note: str = "",
    ) -> None:
        self.verbose = verbose
        self.width = width
        self.sort_by = sort_by  # "observed": ranked by a heap profile (profile_text.py)
        # what `analyze`'s focus options left out (focus.Focused.summary), under the totals
        self.focus_note = focus_note

    def noting(self, focus_note: str) -> TextReporter:
        """The same reporter, saying under its totals what the focus left out."""
        return TextReporter(self.verbose, self.width, self.sort_by, focus_note)

    def render(self, report: Report, out: TextIO) -> None:
        width = self.width if self.width is not None else terminal_width(out)
        paint = Paint(use_colour(out))
        for line in self.lines(report, width, paint):
            out.write(fit_line(line, width) + "\n")

    def lines(self, report: Report, width: int, paint: Paint) -> Iterable[str]:
        yield _header(report)
        if report.build:
            yield "build: " + " · ".join(report.build.describe())
        if self.sort_by == "observed" and report.profile is not None:
            yield from profile_text.ranked_lines(
                report, [what_of(s, 40) for s in report.sites], width
            )
            yield ""
            yield from self.summary_line(report, width).splitlines()
            yield from profile_text.summary_lines(report.profile, width)
            yield from self.focus_note.splitlines()
            return
        advice = ReportAdvice(report)  # each site's cause and hint, once
        by_package: dict[str, list[Site]] = {package: [] for package in report.packages}
        for site in report.sites:
            by_package.setdefault(site.package, []).append(site)
        groups = sorted(by_package.items())

        def package_lines(chosen: list[tuple[str, list[Site]]]) -> Iterator[str]:
            for package, sites in chosen:
                yield from self._package_lines(package, sites, report, width, paint, advice)

        def totals() -> Iterator[str]:
            if self.verbose:
                yield from _legend(report.sites, width, paint)
            yield ""
            yield from self.summary_line(report, width).splitlines()
            yield from profile_text.summary_lines(report.profile, width)
            yield from self.focus_note.splitlines()

        if not beside.worth_forking(len(report.sites)):
            yield from package_lines(groups)
            yield from totals()
        else:
            # The later packages and the totals are rendered by a forked process
            # (reporters/beside.py) while this one renders the others, then works out
            # the later packages' advice, which the ranking asks for again.
            cut = beside.split_at([len(sites) for _, sites in groups], theirs=_CHILD_SHARE)
            with beside.Beside(lambda: [*package_lines(groups[cut:]), *totals()]) as child:
                yield from package_lines(groups[:cut])
                for _, sites in groups[cut:]:
                    for site in sites:
                        advice.of(site)
                theirs = child.result()
            yield from theirs
        yield from advice_text.fix_first_lines(advice, width, paint)

    def _package_lines(
        self,
        package: str,
        sites: list[Site],
        report: Report,
        width: int,
        paint: Paint,
        advice: ReportAdvice,
    ) -> Iterator[str]:
        if not sites:  # analysed, and nothing escapes: worth a line too
            yield ""
            yield paint("package", package) + paint("dim", "  no heap allocations")
            return
        blocks = _functions(sites)
        stops = Stops.fit([row for _, _, rows in blocks for row in rows], width)
        yield ""
        yield paint("package", package) + paint("dim", f"  {_package_totals(sites)}")
        for function, home, rows in blocks:
            name = function or "(package level)"
            files = sorted({base_name(r.site.pos.file) for r in rows} - {base_name(home)})
            where = cut("  " + ", ".join([base_name(home), *files]), width - 2 - len(name))
            yield f"  {paint('function', name)}{paint('dim', where)}"
            block_stops = stops.for_block(rows)
            for row in rows:
                yield self._site_line(row, block_stops, paint, advice)
                yield from profile_text.site_lines(row.site, report.profile, width)
                if self.verbose:
                    yield from self._details(row.site, width, paint)
                    yield from advice_text.detail_lines(row.site, advice, width, paint)

    def _site_line(self, row: Row, stops: Stops, paint: Paint, advice: ReportAdvice) -> str:
        line = Line(paint)
        line.put(row.pos, len(INDENT))
        line.put(row.label, stops.label, "construct")
        if row.alarm:  # the model's bytes and path are what is in doubt: the alarm goes there
            line.put(cut(row.reason, stops.width - line.end - len(GAP)), stops.bytes_start, "alarm")
            rest = stops.width - line.end - len(GAP)
            line.put(what_of(row.site, rest) if rest >= 8 else "", line.end)
            return line.text
        requested, arrow, taken = row.bytes_cells
        if requested:
            line.put(requested, stops.arrow - len(requested))
            line.append(arrow)
            taken, plus, waste = taken.partition(" +")
            line.append(taken)
            line.append(plus + waste, "waste")
        else:  # "-" sits under the arrows; words start where the column does
            line.put(taken, stops.arrow if taken == "-" else stops.bytes_start)
        large = row.site.prediction is not None and row.site.prediction.path == AllocPath.LARGE
        line.put(row.path, stops.path, "large" if large else "")
        self._free_text(row, stops, line)
        room = stops.width - line.end
        line.append(advice_text.cause_suffix(row.site, advice, row.reason, room), "dim")
        text = line.text.rstrip()
        if not row.site.allocates and paint.enabled:
            text = paint("dim", ANSI.sub("", text))  # secondary: the whole line recedes
        return text

    def _free_text(self, row: Row, stops: Stops, line: Line) -> None:
        """Expression then reason, in what the line has left.

        The reason starts at its stop so that reasons line up, unless it would lose words
        there (an ellipsis): then it moves left as far as it needs and the expression
        allows; reading it beats alignment.
        """
        start = max(stops.what, line.end + len(GAP))
        free = stops.width - start
        what = row.what
        if not row.reason or not what:
            reason = cut_reason(row.reason, free, row.reason_code)
            line.put(cut(what, free) if what else reason, start)
            return
        reason_start = max(stops.reason, start + 8)  # the expression keeps a few columns
        what_room = reason_start - len(GAP) - start
        shortest = min(len(form) for form in reason_forms(row.reason, row.reason_code))
        if len(what) > what_room:  # borrow what the reason's shortest form leaves
            spare = stops.width - start - shortest - len(GAP)
            what_room = max(what_room, min(len(what), spare))
        # The reason keeps its first words however wide the columns before it: LINE:COL
        # locates a cut expression, a reason cut to a letter says nothing.
        floor = min(shortest, _REASON_FLOOR)
        what_room = min(what_room, free - len(GAP) - floor)
        if what_room < _WHAT_FLOOR:  # an expression this short is an ellipsis: leave it out
            line.put(cut_reason(row.reason, stops.width - start, row.reason_code), start)
            return
        line.put(what_of(row.site, what_room), start)
        reason_start = max(reason_start, line.end + len(GAP))
        if "…" in cut_reason(row.reason, stops.width - reason_start, row.reason_code):
            reason_start = max(line.end + len(GAP), stops.width - len(row.reason))
        line.put(cut_reason(row.reason, stops.width - reason_start, row.reason_code), reason_start)

    def _details(self, site: Site, width: int, paint: Paint) -> Iterable[str]:
        """-v: the note, the allocator's objects, the runtime entry, the flow chain."""
        indent = " " * 8
        if site.note:
            yield from wrap(f"note: {site.note}", indent, width, paint)
        objects = (site.prediction, *site.extra) if site.prediction is not None else site.extra
        if site.allocates and objects:
            described = "; ".join(object_words(p) for p in objects)
            yield from wrap(f"allocator: {described}", indent, width, paint)
        where = [f"runtime.{site.entry}"] if site.entry else []
        if site.inlined_from is not None:
            where.append(f"inlined from {site.inlined_from}")
        if where:
            yield from wrap(", ".join(where), indent, width, paint)
        if site.diagnostic is None:
            return
        if not site.diagnostic.flow:
            yield from wrap(site.diagnostic.message, indent, width, paint)
        for step in site.diagnostic.flow:
            deeper = "" if step.text.startswith("flow:") else "  "
            yield from wrap(step.text, indent + deeper, width, paint)

    def summary_line(self, report: Report, width: int = WIDTH) -> str:
        """Sites by path; the bytes of the constant-size ones (one execution of each, not a
        figure per run); how many are of variable size (totals.summarize)."""
        totals = summarize(report.sites)
        paths = [f"{count} {path}" for path, count in _path_counts(totals["by_path"])]
        head = counted(totals["sites"], "site") + (" by path: " if paths else "")
        lines = flow_words(paths, ", ", width, "      ", first=head) if paths else [head]
        if totals["constant_size_sites"]:
            lines += flow_words(
                [
                    f"constant size: {counted(totals['constant_size_sites'], 'site')}",
                    f"{totals['constant_size_bytes']} B once each (not per run)",
                    f"{totals['constant_size_waste_bytes']} B waste",
                ],
                ", ",
                width,
                "      ",
                first="  ",
            )
        if totals["variable_size_sites"]:
            lines.append(
                f"  variable size: {counted(totals['variable_size_sites'], 'site')}"
                " (a length known at run time; bytes not counted)"
            )
        inlined = sum(1 for s in report.sites if s.allocates and s.inlined_from is not None)
        if inlined:
            lines.append(
                f"  {INLINED_MARK} = inlined from another function ({counted(inlined, 'site')}; "
                "-v names the callee)"
            )
        if totals["non_allocating"]:
            lines.append(
                f"  {counted(totals['non_allocating'], 'escape line')} without an allocation"
            )
        if report.skipped:
            names = ", ".join(s.package for s in report.skipped)
            lines.append(f"  {counted(len(report.skipped), 'package')} skipped: {names}")
        return "\n".join(lines)


def _header(report: Report) -> str:
    toolchain = report.toolchain
    target = f"{toolchain.goos}/{toolchain.goarch}" if toolchain.goos else ""
    experiment = (
        f" GOEXPERIMENT={','.join(toolchain.goexperiment)}" if toolchain.goexperiment else ""
    )
    origin = "binary" if report.origin == "binary" else "source"
    go = " ".join(p for p in (str(toolchain.version), target) if p) + experiment
    return f"escape-lens {report.tool_version} · {go} · {origin}"


def _functions(sites: Sequence[Site]) -> list[tuple[str, str, list[Row]]]:
    """Functions in source order, generated code last; allocating sites before the rest.

    Each comes with its home file (where most of its sites are), so that a position in
    another file (code inlined into `init`) can say which file it is in.
    """
    grouped: dict[str, list[Site]] = {}
    for site in sites:
        grouped.setdefault(site.function, []).append(site)
    blocks = []
    for function, members in grouped.items():
        files = [s.pos.file for s in members]
        home = max(sorted(set(files)), key=files.count)
        members.sort(key=lambda s: (not s.allocates, s.pos.file != home, *_site_order(s)))
        first = min(s.pos for s in members if s.pos.file == home)
        blocks.append(((home.startswith("<"), first, function), function, home, members))
    blocks.sort(key=lambda block: block[0])
    # Code compiled here from another package's files (generic instances) comes last.
    dirs = [s.pos.file.rpartition("/")[0] for s in sites]
    own = max(sorted(set(dirs)), key=dirs.count)
    blocks.sort(key=lambda block: block[2].rpartition("/")[0] != own)
    return [(f, home, [row_of(s, home) for s in members]) for _, f, home, members in blocks]


def _site_order(site: Site) -> tuple[SourcePos, str, str, str, str]:
    """Position first; the rest only tells apart sites on one column (inlined copies)."""
    type_name = site.type.name if site.type is not None else ""
    return (site.pos, site.construct, site.expr, type_name, site.fingerprint or site.note)


def _package_totals(sites: Sequence[Site]) -> str:
    allocating = [s for s in sites if s.allocates]
    text = f"{counted(len(allocating), 'site')}, {sum(s.class_bytes for s in allocating)} B"
    return text + (
        f", {sum(s.waste_bytes for s in allocating)} B waste"
        if any(s.waste_bytes for s in allocating)
        else ""
    )


def _path_counts(by_path: dict[str, int]) -> list[tuple[str, int]]:
    """`summary.by_path` in SitePath's order (tiny first)."""
    return [(path.value, by_path[path]) for path in SitePath if by_path.get(path)]


def _legend(sites: Sequence[Site], width: int, paint: Paint) -> Iterable[str]:
    used = sorted({s.construct for s in sites if s.construct in SHORT_CONSTRUCT})
    words = [f"{SHORT_CONSTRUCT[c]} = {c}" for c in used]
    if any(s.prediction is not None and s.prediction.path == AllocPath.TINY for s in sites):
        words.append("tiny = shares a 16 B block")
    if words:
        yield ""
        for line in flow_words(words, ", ", width, "  ", first="key: "):
            yield paint("dim", line)


def render_lines(report: Report, verbose: bool = False, width: int = WIDTH) -> Sequence[str]:
    """The report as uncoloured lines of at most `width` columns (80 unless told)."""
    buffer = io.StringIO()
    TextReporter(verbose, width).render(report, buffer)
    return buffer.getvalue().splitlines()


REPORTER = TextReporter()
VERBOSE_REPORTER = TextReporter(verbose=True)
