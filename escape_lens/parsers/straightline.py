"""The straight line of instructions before a call, read back from the `-S` listing.

The arguments of a call are what the code right before it put in their registers, but
only along the one path that surely reaches the call: the straight line starts after the
previous JMP or RET and at the last branch target (another path may arrive there with
other values). Branch targets are known only when a function's listing ends, so a call
keeps a `Window` onto the listing's lines until then (parsers/asm.py).

Invariants: no more than `WINDOW` instruction lines are looked at per call (registers
do not survive a call, and argument set-up is right before it); the instructions shown
with a site are the last `DISPLAY_LINES` that are not pseudo-instructions, whatever the
straight line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Instructions that neither compute nor clobber anything of interest.
PSEUDO_OPS = frozenset({"PCDATA", "FUNCDATA", "NOP", "XCHGL", "INLMARK"})
DISPLAY_LINES = 6
WINDOW = 64


@dataclass(slots=True)
class Window:
    """The instruction lines since the CALL before a call: `earlier` (carried over from
    earlier batches of lines, oldest first), then those of `lines[begin:end]`; the last
    `WINDOW` of them (registers do not survive a call, and argument set-up is right
    before it, so a long call-free stretch is cut)."""

    earlier: tuple[str, ...]
    lines: list[str]
    begin: int
    end: int

    def newest_first(self) -> Iterator[tuple[str, str]]:
        """(line, instruction) of the instruction lines from the one before the call back;
        the instruction is what follows the line's first `)\t`."""
        left = WINDOW
        lines = self.lines
        for index in range(self.end - 1, self.begin - 1, -1):
            line = lines[index]
            open_paren = line.find(" (", 7, 32)  # (not a skipped line, see AsmParser._instructions)
            if open_paren >= 0:
                close_paren = line.find(")\t")
                if close_paren < open_paren and (
                    close_paren < 0 or line.find(")\t", open_paren) < 0
                ):
                    continue
                yield line, line[close_paren + 2 :]
                left -= 1
                if not left:
                    return
        for line in reversed(self.earlier[-left:]):
            yield line, line[line.find(")\t") + 2 :]

    def oldest_first(self) -> Iterator[str]:
        """The lines of `lines[begin:end]` that are instructions (no more than the window)."""
        return reversed([line for line, _ in self.newest_first()])


# A one-byte value boxed without an allocation points into this table (walk/convert.go
# dataWord): each reference before a call is a boxing that allocates nothing.
_STATIC_BOX = "runtime.staticuint64s"


def static_boxes(window: Window) -> int:
    """The one-byte boxings since the previous call, whatever the branches (a nil check
    of an interface between two boxings starts a new straight line)."""
    return sum(1 for _, text in window.newest_first() if _STATIC_BOX in text)


_TYPE_WORD = re.compile(
    r"^(?:LEAQ|MOVD)\t\$?(?:type:(?P<type>.+?)|go:itab\.(?P<itab>.+?),.*)\(SB\), "
)


def boxed_type(after: list[str]) -> str | None:
    """The type an interface conversion call (`convT64`, ...) boxes: the interface's type
    word, loaded right after the call (`LEAQ type:int(SB), CX`; `go:itab.T,I` for a
    non-empty interface); `after` holds the listing's lines after the call. None when
    they load none."""
    for line in after:
        text = line[line.find(")\t") + 2 :]
        found = _TYPE_WORD.match(text)
        if found is not None:
            return found.group("type") or found.group("itab")
        if text.startswith("CALL"):
            return None
    return None


def branch_targets(jumps: list[str]) -> set[int]:
    """The pcs that branches go to: `JGT\t66` goes to 66 (in decimal), `JMP\tAX` nowhere
    known."""
    targets = set()
    for jump in jumps:
        target = jump[jump.find("\t") + 1 :]  # (no tab: the whole, which is no number)
        if target.isdigit():
            targets.add(int(target))
    return targets


def straight_line(
    window: Window, branch_targets: set[int]
) -> tuple[list[tuple[str, str]], list[str]]:
    """The (op, operands) of the straight line that ends at a call, and the instructions
    shown for it (the last few, whatever the straight line), both oldest first.

    Walks the window back from the call: the straight line starts after a JMP or RET
    and at a branch target (see the module docstring).
    """
    straight: list[tuple[str, str]] | None = None
    newest: list[tuple[str, str]] = []
    shown: list[str] = []
    for line, text in window.newest_first():
        op, _, operands = text.partition("\t")
        if straight is None:
            if op == "JMP" or op.startswith("RET"):
                straight = newest[:]
            else:
                # The pc in decimal, `line[1:].split(" ", 2)[1]` (`\t0x0013 00019 (...`).
                first = line.find(" ", 1)
                if first >= 0:
                    second = line.find(" ", first + 1)
                    pc = int(line[first + 1 : second] if second >= 0 else line[first + 1 :])
                    if pc in branch_targets:
                        straight = [*newest, (op, operands)]
        newest.append((op, operands))
        if op not in PSEUDO_OPS and len(shown) < DISPLAY_LINES:
            shown.append(text)
        if straight is not None and len(shown) == DISPLAY_LINES:
            break
    straight = newest if straight is None else straight
    straight.reverse()
    shown.reverse()
    return straight, shown
