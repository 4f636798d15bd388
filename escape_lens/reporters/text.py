"""The terminal report: sites grouped by package and function, one aligned line each.

A site line reads, in columns (tab stops) shared by the lines of a package:

    LINE:COL  CONSTRUCT  REQUESTED→CLASS B [+WASTE]  PATH  EXPRESSION [TYPE]  REASON

so the eye runs down positions, byte counts (the arrows line up) and allocator paths,
then reads what is allocated and why. Invariants:

* **Width.** No line is wider than the width: `$COLUMNS` when set, else the terminal's
  on a TTY, else 80 (so the same input gives the same bytes through a pipe). A column is
  as wide as nine cells in ten need; a rarer longer cell pushes the rest of its own line.
  The expression and the reason share what is left: the reason (what the source does not
  show) gets its length first, then ever shorter forms (`passed to F` -> `to F`); the
  expression loses call arguments (`append(s, …)`), never letters of a word unless nothing
  else is left. Reasons line up within a function unless that would cut one.
* **Determinism.** Lines depend only on the report, the width and the colour choice:
  packages by name, functions in source order (generated code and other packages'
  generic instances last), sites by position.
* **Colour** only on a terminal and never with `NO_COLOR`; colour adds escape codes and
  nothing else (the text without them is byte for byte the uncoloured output).
* **Primary before secondary.** Within a function the allocating sites come first;
  escape lines with no allocation behind them follow, dimmed, saying why nothing is
  allocated.
* **Alarms first.** A failed self-check of the model (`ALARM` in the site's note) stands
  in red right after the construct, in place of the model's bytes and path it puts in
  doubt.

The construct column uses short labels (`literal` for `composite-literal`, `iface` for
`interface`, ...); the JSON keeps the full vocabulary and `-v` prints the legend. The
reason is the last step of the compiler's flow chain that says where the value goes
(`returned`, `passed to fmt.Println`, `stored in Sink`, `captured by a closure`) rather
than its bookkeeping (`spill`, `assign` to a local); `-v` prints the whole chain, the
site's note, the allocator's objects and the runtime entry.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TextIO

from escape_lens.records import EscapeDiagnostic, Prediction, Report, Site, SourcePos
from escape_lens.reporters import profile_text
from escape_lens.reporters.json_report import summarize

WIDTH = 80
ALARM = "MODEL DISAGREES"  # how sites.py flags a failed self-check in a site's note

# Terminal labels for the construct vocabulary (sites.py); unlisted ones print as they are.
SHORT_CONSTRUCT = {
    "composite-literal": "literal",
    "make-slice": "make",
    "interface": "iface",
    "string-concat": "concat",
    "string-conversion": "string",
    "bytes-conversion": "[]byte",
    "runes-conversion": "[]rune",
    "moved-to-heap": "moved",
    "goroutine": "go",
}

_RESET = "\033[0m"
_COLOURS = {
    "package": "\033[1m",
    "function": "\033[1m",
    "construct": "\033[36m",
    "waste": "\033[33m",
    "large": "\033[35m",
    "alarm": "\033[31;1m",
    "dim": "\033[2m",
}
_ANSI = re.compile(r"\033\[[0-9;]*m")
# "class 67, span 135": wide enough for any small path; a longer one (a dynamic path's
# thresholds, a large path) takes room from the free text of its own line only.
_PATH_COLUMN_MAX = 18
_INDENT = "    "
_WHAT_MIN = 12  # columns the expression keeps however long the reasons
_GAP = "  "


def describe_path(prediction: Prediction | None) -> str:
    """The allocator's path in words: tiny, size and span class, large pages, thresholds."""
    if prediction is None:
        return ""
    if prediction.path == "tiny":
        return "tiny (shares a 16 B block)"
    if prediction.path == "large":
        return f"large, {prediction.span_pages} pages"
    if prediction.path == "dynamic":
        return "dynamic: " + _thresholds(prediction)
    return _short_path(prediction)


def _short_path(prediction: Prediction | None) -> str:
    """The path column: as `describe_path`, without the words the column makes obvious."""
    if prediction is None:
        return "unknown"
    if prediction.path == "tiny":
        return "tiny"
    if prediction.path == "small":
        return f"class {prediction.size_class}, span {prediction.span_class}"
    if prediction.path == "large":
        return f"large, {prediction.span_pages} pages"
    if prediction.path == "dynamic":
        return _thresholds(prediction)
    return "zero-size"  # runtime.zerobase: no memory is taken


def _thresholds(prediction: Prediction) -> str:
    tiny = prediction.tiny_max_count or 0
    small = prediction.small_max_count or 0
    return (f"tiny ≤{tiny}, " if tiny else "") + f"small ≤{small}"


def describe_bytes(site: Site) -> str:
    """Bytes in words: `32→32 B`, `304→320 B +16` (waste), `n×8 B` (length at run time)."""  # noqa: RUF002
    if not site.allocates:
        return "no allocation"
    left, arrow, right = _bytes_cells(site)
    return f"{left}{arrow}{right}".strip()


def _bytes_cells(site: Site) -> tuple[str, str, str]:
    """The bytes column in three parts, so that arrows line up: requested, arrow, taken."""
    if not site.allocates:
        return ("", "", "-")
    if site.prediction is None and site.entry in ("newproc", "deferproc"):
        return ("", "", "pooled")  # a g / _defer record from a free list, rarely a new object
    if site.prediction is not None and site.prediction.path == "dynamic":
        return (f"n×{site.prediction.elem_bytes or 0}", " ", "B")  # noqa: RUF001
    if site.prediction is None:
        return ("", "", "? B")
    objects = (site.prediction, *site.extra)
    requested = sum(p.requested_bytes for p in objects)
    taken = f"{site.class_bytes} B" + (f" +{site.waste_bytes}" if site.waste_bytes else "")
    return (str(requested), "→", taken)


# --- why it escapes ---------------------------------------------------------------------

# Flow steps that are the compiler's bookkeeping, not a place the value goes.
_MECHANICAL = frozenset(
    {
        "spill",
        "reference",
        "dot",
        "dot of pointer",
        "slice",
        "copied slice",
        "indirection",
        "derefs",
        "fixed-array-index-of",
        "slice-to-array",
    }
)
_PHRASES = {
    "return": "returned",
    "captured by a closure": "captured by a closure",
    "interface-converted": "converted to an interface",
    "struct literal element": "in a struct literal",
    "array literal element": "in an array literal",
    "map literal key": "in a map literal",
    "map literal value": "in a map literal",
    "key of map put": "stored in a map",
    "value of map put": "stored in a map",
    "send": "sent on a channel",
    "address-of": "address taken",
    "appendee slice": "appended to",
    "appended slice...": "appended",
    "range": "ranged over",
    "range-deref": "ranged over",
    "callee operand": "called",
}
_STEP = re.compile(r"^from (?P<text>.*) \((?P<reason>[^()]+)\)(?: at \S+)?$")
# A hop of the chain: `flow: DEST ← SRC` (go1.22+) or `flow: DEST = SRC` (go1.21).
_HOP = re.compile(r"^flow: (?P<dest>.*?) [←=] (?P<src>.*?):?$")
_CALLEE = re.compile(r"^(?P<name>(?:\([^()]*\)\.)?[^\s()]+)\(")


@dataclass(frozen=True, slots=True)
class _Step:
    dest: str  # where this hop of the chain leads ("{heap}", "~r0", "s", "{storage for X}")
    text: str
    reason: str


def _steps(diagnostic: EscapeDiagnostic) -> list[_Step]:
    steps: list[_Step] = []
    dest = ""
    for step in diagnostic.flow:
        text = step.text.strip()
        if hop := _HOP.match(text):
            dest = hop["dest"]
        elif found := _STEP.match(text):
            steps.append(_Step(dest, found["text"], found["reason"]))
    return steps


def escape_reason(diagnostic: EscapeDiagnostic) -> str:
    """Where the value ends up, in a few words, from the compiler's flow chain.

    The chain runs from the allocation to the place that makes it escape; its last step
    that is not bookkeeping says why (`returned`, `passed to F`, `stored in X`); "" when
    the chain is bookkeeping only.
    """
    if diagnostic.kind == "does-not-escape":
        return "does not escape"
    steps = [s for s in _steps(diagnostic) if s.reason not in _MECHANICAL]
    return _phrase(steps[-1]) if steps else ""


def _phrase(step: _Step) -> str:
    if step.reason in ("call parameter", "call argument"):
        callee = _CALLEE.match(step.text)
        if callee is None:
            return "passed to a call"
        return "passed to " + re.sub(r"\[[^\[\]]*\]", "", callee["name"])  # no shape args
    if step.reason.startswith("assign"):  # assign, assign-pair, assign-pair-dot-type, ...
        if not step.dest.startswith("{"):
            return f"assigned to {step.dest}"
        target = _assigned(step.text)
        return f"stored in {target}" if target else "stored in the heap"
    if step.reason == "slice-literal-element":
        return "in a ... argument" if step.text == "... argument" else "in a slice literal"
    if step.reason in ("struct literal element", "array literal element"):
        storage = re.fullmatch(r"\{storage for (.+)\}", step.dest)
        if storage:
            return f"stored in {_collapse_brackets(storage[1])}"
    return _PHRASES.get(step.reason, step.reason)


def _assigned(text: str) -> str:
    """The single target of `X = ...` / `X := ...`, index expressions elided; else ""."""
    depth = 0
    for index, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0 and (text.startswith(" = ", index) or text.startswith(" := ", index)):
            target = text[:index]
            return "" if _top_level_comma(target) else _collapse_brackets(target)
    return ""


def _top_level_comma(text: str) -> bool:
    depth = 0
    for char in text:
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            return True
    return False


def _collapse_brackets(text: str) -> str:
    """`h[CanonicalMIMEHeaderKey(key)]` -> `h[…]`: the container matters, not the key."""
    return re.sub(r"\[[^\[\]]{2,}\]", "[…]", text)


def first_reason(site: Site) -> str:
    """The reason column: a model alarm, else why nothing is allocated, else why it escapes."""
    alarm = site.note.find(ALARM)
    if alarm >= 0:
        return site.note[alarm:]  # a model bug outranks everything else on the line
    note = _note_clause(site.note)
    if not site.allocates:
        return note
    diag = site.diagnostic
    if diag is None:
        return note
    reason = escape_reason(diag)
    if not reason:  # the chain only says it was spilled: the note knows better
        return note or ("moved to heap" if diag.kind == "moved-to-heap" else "escapes")
    return reason


# Shorter forms of a reason, tried in order when the full phrase does not fit.
_SHORTER = (
    ("passed to ", "to "),
    ("stored in ", "in "),
    ("assigned to ", "to "),
    ("captured by a closure", "captured"),
    ("converted to an interface", "to interface"),
    ("does not escape", "no escape"),
    # the notes sites.py writes most often, said in fewer words
    ("the value needs no boxing", "needs no boxing"),
    ("kept on the stack or optimised away", "stack or optimised away"),
    ("the runtime reuses a free g / _defer record", "reuses a free record"),
    ("the wrapper closure of the defer statement", "wraps the deferred call"),
    ("the wrapper closure of the go statement", "wraps the go call"),
    ("buckets/groups come with the first insert", "buckets on first insert"),
    (
        "grows by doubling (by 1.25 beyond 256 elements), rounded up to a size class",
        "grows by doubling",
    ),
    ("no allocation when the result does not escape and fits 32 bytes", "none if local, ≤32 B"),
    ("the appended slice is moved to the heap here", "slice moved to the heap here"),
    ("a func literal that captures nothing is static data", "static: captures nothing"),
)


@functools.lru_cache(maxsize=4096)  # a report repeats a few reasons, each asked for often
def _reason_forms(reason: str) -> tuple[str, ...]:
    """The reason, then ever shorter forms of it that keep its sense (`to F`)."""
    forms = [reason]
    for long, short in _SHORTER:
        if forms[-1].startswith(long):
            forms.append(short + forms[-1][len(long) :])
    without_asides = re.sub(r" \([^()]*[ ,][^()]*\)", "", forms[-1])  # prose, not `(*T).M`
    return (*forms, without_asides) if without_asides != forms[-1] else tuple(forms)


def _cut_reason(reason: str, room: int) -> str:
    """The longest form of the reason that fits; the shortest, cut, if none does."""
    forms = _reason_forms(reason)
    return next((form for form in forms if len(form) <= room), _cut(forms[-1], room))


def _note_clause(note: str) -> str:
    """The first clause of a note, without a `no allocation` the columns already say."""
    clause = note.split("; ")[0]
    if "does not escape, yet it is heap-allocated" in clause:
        return ""  # restates the diagnostic
    return re.sub(r"^no allocation(?: call in the compiled code)?: ", "", clause)


# --- shortening -------------------------------------------------------------------------


def _cut(text: str, room: int) -> str:
    """At most `room` columns; an ellipsis ends a cut, at a word boundary when one is near."""
    if len(text) <= room:
        return text
    if room <= 1:
        return "…"[:room]
    head = text[: room - 1]
    space = head.rfind(" ")
    if space >= room * 2 // 3:
        head = head[:space]
    return head.rstrip(" ,") + "…"


def _cut_expr(expr: str, room: int) -> str:
    """Shorten a Go expression by dropping what says least first: the dots of `{...}`,
    trailing call arguments (`append(s, …)`), a composite literal's package name."""
    if len(expr) <= room:
        return expr
    expr = expr.replace("...", "…")
    if len(expr) <= room:
        return expr
    open_at = _call_paren(expr)
    if open_at is not None:
        callee, args = expr[:open_at], _split_args(expr[open_at + 1 : -1])
        for keep in range(len(args) - 1, -1, -1):
            shorter = f"{callee}({', '.join([*args[:keep], '…'])})"
            if len(shorter) <= room:
                return shorter
    literal = re.sub(r"^(&?(?:\[\]\*?)?)[a-z]\w*\.(?=\w+\{)", r"\1", expr)  # &pkg.T{…}
    return literal if len(literal) <= room else _cut(literal, room)


def _call_paren(expr: str) -> int | None:
    """Index of the `(` of a call that spans to the end of `expr`, if it is one."""
    if not expr.endswith(")"):
        return None
    depth = 0
    for index in range(len(expr) - 1, -1, -1):
        depth += expr[index] in ")]}"
        depth -= expr[index] in "([{"
        if depth == 0:
            return index if index > 0 and expr[index] == "(" else None
    return None


def _split_args(text: str) -> list[str]:
    args, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            args.append(text[start:index].strip())
            start = index + 1
    args.append(text[start:].strip())
    return [a for a in args if a]


def _type_name(site: Site) -> str:
    """The type as a Go programmer writes it in the site's package: `[]*http.Cookie`."""
    if site.type is None:
        return ""
    return _short_type_name(site.type.name, site.package, bool(site.expr))


@functools.lru_cache(maxsize=4096)  # each site's type is shortened several times
def _short_type_name(name: str, package: str, has_expr: bool) -> str:
    if name.startswith(("noalg.", "struct {")):
        return "" if has_expr else "closure struct"  # compiler-made, not a user type
    name = re.sub(r"[\w.-]+/", "", name)  # import paths -> package names
    own = package.rsplit("/", 1)[-1]
    own = "main" if own == "command-line-arguments" else own
    return re.sub(rf"(?<![\w.]){re.escape(own)}\.", "", name)


def _what(site: Site, room: int = sys.maxsize) -> str:
    """The expression, and the type when the expression does not name it, in `room`."""
    type_name = _type_name(site)
    if not site.expr:
        if site.construct in ("make-slice", "append") and type_name:
            type_name = "[]" + type_name  # the site's type is the element's
        return _cut(type_name, room)
    bare = type_name.rsplit(".", 1)[-1].lstrip("*[]").split("[")[0]
    if not bare or bare in site.expr:
        return _cut_expr(site.expr, room)
    full = f"{site.expr} {type_name}"
    if len(full) <= room:
        return full
    if room - len(type_name) - 1 >= 12:  # the type still fits beside a readable expression
        return f"{_cut_expr(site.expr, room - len(type_name) - 1)} {type_name}"
    return _cut_expr(site.expr, room)


# --- layout -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    site: Site
    pos: str
    label: str
    bytes_cells: tuple[str, str, str]
    path: str
    reason: str

    @property
    def alarm(self) -> bool:
        return self.reason.startswith(ALARM)

    @classmethod
    def of(cls, site: Site, home_file: str) -> _Row:
        """A site's cells; its position names the file when it is not its function's."""
        pos = f"{site.pos.line}:{site.pos.col}" if site.pos.col else str(site.pos.line)
        if site.pos.file != home_file:
            pos = f"{_base(site.pos.file)}:{pos}"
        label = SHORT_CONSTRUCT.get(site.construct, site.construct)
        path = "no allocation" if not site.allocates else _short_path(site.prediction)
        if site.allocates and site.prediction is None and site.entry in ("newproc", "deferproc"):
            path = ""
        return cls(site, pos, label, _bytes_cells(site), path, first_reason(site))


def _base(file: str) -> str:
    return file.rsplit("/", 1)[-1]


def _covering(lengths: Sequence[int]) -> int:
    """A column width that fits nine lines in ten: a rare longer cell pushes its own line
    instead of widening the column for every line."""
    ordered = sorted(lengths)
    if len(ordered) < 10:
        return ordered[-1] if ordered else 0
    return ordered[(len(ordered) * 9 + 9) // 10 - 1]  # the ceil(0.9 n)-th smallest


@dataclass(frozen=True, slots=True)
class _Stops:
    """Where each column starts, shared by the site lines of one package (tab stops).

    A cell longer than its column pushes the rest of its own line to the right; the next
    cells of that line start at their stop or two spaces after, whichever is later.
    """

    label: int
    arrow: int  # the bytes column's `→`: requested bytes end here, class bytes follow
    bytes_start: int
    path: int
    what: int
    reason: int
    width: int

    @classmethod
    def fit(cls, rows: Sequence[_Row], width: int) -> _Stops:
        gap = len(_GAP)
        label = len(_INDENT) + _covering([len(r.pos) for r in rows]) + gap
        bytes_start = label + _covering([len(r.label) for r in rows]) + gap
        arrow = bytes_start + _covering([len(r.bytes_cells[0]) for r in rows])
        path = _covering([_bytes_end(r.bytes_cells, bytes_start, arrow) for r in rows]) + gap
        what = path + min(_PATH_COLUMN_MAX, _covering([len(r.path) for r in rows])) + gap
        free = max(0, width - what)
        longest_what = _covering([len(_what(r.site)) for r in rows])
        # Secondary lines (no allocation) say why in long notes: they get what is left.
        primary = [r for r in rows if r.site.allocates] or list(rows)
        longest_reason = _covering([len(r.reason) for r in primary])
        # The reason is what the source does not show, so it gets its length first; the
        # expression, which `LINE:COL` locates anyway, keeps a few columns and takes the
        # rest (a line whose reason is short lends its expression the difference).
        reason = min(longest_reason, max(free - longest_what - gap, free - _WHAT_MIN - gap))
        return cls(label, arrow, bytes_start, path, what, width - reason, width)

    def for_block(self, rows: Sequence[_Row]) -> _Stops:
        """The package's stops, with the reasons of one function moved left when all of
        its expressions end sooner: more of each reason shows, still aligned."""
        whats = [len(_what(r.site)) for r in rows if r.reason and not r.alarm]
        if not whats:
            return self
        return replace(self, reason=min(self.reason, self.what + max(whats) + len(_GAP)))


def _bytes_end(cells: tuple[str, str, str], bytes_start: int, arrow: int) -> int:
    """Where the bytes cell of a line ends (see `_site_line` for where it starts)."""
    requested, arrow_text, taken = cells
    if requested:
        return arrow + len(arrow_text) + len(taken)
    return (arrow if taken == "-" else bytes_start) + len(taken)


class _Line:
    """A line built left to right at tab stops, coloured and plain at once."""

    def __init__(self, paint: _Paint) -> None:
        self.paint = paint
        self.text = ""
        self.plain = ""

    def put(self, text: str, stop: int, role: str = "") -> None:
        """`text` at column `stop`, or two spaces after what is there when that is later."""
        if not text:
            return
        self.pad(max(stop, self.end + len(_GAP)) if self.plain.strip() else stop)
        self.append(text, role)

    def append(self, text: str, role: str = "") -> None:
        self.text += self.paint(role, text) if role else text
        self.plain += text

    def pad(self, column: int) -> None:
        spaces = " " * max(0, column - len(self.plain))
        self.text += spaces
        self.plain += spaces

    @property
    def end(self) -> int:
        return len(self.plain)


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, role: str, text: str) -> str:
        if not self.enabled or not text:
            return text
        return f"{_COLOURS[role]}{text}{_RESET}"


class TextReporter:
    """Renders a report for a terminal. `width` None: $COLUMNS, the terminal's, or 80."""

    def __init__(
        self, verbose: bool = False, width: int | None = None, sort_by: str = "position"
    ) -> None:
        self.verbose = verbose
        self.width = width
        self.sort_by = sort_by  # "observed": ranked by a heap profile (profile_text.py)

    def render(self, report: Report, out: TextIO) -> None:
        width = self.width if self.width is not None else terminal_width(out)
        paint = _Paint(_use_colour(out))
        for line in self.lines(report, width, paint):
            out.write(_fit(line, width) + "\n")

    def lines(self, report: Report, width: int, paint: _Paint) -> Iterable[str]:
        yield _header(report)
        if self.sort_by == "observed" and report.profile is not None:
            yield from profile_text.ranked_lines(
                report, [_what(s, 40) for s in report.sites], width
            )
            yield ""
            yield from self.summary_line(report, width).splitlines()
            yield from profile_text.summary_lines(report.profile, width)
            return
        by_package: dict[str, list[Site]] = {package: [] for package in report.packages}
        for site in report.sites:
            by_package.setdefault(site.package, []).append(site)
        for package, sites in sorted(by_package.items()):
            if not sites:  # analysed, and nothing escapes: worth a line too
                yield ""
                yield paint("package", package) + paint("dim", "  no heap allocations")
                continue
            blocks = _functions(sites)
            stops = _Stops.fit([row for _, _, rows in blocks for row in rows], width)
            yield ""
            yield paint("package", package) + paint("dim", f"  {_package_totals(sites)}")
            for function, home, rows in blocks:
                name = function or "(package level)"
                files = sorted({_base(r.site.pos.file) for r in rows} - {_base(home)})
                where = _cut("  " + ", ".join([_base(home), *files]), width - 2 - len(name))
                yield f"  {paint('function', name)}{paint('dim', where)}"
                block_stops = stops.for_block(rows)
                for row in rows:
                    yield self._site_line(row, block_stops, paint)
                    yield from profile_text.site_lines(row.site, report.profile, width)
                    if self.verbose:
                        yield from self._details(row.site, width, paint)
        if self.verbose:
            yield from _legend(report.sites, width, paint)
        yield ""
        yield from self.summary_line(report, width).splitlines()
        yield from profile_text.summary_lines(report.profile, width)

    def _site_line(self, row: _Row, stops: _Stops, paint: _Paint) -> str:
        line = _Line(paint)
        line.put(row.pos, len(_INDENT))
        line.put(row.label, stops.label, "construct")
        if row.alarm:  # the model's bytes and path are what is in doubt: the alarm goes there
            line.put(
                _cut(row.reason, stops.width - line.end - len(_GAP)), stops.bytes_start, "alarm"
            )
            rest = stops.width - line.end - len(_GAP)
            line.put(_what(row.site, rest) if rest >= 8 else "", line.end)
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
        large = row.site.prediction is not None and row.site.prediction.path == "large"
        line.put(row.path, stops.path, "large" if large else "")
        self._free_text(row, stops, line)
        text = line.text.rstrip()
        if not row.site.allocates and paint.enabled:
            text = paint("dim", _ANSI.sub("", text))  # secondary: the whole line recedes
        return text

    def _free_text(self, row: _Row, stops: _Stops, line: _Line) -> None:
        """Expression then reason, in what the line has left.

        The reason starts at its stop so that reasons line up, unless it would lose words
        there (an ellipsis): then it moves left as far as it needs and the expression
        allows; reading it beats alignment.
        """
        start = max(stops.what, line.end + len(_GAP))
        free = stops.width - start
        what = _what(row.site)
        if not row.reason or not what:
            line.put(_cut(what, free) if what else _cut_reason(row.reason, free), start)
            return
        reason_start = max(stops.reason, start + 8)  # the expression keeps a few columns
        what_room = reason_start - len(_GAP) - start
        if len(what) > what_room:  # borrow what the reason's shortest form leaves
            shortest = min(len(form) for form in _reason_forms(row.reason))
            spare = stops.width - start - shortest - len(_GAP)
            what_room = max(what_room, min(len(what), spare))
        line.put(_what(row.site, what_room), start)
        reason_start = max(reason_start, line.end + len(_GAP))
        if "…" in _cut_reason(row.reason, stops.width - reason_start):
            reason_start = max(line.end + len(_GAP), stops.width - len(row.reason))
        line.put(_cut_reason(row.reason, stops.width - reason_start), reason_start)

    def _details(self, site: Site, width: int, paint: _Paint) -> Iterable[str]:
        """-v: the note, the allocator's objects, the runtime entry, the flow chain."""
        indent = " " * 8
        if site.note:
            yield from _wrap(f"note: {site.note}", indent, width, paint)
        objects = (site.prediction, *site.extra) if site.prediction is not None else site.extra
        if site.allocates and objects:
            described = "; ".join(_describe_object(p) for p in objects)
            yield from _wrap(f"allocator: {described}", indent, width, paint)
        where = [f"runtime.{site.entry}"] if site.entry else []
        if site.inlined_from is not None:
            where.append(f"inlined from {site.inlined_from}")
        if where:
            yield from _wrap(", ".join(where), indent, width, paint)
        if site.diagnostic is None:
            return
        if not site.diagnostic.flow:
            yield from _wrap(site.diagnostic.message, indent, width, paint)
        for step in site.diagnostic.flow:
            deeper = "" if step.text.startswith("flow:") else "  "
            yield from _wrap(step.text, indent + deeper, width, paint)

    def summary_line(self, report: Report, width: int = WIDTH) -> str:
        """Sites, bytes per execution of all of them, waste; then counts by path."""
        totals = summarize(report.sites)
        lines = _flow_words(
            [
                _count(totals["sites"], "site"),
                f"{totals['class_bytes']} B per execution of all sites",
                f"{totals['waste_bytes']} B waste",
            ],
            ", ",
            width,
            "",
        )
        paths = [f"{count} {path}" for path, count in _path_counts(report.sites)]
        if paths:
            lines += _flow_words(paths, ", ", width, "    ", first="  by path: ")
        if totals["non_allocating"]:
            lines.append(
                f"  {_count(totals['non_allocating'], 'escape line')} without an allocation"
            )
        if report.skipped:
            lines.append(f"  {_count(len(report.skipped), 'package')} skipped")
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


def _functions(sites: Sequence[Site]) -> list[tuple[str, str, list[_Row]]]:
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
    return [(f, home, [_Row.of(s, home) for s in members]) for _, f, home, members in blocks]


def _site_order(site: Site) -> tuple[SourcePos, str, str, str, str]:
    """Position first; the rest only tells apart sites on one column (inlined copies)."""
    type_name = site.type.name if site.type is not None else ""
    return (site.pos, site.construct, site.expr, type_name, site.fingerprint or site.note)


def _package_totals(sites: Sequence[Site]) -> str:
    allocating = [s for s in sites if s.allocates]
    text = f"{_count(len(allocating), 'site')}, {sum(s.class_bytes for s in allocating)} B"
    return text + (
        f", {sum(s.waste_bytes for s in allocating)} B waste"
        if any(s.waste_bytes for s in allocating)
        else ""
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


_PATH_ORDER = ("tiny", "small", "large", "dynamic", "zero-size", "pooled", "unknown")


def _path_counts(sites: Sequence[Site]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for site in sites:
        if not site.allocates:
            continue
        path: str
        if site.prediction is not None:
            path = site.prediction.path if site.prediction.path != "none" else "zero-size"
        else:
            path = "pooled" if site.entry in ("newproc", "deferproc") else "unknown"
        counts[path] = counts.get(path, 0) + 1
    rank = {name: index for index, name in enumerate(_PATH_ORDER)}
    return sorted(counts.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))


def _describe_object(prediction: Prediction) -> str:
    if prediction.path == "dynamic":
        return f"{prediction.elem_bytes or 0} B per element, " + describe_path(prediction)
    text = f"{prediction.requested_bytes}→{prediction.class_bytes} B {describe_path(prediction)}"
    if prediction.header_bytes:
        text += f", {prediction.header_bytes} B malloc header"
    if prediction.path == "small":
        text += f", {prediction.objects_per_span} per span"
    return text


def _legend(sites: Sequence[Site], width: int, paint: _Paint) -> Iterable[str]:
    used = sorted({s.construct for s in sites if s.construct in SHORT_CONSTRUCT})
    words = [f"{SHORT_CONSTRUCT[c]} = {c}" for c in used]
    if any(s.prediction is not None and s.prediction.path == "tiny" for s in sites):
        words.append("tiny = shares a 16 B block")
    if words:
        yield ""
        for line in _flow_words(words, ", ", width, "  ", first="key: "):
            yield paint("dim", line)


def _flow_words(
    words: Sequence[str], sep: str, width: int, indent: str, first: str = ""
) -> list[str]:
    """Words joined by `sep`, broken into lines of at most `width` between words."""
    lines = [first + words[0]] if words else []
    for word in words[1:]:
        if len(lines[-1]) + len(sep) + len(word) <= width:
            lines[-1] += sep + word
        else:
            lines[-1] += sep.rstrip()
            lines.append(indent + word)
    return lines


def _wrap(text: str, indent: str, width: int, paint: _Paint) -> Iterable[str]:
    room = max(20, width - len(indent))
    wrapped = textwrap.wrap(
        text, room, subsequent_indent="  ", break_on_hyphens=False, drop_whitespace=True
    )
    for line in wrapped or [""]:
        yield paint("dim", indent + line)


def _fit(line: str, width: int) -> str:
    """Last resort for very narrow widths: cut a line to `width` columns, colour kept."""
    if visible_width(line) <= width:
        return line
    plain = _ANSI.sub("", line)
    cut = _cut(plain, width)
    return cut if not _ANSI.search(line) else f"{_COLOURS['dim']}{cut}{_RESET}"


def _use_colour(out: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def terminal_width(out: TextIO) -> int:
    """$COLUMNS when it is a number, else the terminal's width on a TTY, else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    isatty = getattr(out, "isatty", None)
    if isatty and isatty():
        return shutil.get_terminal_size((WIDTH, 24)).columns
    return WIDTH


def visible_width(line: str) -> int:
    """Columns a rendered line takes (colour codes take none)."""
    return len(_ANSI.sub("", line))


def render_lines(report: Report, verbose: bool = False, width: int = WIDTH) -> Sequence[str]:
    """The report as uncoloured lines of at most `width` columns (80 unless told)."""
    from io import StringIO

    buffer = StringIO()
    TextReporter(verbose, width).render(report, buffer)
    return buffer.getvalue().splitlines()


REPORTER = TextReporter()
