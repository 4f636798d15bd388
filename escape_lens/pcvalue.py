"""Go's pc-value tables, one decoder for the linked program and the object file.

A pc-value table maps each pc of one function to a value (a file index, a line, an
inlining-tree node, ...). The compiler writes it (cmd/internal/obj/pcln.go `funcpctab`)
into the object file as the data of an aux symbol, and the linker copies it unchanged
into `.gopclntab` (runtime/symtab.go `step` reads it), so both readers share this code:

    a stream of (value delta, pc delta) pairs: the value delta is a zig-zag varint
    (bit 0 set: negative), the pc delta an unsigned varint counted in instruction
    quanta (`MinLC`: 1 on amd64, 4 on arm64); the value starts at -1 at the entry, and
    holds from the previous pc up to (not including) the new one. A zero byte where a
    value delta is due ends the table (the first value delta may itself be 0: a table
    whose value starts at -1).

The decoded table is two parallel lists: the end pc of each run and its value.
"""

from __future__ import annotations

import bisect

PcTable = tuple[list[int], list[int]]


def read_uvarint(data: bytes, pos: int) -> tuple[int, int] | None:
    """(value, position after it) of the unsigned varint at `data[pos]`; None when it
    runs off the end."""
    value = shift = 0
    size = len(data)
    while pos < size:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos
    return None


def decode_pcvalue(data: bytes, pos: int, entry: int, quantum: int) -> PcTable | None:
    """The table at `data[pos:]` of a function at `entry`; None when it runs off the end."""
    ends: list[int] = []
    values: list[int] = []
    size = len(data)
    pc = entry
    value = -1
    first = True
    while True:
        if pos >= size or pos < 0:
            return None
        if data[pos] == 0 and not first:
            return ends, values
        first = False
        step = read_uvarint(data, pos)
        if step is None:
            return None
        uv, pos = step
        value += -(uv & 1) ^ (uv >> 1)
        step = read_uvarint(data, pos)
        if step is None:
            return None
        delta, pos = step
        pc += delta * quantum
        ends.append(pc)
        values.append(value)


def value_at(table: PcTable, pc: int) -> int:
    """The value in effect at `pc` (a pc at or after the function's entry); -1 past the end."""
    ends, values = table
    i = bisect.bisect_right(ends, pc)
    return values[i] if i < len(values) else -1
