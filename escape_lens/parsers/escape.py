"""Escape diagnostics from the compiler's `-m=2` text.

What `-m=2` prints (summary lines, explanation blocks with their flow steps, inliner
lines) in go1.21-go1.27: docs/parsers.md#escape-diagnostics.

Invariants:
- The summary lines are the diagnostics, in summary-line order. Each takes the pending
  explanation block at its position with the same subject, else one whose subject
  starts with `subject(`, else the oldest pending block of its group. Blocks no summary
  claims come out at `finish()` with the header's kind: no statement is lost.
- Kinds are `vocab.EscapeKind`. Flow lines become `FlowStep` records taken apart here,
  once (`flow_step`): a hop's destination and source, an edge's expression and reason;
  the reporters read the parts, never the text. Only an object's chain (`X escapes to
  heap in F:`) is kept: a parameter's (`parameter p leaks to {heap} ...:`) is skipped
  unread and its diagnostics have no flow. No site stands on a parameter (the join
  reads the allocation kinds only), and its chains are most of the output (std: 141 MB
  of 171 MB of flow lines).
- Inliner lines are kept as `InlineCall`s and `FuncDecl`s (where functions start, where
  inlined code was called from); anything else at a position is kept verbatim in
  `other`, so a failed package can show the compiler's message.
- How a chain's readers walk its edges, and the reasons they share: parsers/flowedges.py.
- `function` is the compiler's short name, qualified with `function_prefix` when set
  (the build's symbol names), or "" when the line does not say (the build then fills
  it from the function spans).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from escape_lens.parsers.positions import Positions
from escape_lens.records import EscapeDiagnostic, FlowStep, FlowStepKind, SourcePos
from escape_lens.vocab import EscapeKind

# A compiler line about a position: `file.go:12:5: message`. `split_pos_line` gives the
# same by searching for where the position ends, without the lazy `.*?` trying each
# character of the tens of thousands of lines of a large package.
POS_LINE_RE = re.compile(r"^(?P<pos>[^\t].*?\.go:\d+:\d+): (?P<msg>.*)$")
_POS_END = re.compile(r"\.go:\d+:\d+: ")

_HEADER_ESCAPES = re.compile(r"^(?P<subject>.+) escapes to heap(?: in (?P<func>.+))?:$")
# Lines of a variable without a position (range-over-func's `#next`): the explanation
# (go1.25+) and the closures capturing it name its function, `moved to heap:` nothing.
UNPLACED_STARTS = ("moved to heap: ", "<unknown line number>: ")
_UNPLACED_CAPTURE = re.compile(r"^(?P<func>\S+) capturing by ref: (?P<subject>#\w+) \(")
_UNPLACED_HEADER = re.compile(
    r"^<unknown line number>: (?P<subject>\S+) escapes to heap in (?P<func>.+):$"
)
# An unplaced diagnostic's file until parsers/gobuild.py puts it at its function.
UNPLACED_FILE = "<unknown line number>"
_HEADER_PARAM = re.compile(
    r"^parameter (?P<subject>\S+) leaks to (?P<dest>\{[^}]*\}|\S+)(?: for (?P<func>.+?))?"
    r" with derefs=-?\d+:$"
)
_FLOW = re.compile(r"^\s+flow: (?P<text>.*?):?$")
# `from_step` is this without a regular expression, which would try every ` at `.
_FROM = re.compile(r"^\s+from (?P<text>.*) at (?P<pos>\S+\.go:\d+:\d+)$")
_FROM_HEAD = re.compile(r"\s+from ")
_FROM_TAIL = re.compile(r" at (\S+\.go:\d+:\d+)$")
# The parts of a step's text (`flow: DEST ← SRC`, go1.21 `=`; `from EXPR (REASON)`).
_HOP_PARTS = re.compile(r"^flow:\s*(?P<dest>.*?)\s+[←=]\s+(?P<src>.*?):?$")
_EDGE_PARTS = re.compile(r"^from\s+(?P<expr>.+?)\s+\((?P<reason>[^()]+)\)(?:\s+at\s+\S+)?:?$")

# Summary statements, tried in order; (kind, header group, a part of the text every
# match has, pattern). The part spares trying each pattern on every line: that
# `^(?P<subject>.+) escapes to heap$` fails on `x does not escape` takes a try at each
# length of `.+`.
_SUMMARIES: tuple[tuple[EscapeKind, str, str, re.Pattern[str]], ...] = (
    (
        EscapeKind.MOVED_TO_HEAP,
        "escape",
        "moved to heap: ",
        re.compile(r"^moved to heap: (?P<subject>.+)$"),
    ),
    (
        EscapeKind.LEAKING_PARAM_CONTENT,
        "param",
        "leaking param content: ",
        re.compile(r"^leaking param content: (?P<subject>.+)$"),
    ),
    (
        EscapeKind.LEAKING_PARAM_TO_RESULT,
        "param",
        " to result ",
        re.compile(r"^leaking param: (?P<subject>\S+) to result \S+ level=\d+$"),
    ),
    (
        EscapeKind.LEAKING_PARAM,
        "param",
        "leaking param: ",
        re.compile(r"^leaking param: (?P<subject>.+)$"),
    ),
    (
        EscapeKind.LEAKING_CLOSURE_REF,
        "param",
        "leaking closure reference ",
        re.compile(r"^leaking closure reference (?P<subject>.+)$"),
    ),
    (
        EscapeKind.ESCAPES,
        "escape",
        " escapes to heap",
        re.compile(r"^(?P<subject>.+) escapes to heap$"),
    ),
    (
        EscapeKind.DOES_NOT_ESCAPE,
        "",
        " does not escape",
        re.compile(r"^(?P<subject>.+) does not escape$"),
    ),
    (
        EscapeKind.CAPTURED_BY_REF,
        "",
        " capturing by ref: ",
        re.compile(r"^(?P<func>\S+) capturing by ref: (?P<subject>\S+) \(.*\)$"),
    ),
    (
        EscapeKind.CAPTURED_BY_VALUE,
        "",
        " capturing by value: ",
        re.compile(r"^(?P<func>\S+) capturing by value: (?P<subject>\S+) \(.*\)$"),
    ),
)

_INLINING_CALL = "inlining call to "  # and the callee
_FUNC_DECL = re.compile(
    r"^(?:can inline (?P<can>.+?) with cost -?\d+|cannot inline (?P<cannot>.+?): )"
)
# Unrecognised lines are kept for a failed package's message; a few are enough.
_MAX_OTHER = 200

# Recognised -m lines that carry nothing for escape-lens.
_IGNORED = re.compile(
    r"^(?:index bounds check elided|zero-copy string->\[\]byte conversion"
    r"|.* ignoring self-assignment in |mark escaped content: |.*: cost \d+"
    r"|devirtualizing |function .* considered 'big')"
)


@dataclass(frozen=True, slots=True)
class InlineCall:
    """`pos: inlining call to callee`: where inlined code was called from."""

    pos: SourcePos
    callee: str


@dataclass(frozen=True, slots=True)
class FuncDecl:
    """`pos: can inline F ...` / `cannot inline F: ...`: F is declared at pos."""

    pos: SourcePos
    name: str


@dataclass(slots=True)
class _Block:
    group: str
    subject: str
    function: str
    header: str
    flow: list[FlowStep] = field(default_factory=list)

    @property
    def keeps_flow(self) -> bool:
        """Whether its flow lines are read: an object's are, a parameter's are not."""
        return self.group == "escape"


class EscapeParser:
    """Incremental parser for one package's `-m=2` lines (see the module docstring).

    `feed(line)` returns the diagnostics the line completes (usually none or one);
    `finish()` returns the unclaimed explanation blocks. The inliner lines and
    unrecognised lines are collected in `inline_calls`, `decls` and `other`.
    """

    def __init__(self, positions: Positions) -> None:
        self.positions = positions
        # Qualifies the compiler's short function names into symbols (`main.f`); the
        # build sets it per block (`pkg` or `pkg_test`).
        self.function_prefix = ""
        self.inline_calls: list[InlineCall] = []
        self.decls: list[FuncDecl] = []
        self.other: list[str] = []
        self._pending: dict[SourcePos, list[_Block]] = {}
        self._steps: dict[str, FlowStep] = {}
        # The step of each flow line's text: chains repeat whole lines too (net/http: half).
        self._flows: dict[str, FlowStep | None] = {}
        self._current: _Block | None = None
        # subject -> the functions whose explanation of it had no position, oldest first
        self._unplaced: dict[str, list[str]] = {}
        # subject -> the functions whose closures capture it without a position
        self._captured: dict[str, set[str]] = {}

    def feed(self, line: str) -> list[EscapeDiagnostic]:
        """The diagnostics `line` completes."""
        return self.feed_line(line) or []

    def feed_line(self, line: str) -> list[EscapeDiagnostic] | None:
        """`feed`, but None for a line that is not at a position (in a build's block: a
        line of the assembly listing)."""
        split = split_pos_line(line)
        if split is None:
            return None
        at, msg = split
        if msg.startswith("  "):
            self._flow(msg)
            return []
        return self._statement(line, at, msg)

    def feed_lines(
        self, lines: list[str], start: int, found: list[EscapeDiagnostic], stop: frozenset[str]
    ) -> int:
        """`feed_line` for the lines from `lines[start]` on while they are at a position
        and do not start with a character in `stop` (which must have the empty line and
        the tab, which are not at a position); what they complete is added to
        `found`. The index of the first line not taken.

        The build's loop hands the run of `-m` lines of a block over in one call: tens of
        thousands in a large package, most of them flow lines (handled right here).
        """
        flows = self._flows
        search = _POS_END.search
        # An explanation block's flow lines are at its header's position: after a header,
        # a line that starts with the header's `pos: ` and two spaces is one of its flow
        # lines, told by one comparison instead of a search for where the position ends
        # (which could only find the same end: the text before it is the header's).
        flow_prefix = ""  # "" while no block is open: no line is taken as its flow line
        cut = 0
        add_step: Callable[[FlowStep], None] = _drop_step
        keeping = False  # whether the open block keeps its flow (a parameter's does not)
        index, stop_at = start, len(lines)
        while index < stop_at:
            line = lines[index]
            if flow_prefix and line.startswith(flow_prefix):
                if keeping:
                    msg = line[cut:]
                    step = flows.get(msg, _NOT_SEEN)
                    if step is _NOT_SEEN:
                        step = flows[msg] = self._flow_step(msg)
                    if step is not None:
                        add_step(step)
                index += 1
                continue
            # split_pos_line, inlined (`stop` has the empty line and the tab)
            ends = search(line, 1) if line[:1] not in stop else None
            if ends is None:
                return index
            end = ends.end()
            if line.startswith("  ", end):  # a flow line at another position than its block's
                current = self._current
                if current is not None and current.keeps_flow:
                    msg = line[end:]
                    step = flows.get(msg, _NOT_SEEN)
                    if step is _NOT_SEEN:
                        step = flows[msg] = self._flow_step(msg)
                    if step is not None:
                        current.flow.append(step)
            else:
                found.extend(self._statement(line, line[: end - 2], line[end:]))
                current = self._current
                if current is None:
                    flow_prefix = ""
                else:
                    flow_prefix, cut, add_step = line[:end] + "  ", end, current.flow.append
                    keeping = current.keeps_flow
            index += 1
        return index

    def unplaced(self, line: str) -> list[EscapeDiagnostic]:
        """A line without a position: `moved to heap: S` gives a diagnostic at
        `UNPLACED_FILE` in S's function, if named; other lines, nothing."""
        header = _UNPLACED_HEADER.match(line)
        if header is not None:
            function = self._qualified(header.group("func"))
            self._unplaced.setdefault(header.group("subject"), []).append(function)
            return []
        if not line.startswith(UNPLACED_STARTS[0]):
            return []
        subject = line[len(UNPLACED_STARTS[0]) :]
        functions = self._unplaced.get(subject)
        if functions:
            function = functions.pop(0)
        else:  # go1.24 names none: the one function capturing it, if only one does
            capturing = self._captured.get(subject, set())
            if len(capturing) != 1:
                return []  # nowhere to put it
            (function,) = capturing
        pos, kind = SourcePos(UNPLACED_FILE, 0, 0), EscapeKind.MOVED_TO_HEAP
        return [EscapeDiagnostic(pos, kind, subject, line, (), function)]

    def captured(self, line: str) -> bool:
        """Whether `line` is `F capturing by ref: #next (...)` (kept for `unplaced`)."""
        found = _UNPLACED_CAPTURE.match(line)
        if found is None:
            return False
        function = self._qualified(found.group("func"))
        self._captured.setdefault(found.group("subject"), set()).add(function)
        return True

    def _flow(self, msg: str) -> None:
        """A flow line of the current explanation block (none: it is dropped)."""
        current = self._current
        if current is not None and current.keeps_flow:
            step = self._flows.get(msg, _NOT_SEEN)
            if step is _NOT_SEEN:
                step = self._flows[msg] = self._flow_step(msg)
            if step is not None:
                current.flow.append(step)

    def _statement(self, line: str, at: str, msg: str) -> list[EscapeDiagnostic]:
        """A line at position `at` that is not a flow line."""
        self._current = None
        pos = self.positions.go_pos(at)
        if msg.endswith(":") and self._feed_header(pos, msg):
            return []
        if msg.startswith(("inlining call to ", "can inline ", "cannot inline ")):
            if msg.startswith(_INLINING_CALL) and len(msg) > len(_INLINING_CALL):
                self.inline_calls.append(InlineCall(pos, msg[len(_INLINING_CALL) :]))
                return []
            decl = _FUNC_DECL.match(msg)
            if decl is not None:
                self.decls.append(FuncDecl(pos, decl.group("can") or decl.group("cannot")))
                return []
        for kind, group, part, pattern in _SUMMARIES:
            if part in msg:
                summary = pattern.match(msg)
                if summary is not None:
                    return [self._summary(pos, kind, group, summary, msg)]
        if _IGNORED.match(msg) is None and len(self.other) < _MAX_OTHER:
            self.other.append(line)
        return []

    def _flow_step(self, msg: str) -> FlowStep | None:
        found = from_step(msg)
        if found is not None:
            return self._step(found[1], "from " + found[0])
        flow = _FLOW.match(msg)
        if flow is not None:
            return self._step("", "flow: " + flow.group("text"))
        return None

    def _step(self, at: str, text: str) -> FlowStep:
        """One FlowStep object per distinct step: chains repeat steps a lot (std: half)."""
        key = at + "\n" + text  # (no newline in either: a pair, without a tuple to collect)
        step = self._steps.get(key)
        if step is None:
            step = flow_step(self.positions.go_pos(at) if at else None, text)
            self._steps[key] = step
        return step

    def _feed_header(self, pos: SourcePos, msg: str) -> bool:
        for group, part, pattern in (
            ("escape", " escapes to heap", _HEADER_ESCAPES),
            ("param", "parameter ", _HEADER_PARAM),
        ):
            header = pattern.match(msg) if part in msg else None
            if header is not None:
                function = self._qualified(header.group("func") or "")
                block = _Block(group, header.group("subject"), function, msg[:-1], [])
                self._pending.setdefault(pos, []).append(block)
                self._current = block
                return True
        return False

    def _summary(
        self, pos: SourcePos, kind: EscapeKind, group: str, summary: re.Match[str], msg: str
    ) -> EscapeDiagnostic:
        subject = summary.group("subject")
        function = self._qualified(summary.groupdict().get("func") or "")
        block = self._claim(pos, group, subject) if group else None
        if block is None:
            return EscapeDiagnostic(pos, kind, subject, msg, (), function)
        if block.subject.startswith(subject + "("):
            subject = block.subject  # `append(s, i)` says more than `append`
        return EscapeDiagnostic(pos, kind, subject, msg, tuple(block.flow), block.function)

    def _qualified(self, name: str) -> str:
        return f"{self.function_prefix}.{name}" if name and self.function_prefix else name

    def _claim(self, pos: SourcePos, group: str, subject: str) -> _Block | None:
        blocks = self._pending.get(pos)
        if not blocks:
            return None
        candidates = [b for b in blocks if b.group == group]
        chosen = (
            next((b for b in candidates if b.subject == subject), None)
            or next((b for b in candidates if b.subject.startswith(subject + "(")), None)
            or (candidates[0] if candidates else None)
        )
        if chosen is not None:
            blocks.remove(chosen)
            if not blocks:
                del self._pending[pos]
        return chosen

    def take_inliner_lines(self) -> tuple[list[FuncDecl], list[InlineCall]]:
        """The inliner lines collected so far, forgetting them (see AsmParser.close)."""
        taken = (self.decls, self.inline_calls)
        self.decls, self.inline_calls = [], []
        return taken

    def finish(self) -> list[EscapeDiagnostic]:
        """The explanation blocks no summary line claimed, as diagnostics of their own."""
        left: list[EscapeDiagnostic] = []
        for pos, blocks in sorted(self._pending.items(), key=_by_position):
            for block in blocks:
                kind = EscapeKind.ESCAPES if block.group == "escape" else EscapeKind.LEAKING_PARAM
                left.append(
                    EscapeDiagnostic(
                        pos, kind, block.subject, block.header, tuple(block.flow), block.function
                    )
                )
        self._pending.clear()
        self._steps.clear()
        self._flows.clear()
        return left


def _drop_step(step: FlowStep) -> None:
    """Where flow steps go while no block is open (never called: see feed_lines)."""


def flow_step(pos: SourcePos | None, text: str) -> FlowStep:
    """The step of a flow line's text (`flow: A ← B`, `from E (reason)`), its parts
    taken apart; a text of neither form is kept as an OTHER step."""
    clean = text.strip().removeprefix("escflow:").strip()  # (debug output's prefix)
    hop = _HOP_PARTS.match(clean)
    if hop is not None:
        return FlowStep(pos, text, FlowStepKind.HOP, destination=hop["dest"], source=hop["src"])
    edge = _EDGE_PARTS.match(clean)
    if edge is not None:
        return FlowStep(
            pos, text, FlowStepKind.EDGE, expression=edge["expr"], reason=edge["reason"].strip()
        )
    return FlowStep(pos, text, FlowStepKind.OTHER)


_NOT_SEEN = FlowStep(None, "")  # not in `EscapeParser._flows` yet


def _by_position(item: tuple[SourcePos, object]) -> tuple[str, int, int]:
    """Orders by a position as SourcePos does, without a call of its `__lt__`."""
    pos = item[0]
    return pos.file, pos.line, pos.col


def split_pos_line(line: str) -> tuple[str, str] | None:
    """(pos, msg) of `file.go:12:5: msg`, None for any other line (no newline in it):
    POS_LINE_RE's groups. Its lazy `.*?` ends at the leftmost place (after a first
    character that is not a tab) where `.go:12:5: ` follows, which a search finds."""
    if line[:1] in ("", "\t") or ".go:" not in line:  # (the listing's lines, quickly)
        return None
    found = _POS_END.search(line, 1)
    if found is None:
        return None
    end = found.end()
    return line[: end - 2], line[end:]


def from_step(msg: str) -> tuple[str, str] | None:
    r"""(text, pos) of a flow line's message `   from E (reason) at file.go:12:5` (no
    newline in it): _FROM's groups.

    The position ends the message and has no whitespace, so only the last ` at ` can be
    followed by one: the search finds that (and fails when it overlaps `from `).
    """
    head = _FROM_HEAD.match(msg)
    if head is None:
        return None
    tail = _FROM_TAIL.search(msg, head.end() - 1)  # (` at ` may start with the space)
    if tail is None or tail.start() < head.end():
        return None
    return msg[head.end() : tail.start()], tail.group(1)


def iter_diagnostics(lines: Iterable[str], positions: Positions) -> Iterator[EscapeDiagnostic]:
    """The escape diagnostics of one package's `-m=2` output, as they complete."""
    parser = EscapeParser(positions)
    for line in lines:
        yield from parser.feed(line)
    yield from parser.finish()
