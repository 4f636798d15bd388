"""Which type an interface conversion call boxes, read from the code after it.

A `convT64`, `convTstring`, `convTslice` ... call takes the value and returns the data
word; the interface's type word (`LEAQ type:int(SB), CX`; `go:itab.T,I` for a non-empty
interface) is loaded after the call, wherever the interface goes next. The call's own
type (uint64 for convT64) is only its size class: `int64(b.uint8())`, a defined
`Offset` or an error type `headerError` boxed by it are other types.

Invariants:
- Register ABI: an interface passed or returned in registers takes two consecutive
  integer registers, type word first (`Architecture.arg_registers`). The data word
  leaves the call in the first one and may be copied to others; where it is at the next
  call, jump or return, the register before it holds the type word. That pairing is
  what the listing proves, and wins. A switch arm assigning an interface variable jumps
  to the merge point with the pair in registers of no ABI order: there the one type word
  the arm loaded is it (two or more: not decided here).
- Without it (the data word stored to memory, the code too long, another layout) the
  first type word loaded in the first `NEAR_LINES` instructions after the call is taken,
  before any other call, as it always was; None when there is none.
"""

from __future__ import annotations

import re

from escape_lens.parsers.registers import Architecture
from escape_lens.parsers.straightline import PSEUDO_OPS

# How far after the call the pairing is followed (a result returned as an error zeroes
# the stack slots of the other results first: five instructions in archive/tar).
AFTER_LINES = 12
# How far after the call a type word is taken without a pairing.
NEAR_LINES = 3

_TYPE_WORD = re.compile(
    r"^(?:LEAQ|MOVD)\t\$?(?:type:(?P<type>.+?)|go:itab\.(?P<itab>.+?),.*)\(SB\), "
)
_ENDS = ("CALL", "RET", "JMP")


def boxed_type(after: list[str], architecture: Architecture) -> str | None:
    """The type the conversion call before `after` (the listing's lines after it) boxes."""
    instructions = [_instruction(line) for line in after]
    paired = _paired(instructions, architecture)
    return paired if paired is not None else _near(instructions)


def _instruction(line: str) -> str:
    return line[line.find(")\t") + 2 :]


def _paired(instructions: list[str], architecture: Architecture) -> str | None:
    registers = architecture.arg_registers
    data = {registers[0]}  # where the data word is
    types: dict[str, str] = {}  # register -> the type word it holds
    loads: set[str] = set()  # every type word loaded
    for text in instructions:
        op, _, operands = text.partition("\t")
        if op in PSEUDO_OPS:
            continue
        if op.startswith(_ENDS) or op == "B":
            beside = _type_beside(data, types, registers)
            if beside is None and op in ("JMP", "B") and data and len(loads) == 1:
                # A switch arm assigning an interface variable: the pair goes to the
                # arms' merge point in registers of no ABI order, and only one type
                # was loaded for it.
                (beside,) = loads
            return beside
        word = _TYPE_WORD.match(text)
        loaded = operands.rpartition(", ")[2] if word is not None else ""
        for reg, _, source in architecture.effects(op, operands):
            copied = source is not None and source in data
            copied_type = types.get(source) if source is not None else None
            data.discard(reg)
            types.pop(reg, None)
            if copied:
                data.add(reg)
            elif copied_type is not None:
                types[reg] = copied_type
        if word is not None:
            loads.add(word.group("type") or word.group("itab"))
            if loaded in registers:
                types[loaded] = word.group("type") or word.group("itab")
    return None  # the interface's next use is further on


def _type_beside(data: set[str], types: dict[str, str], registers: tuple[str, ...]) -> str | None:
    found = {
        types.get(registers[registers.index(reg) - 1])
        for reg in data
        if reg in registers and registers.index(reg) > 0
    }
    named = sorted(name for name in found if name is not None)
    return named[0] if len(named) == 1 else None


def _near(instructions: list[str]) -> str | None:
    for text in instructions[:NEAR_LINES]:
        word = _TYPE_WORD.match(text)
        if word is not None:
            return word.group("type") or word.group("itab")
        if text.startswith("CALL"):
            return None
    return None
