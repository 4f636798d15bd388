"""Where a function boxes values without a call, read from their data words.

Some values converted to an interface allocate nothing (walk/convert.go dataWord): a
bool or byte's data word points into `runtime.staticuint64s`, a zero-size value's at
`runtime.zerobase`, a constant's into read-only data (`pkg..stmp_N`). The join needs to
know between which allocation calls each such boxing is (`AllocCall.static_boxes`) to
pair a line's diagnostics in order. go1.22+ usually take the table's address where the
value is boxed; go1.21 hoists it to the statement's start and keeps the pointer in a
register or a stack temporary until the interface is stored. Either way the boxing is
where the pointer is stored as a data word: 8 bytes after the slot where the
interface's type word was just stored.

Invariants:
- Registers do not survive a call: only stack and global slots carry a pointer from one
  call's window into the next.
- A placement is given only when every pointer the function makes into the table is
  stored as a data word or still kept at the end (one value boxed twice is one
  pointer); else `placed` returns None, and the caller keeps the plain count of table
  references and says it is not placed. Zero-size values and constants are counted
  where their data word is stored (those addresses serve other ends too).
- amd64 only (the forms below); another architecture gets None from the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_TABLE = "runtime.staticuint64s"
_ZERO = "runtime.zerobase(SB)"
# A constant's value in read-only data (`pkg..stmp_0(SB)`; walk/convert.go dataWord).
_READ_ONLY = re.compile(r"\.\.stmp_\d+\(SB\)$")
# `name+64(SP)`, `64(SP)`, `pkg.Sink(SB)`, `pkg.Sink+8(SB)`: (symbol, offset, base)
_SLOT = re.compile(r"^(?P<symbol>[^()]*?)(?P<offset>[-+]?\d+)?\((?P<base>\w+)\)$")
_REGISTER = re.compile(r"^(?:[A-D]X|[SD]I|[SB]P|R\d+)$")
_INDEXED_TABLE = re.compile(r"^\((?P<table>\w+)\)\(\w+\*8\)$")
_TYPE_WORD_PREFIXES = ("type:", "go:itab.")

Slot = tuple[str, int, str]


def _slot(operand: str) -> Slot | None:
    found = _SLOT.match(operand)
    if found is None or found.group("base") not in ("SP", "SB"):
        return None
    symbol = found.group("symbol")
    return (symbol, int(found.group("offset") or 0), found.group("base"))


def placed(windows: Sequence[Iterable[tuple[str, str]]]) -> list[int] | None:
    """For each call's window ((op, operands) since the previous CALL, oldest first),
    how many values are boxed in it without a call; None when the data words do not account
    for every pointer into the table (see the module docstring). A pointer still kept
    in a slot after the last window is boxed after the last call: it places nothing."""
    slots: dict[Slot, str | int] = {}  # "type", or the number of a pointer into the table
    made = 0
    stored: list[int] = []
    counts: list[int] = []
    for window in windows:
        registers: dict[str, str | int] = {}  # "type", "table", or a pointer's number
        count = 0
        for op, operands in window:
            source, _, dest = operands.rpartition(", ")
            value: str | int | None = None
            if op == "LEAQ":
                if source.startswith(_ZERO) or _READ_ONLY.search(source):
                    value = "static"  # a zero-size value's or a constant's data word
                elif source.startswith(_TABLE):
                    if source.startswith(_TABLE + "("):
                        value = "table"
                    else:  # `runtime.staticuint64s+8(SB)`: a constant's pointer
                        value, made = made, made + 1
                elif source.startswith(_TYPE_WORD_PREFIXES):
                    value = "type"
                elif (indexed := _INDEXED_TABLE.match(source)) and registers.get(
                    indexed.group("table")
                ) == "table":
                    value, made = made, made + 1
            elif op == "MOVQ":
                if _REGISTER.match(source):
                    value = registers.get(source)
                elif (from_slot := _slot(source)) is not None:
                    value = slots.get(from_slot)
            if _REGISTER.match(dest):
                if value is None:
                    registers.pop(dest, None)
                else:
                    registers[dest] = value
                continue
            to_slot = _slot(dest)
            if to_slot is None:
                continue
            symbol, offset, base = to_slot
            boxed = isinstance(value, int) or value == "static"
            if boxed and slots.get((symbol, offset - 8, base)) == "type":
                count += 1
                if isinstance(value, int):
                    stored.append(value)
                slots.pop(to_slot, None)
            elif value is None:
                slots.pop(to_slot, None)
            else:
                slots[to_slot] = value
        counts.append(count)
    kept = {value for value in slots.values() if isinstance(value, int)}
    return counts if set(range(made)) <= {*stored, *kept} else None
