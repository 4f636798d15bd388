"""The text report's column layout: tab stops shared by a package's lines, cutting to fit.

A site line is cells (`Row`) placed at stops (`Stops`) that nine lines in ten fit; a
longer cell pushes the rest of its own line. Nothing here knows what a cell says (that is
reporters/text_words.py); everything here is about columns: shortening text to a width
(an ellipsis, at a word boundary when one is near; a Go expression loses call arguments
first), colour (escape codes only, never other characters) and the terminal's width.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TextIO

from escape_lens.records import Site
from escape_lens.vocab import NoteCode
from escape_lens.vocab import counted as counted  # the reporters import it from here

WIDTH = 80  # columns without $COLUMNS or a terminal


RESET = "\033[0m"


COLOURS = {
    "package": "\033[1m",
    "function": "\033[1m",
    "construct": "\033[36m",
    "waste": "\033[33m",
    "large": "\033[35m",
    "alarm": "\033[31;1m",
    "dim": "\033[2m",
}


ANSI = re.compile(r"\033\[[0-9;]*m")


# "class 67, span 135": wide enough for any small path; a longer one (a dynamic path's
# thresholds, a large path) takes room from the free text of its own line only.
_PATH_COLUMN_MAX = 18


INDENT = "    "


_WHAT_MIN = 12  # columns the expression keeps however long the reasons


GAP = "  "


def cut(text: str, room: int) -> str:
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


def cut_expr(expr: str, room: int) -> str:
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
    return literal if len(literal) <= room else cut(literal, room)


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


@dataclass(frozen=True, slots=True)
class Row:
    site: Site
    pos: str
    label: str
    bytes_cells: tuple[str, str, str]
    path: str
    reason: str
    reason_code: NoteCode | None  # the note the reason comes from (None: the flow chain)
    what: str  # the expression and type, unshortened (`what_of`)
    alarm: bool  # the model failed its self-check: the alarm takes the bytes and path


def base_name(file: str) -> str:
    return file.rsplit("/", 1)[-1]


def _covering(lengths: Sequence[int]) -> int:
    """A column width that fits nine lines in ten: a rare longer cell pushes its own line
    instead of widening the column for every line."""
    ordered = sorted(lengths)
    if len(ordered) < 10:
        return ordered[-1] if ordered else 0
    return ordered[(len(ordered) * 9 + 9) // 10 - 1]  # the ceil(0.9 n)-th smallest


@dataclass(frozen=True, slots=True)
class Stops:
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
    def fit(cls, rows: Sequence[Row], width: int) -> Stops:
        gap = len(GAP)
        # Positions, labels and bytes are short whatever the code: their columns fit every
        # line (a position of five-digit line numbers must not shift its own line's
        # columns), except a position that names another file, which is rare and long.
        local = [len(r.pos) for r in rows if r.pos[:1].isdigit()]
        label = len(INDENT) + max(local or [len(r.pos) for r in rows] or [0]) + gap
        bytes_start = label + max((len(r.label) for r in rows), default=0) + gap
        arrow = bytes_start + max((len(r.bytes_cells[0]) for r in rows), default=0)
        ends = [_bytes_end(r.bytes_cells, bytes_start, arrow) for r in rows]
        path = max(ends, default=bytes_start) + gap
        what = path + min(_PATH_COLUMN_MAX, _covering([len(r.path) for r in rows])) + gap
        free = max(0, width - what)
        longest_what = _covering([len(r.what) for r in rows])
        # Secondary lines (no allocation) say why in long notes: they get what is left.
        primary = [r for r in rows if r.site.allocates] or list(rows)
        longest_reason = _covering([len(r.reason) for r in primary])
        # The reason is what the source does not show, so it gets its length first; the
        # expression, which `LINE:COL` locates anyway, keeps a few columns and takes the
        # rest (a line whose reason is short lends its expression the difference).
        reason = min(longest_reason, max(free - longest_what - gap, free - _WHAT_MIN - gap))
        return cls(label, arrow, bytes_start, path, what, width - reason, width)

    def for_block(self, rows: Sequence[Row]) -> Stops:
        """The package's stops, with the reasons of one function moved left when all of
        its expressions end sooner: more of each reason shows, still aligned."""
        whats = [len(r.what) for r in rows if r.reason and not r.alarm]
        if not whats:
            return self
        return replace(self, reason=min(self.reason, self.what + max(whats) + len(GAP)))


def _bytes_end(cells: tuple[str, str, str], bytes_start: int, arrow: int) -> int:
    """Where the bytes cell of a line ends (see `_site_line` for where it starts)."""
    requested, arrow_text, taken = cells
    if requested:
        return arrow + len(arrow_text) + len(taken)
    return (arrow if taken == "-" else bytes_start) + len(taken)


class Line:
    """A line built left to right at tab stops, coloured and plain at once."""

    def __init__(self, paint: Paint) -> None:
        self.paint = paint
        self.text = ""
        self.plain = ""

    def put(self, text: str, stop: int, role: str = "") -> None:
        """`text` at column `stop`, or two spaces after what is there when that is later."""
        if not text:
            return
        self.pad(max(stop, self.end + len(GAP)) if self.plain.strip() else stop)
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


class Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, role: str, text: str) -> str:
        if not self.enabled or not text:
            return text
        return f"{COLOURS[role]}{text}{RESET}"


def flow_words(
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


def wrap(text: str, indent: str, width: int, paint: Paint) -> Iterable[str]:
    room = max(20, width - len(indent))
    wrapped = textwrap.wrap(
        text, room, subsequent_indent="  ", break_on_hyphens=False, drop_whitespace=True
    )
    for line in wrapped or [""]:
        yield paint("dim", indent + line)


def fit_line(line: str, width: int) -> str:
    """Last resort for very narrow widths: cut a line to `width` columns, colour kept."""
    if visible_width(line) <= width:
        return line
    plain = ANSI.sub("", line)
    shortened = cut(plain, width)
    return shortened if not ANSI.search(line) else f"{COLOURS['dim']}{shortened}{RESET}"


def use_colour(out: TextIO) -> bool:
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
    return len(ANSI.sub("", line))
