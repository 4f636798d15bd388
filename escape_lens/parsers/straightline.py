"""The instructions before a call, read back from the `-S` listing.

The arguments of a call are what the code before it put in their registers on every
path into it (parsers/registers.py `arguments_reaching` reads the window forward, paths
meeting at branch targets). Where a jump table hides ways in (`jumps_through_register`),
only the straight line counts: it starts after the previous JMP or RET and at the last
branch target (another path may arrive there with other values). Branch targets are known
only when a function's listing ends, so a call keeps a `Window` onto the listing's lines
until then (parsers/asm.py).

Invariants: no more than `WINDOW` instruction lines are looked at per call (registers
do not survive a call, and argument set-up is right before it); the instructions shown
with a site are the last `DISPLAY_LINES` that are not pseudo-instructions, whatever the
straight line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

# Instructions that neither compute nor clobber anything of interest.
PSEUDO_OPS = frozenset({"PCDATA", "FUNCDATA", "NOP", "XCHGL", "INLMARK"})
DISPLAY_LINES = 6
WINDOW = 64


@dataclass(slots=True)
class Window:
    """The instruction lines since the CALL before a call: `earlier` (carried over from
    earlier batches of lines, oldest first), then those of `lines[begin:end]`; the last
    `WINDOW` of them (registers do not survive a call, and argument set-up is right
    before it, so a long call-free stretch is cut). Read once, however many of the
    call's questions (straight line, static boxes, static data) look at it."""

    earlier: tuple[str, ...]
    lines: list[str]
    begin: int
    end: int
    _read: list[tuple[str, str]] | None = field(default=None, compare=False, repr=False)

    def newest_first(self) -> list[tuple[str, str]]:
        """(line, instruction) of the instruction lines from the one before the call back;
        the instruction is what follows the line's first `)\t`."""
        if self._read is None:
            self._read = self._walk()
        return self._read

    def _walk(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
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
                found.append((line, line[close_paren + 2 :]))
                left -= 1
                if not left:
                    return found
        for line in reversed(self.earlier[-left:]):
            found.append((line, line[line.find(")\t") + 2 :]))
        return found

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


def static_data(window: Window) -> bool:
    """Whether the straight line takes the address of `runtime.zerobase` (a zero-size
    value boxed, or a zero-length make) or of read-only data (`..stmp_N`: a constant)."""
    return any("runtime.zerobase" in text or "..stmp_" in text for _, text in window.newest_first())


def jump_counts(jumps: list[str]) -> Counter[int]:
    """How many of the branches go to each pc; a branch goes to its last operand: `JGT\t66`
    (amd64), `BLS\t66`, `CBZ\tR0, 66` (arm64) go to 66 (in decimal); `JMP\tAX` nowhere
    known. The pcs counted are the branch targets."""
    counts: Counter[int] = Counter()
    for jump in jumps:
        target = jump[jump.find("\t") + 1 :]  # (no tab: the whole, which is no number)
        target = target[target.rfind(" ") + 1 :]
        if target.isdigit():
            counts[int(target)] += 1
    return counts


def jumps_through_register(jumps: list[str]) -> bool:
    """Whether a branch goes where a register says (a switch's jump table, `JMP\t(DX)(AX*8)`
    on amd64, `JMP\t(R27)` on arm64): the table's targets are reached by no branch
    `jump_counts` counts."""
    for jump in jumps:
        op, _, target = jump.partition("\t")
        if op in ("JMP", "B") and not target.isdigit():
            return True
    return False


# The straight line's pseudo-instruction for one the branch skips: what it writes is
# known on one path only (`Architecture.arguments` forgets it).
JOIN = "JOIN"


def listing_pc(line: str) -> int | None:
    """The pc in decimal, `line[1:].split(" ", 2)[1]` (`\t0x0013 00019 (...`)."""
    first = line.find(" ", 1)
    if first < 0:
        return None
    second = line.find(" ", first + 1)
    number = line[first + 1 : second] if second >= 0 else line[first + 1 :]
    return int(number) if number.isdigit() else None


def _skipping_branch(
    older: list[tuple[str, str]], target: int, jumps: Counter[int] | None
) -> int | None:
    """Where, in `older` (the instructions before a branch target, newest first), the
    one branch to `target` is, when it is a forward conditional branch of this straight
    line that skips only straight code (a write barrier's slow path): the code after the
    target then sees the registers the skipped code leaves alone. None otherwise."""
    if jumps is None or jumps[target] != 1:
        return None
    for position, (_, text) in enumerate(older):
        op, _, operands = text.partition("\t")
        if op == "JMP" or op.startswith("RET"):
            return None
        if op[:1] in "JB" and operands.rsplit(" ", 1)[-1] == str(target):
            return position
        if listing_pc(older[position][0]) in jumps:
            return None  # another path joins the skipped code
    return None


def straight_line(
    window: Window, branch_targets: set[int], jumps: Counter[int] | None = None
) -> tuple[list[tuple[str, str]], list[str]]:
    """The (op, operands) of the straight line that ends at a call, and the instructions
    shown for it (the last few, whatever the straight line), both oldest first.

    Walks the window back from the call: the straight line starts after a JMP or RET
    and at a branch target (see the module docstring), but for the target of a forward
    branch of the line itself (`jumps` counts the branches to each pc), whose skipped
    instructions become `JOIN`s.
    """
    lines = window.newest_first()
    straight: list[tuple[str, str]] = []
    shown = [text for _, text in lines if text.partition("\t")[0] not in PSEUDO_OPS]
    shown = shown[:DISPLAY_LINES]
    index = 0
    while index < len(lines):
        line, text = lines[index]
        op, _, operands = text.partition("\t")
        if op == "JMP" or op.startswith("RET"):
            break
        straight.append((op, operands))
        pc = listing_pc(line)
        if pc is not None and pc in branch_targets:
            skipped = _skipping_branch(lines[index + 1 :], pc, jumps)
            if skipped is None:
                break
            straight.extend((JOIN, skip) for _, skip in lines[index + 1 : index + 1 + skipped])
            index += skipped + 1
            continue
        index += 1
    straight.reverse()
    shown.reverse()
    return straight, shown
