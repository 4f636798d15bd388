"""Which function a profiled call site called, read from the program the profile came from.

A heap profile's location is a return address minus one; the instruction before the
return address is the call. Reading it from the binary (`analyze --binary PROG
--profile FILE`) names the runtime function that allocated where no site is, e.g. a map
assignment that grew the map, which is the reason shown for those samples
(runtime_calls.py says what such a call allocates).

Invariants: only direct calls are decoded (amd64 `CALL rel32`, arm64 `BL imm26`); an
address outside the text, an indirect call, or a target outside every function gives
None, never a guess. The program is read, never run.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable

from escape_lens.binary.program import GoProgram
from escape_lens.errors import BinaryFormatError


def callee_reader(path: str | os.PathLike[str]) -> Callable[[int], str | None]:
    """`reader(location_address)` -> the called function's name, or None."""
    program = GoProgram.load(path)
    functions = sorted(program.functions, key=lambda f: f.entry)
    entries = [f.entry for f in functions]
    arm64 = program.goarch == "arm64"

    def function_at(address: int) -> str | None:
        index = bisect.bisect_right(entries, address) - 1
        if index < 0 or not functions[index].entry <= address < functions[index].end:
            return None
        return functions[index].name

    def callee(location: int) -> str | None:
        ret = location + 1
        try:
            if arm64:
                word = int.from_bytes(program.elf.read(ret - 4, 4), "little")
                if word >> 26 != 0b100101:
                    return None
                offset = word & 0x3FFFFFF
                offset -= (1 << 26) if offset & (1 << 25) else 0
                return function_at(ret - 4 + 4 * offset)
            code = program.elf.read(ret - 5, 5)
        except (BinaryFormatError, ValueError, IndexError):
            return None
        if code[0] != 0xE8:
            return None
        return function_at(ret + int.from_bytes(code[1:], "little", signed=True))

    return callee
