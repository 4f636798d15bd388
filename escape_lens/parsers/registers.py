"""What the argument registers hold at an allocation call: the per-architecture seam.

The listing loop (parsers/asm.py) finds a CALL of an allocation entry point and the
straight line before it (parsers/straightline.py); an `Architecture` says which registers
carry the entry's arguments under the register ABI and what each instruction does to
them. `AMD64` is the one the build uses today; another architecture is one more
`Architecture` value with its own register names and moves.

Invariants:
- A register holds a type (`LEAQ type:T(SB), R`) or a constant (`MOVL/MOVQ $n, R`,
  `XORL R, R`), carried by register-to-register moves (`MOVL $10, BX; MOVQ BX, CX` for
  make([]T, 10)); any other write to it forgets it. Flag-only instructions (`CMPQ AX,
  DX`) change nothing: a type compared before it is allocated keeps its register.
- A value not set on the straight line is None, never a guess (a type loaded from a
  generic dictionary has no name here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from escape_lens.entries import EntrySpec
from escape_lens.parsers.descriptors import TYPE_PREFIXES
from escape_lens.parsers.straightline import PSEUDO_OPS

# What an instruction does to the registers: None (nothing), or (register, its new
# value or None when it is forgotten, or the register whose value it copies).
Effect = tuple[str, tuple[str, str | int] | None, str | None]


@dataclass(frozen=True, slots=True)
class Architecture:
    """arg_registers: the register ABI's integer argument registers in Go assembler names
    (argument i of an entry point, escape_lens.entries, is in the i-th)."""

    name: str
    arg_registers: tuple[str, ...]
    effect: Callable[[str, str], Effect | None]

    def register(self, arg: int | None) -> str | None:
        return None if arg is None else self.arg_registers[arg]

    def arguments(
        self, straight: Sequence[tuple[str, str]], spec: EntrySpec
    ) -> tuple[str | None, int | None]:
        """(type name, count) an entry point's call gets from the straight line before it
        ((op, operands) oldest first)."""
        held: dict[str, tuple[str, str | int]] = {}
        for op, operands in straight:
            if op in PSEUDO_OPS:
                continue
            effect = self.effect(op, operands)
            if effect is None:
                continue
            reg, value, source = effect
            if source is not None:
                value = held.get(source)  # `MOVQ BX, CX` copies it
            if value is None:
                held.pop(reg, None)
            else:
                held[reg] = value
        type_name = _held(held, self.register(spec.type_arg), "type")
        count = _held(held, self.register(spec.count_arg), "const")
        return (
            type_name if isinstance(type_name, str) else None,
            count if isinstance(count, int) else None,
        )


def _held(held: dict[str, tuple[str, str | int]], reg: str | None, kind: str) -> str | int | None:
    if reg is None:
        return None
    value = held.get(reg)
    return value[1] if value is not None and value[0] == kind else None


def type_symbol(symbol: str) -> str | None:
    """`type:main.T(SB)` -> `main.T`; None for anything else (offsets, other symbols)."""
    if not symbol.endswith("(SB)"):
        return None
    for prefix in TYPE_PREFIXES:
        if symbol.startswith(prefix):
            name = symbol[len(prefix) : -len("(SB)")]
            return None if name.startswith(".") or re.search(r"\+\d+$", name) else name
    return None


_AMD64_CONST = re.compile(r"^\$(?P<value>-?(?:0x[0-9a-f]+|\d+))$")
_AMD64_REGISTER = re.compile(r"^(?:[A-D]X|[SD]I|[SB]P|R\d+|X\d+|[A-D]L|[SD]IL|R\d+[BLW])$")
# Instructions that only set flags: `CMPQ AX, DX` leaves DX (a type compared before
# it is allocated keeps its register).
_AMD64_READ_ONLY_OPS = ("CMP", "TEST", "BT", "UCOMIS", "COMIS")


@lru_cache(maxsize=1 << 14)  # the same few thousand instructions set up most calls
def _amd64_effect(op: str, args: str) -> Effect | None:
    """What an amd64 instruction does to the registers (see `Effect`)."""
    source, _, dest = args.rpartition(", ")
    if op.startswith(_AMD64_READ_ONLY_OPS) or not _AMD64_REGISTER.match(dest):
        return None
    value: tuple[str, str | int] | None = None
    copied = None
    if op == "LEAQ":
        name = type_symbol(source)
        if name is not None:
            value = ("type", name)
    elif op in ("MOVL", "MOVQ"):
        const = _AMD64_CONST.match(source)
        if const is not None:
            value = ("const", int(const.group("value"), 0))
        elif _AMD64_REGISTER.match(source):
            copied = _amd64_full_register(source)
    elif op in ("XORL", "XORQ") and source == dest:
        value = ("const", 0)
    return _amd64_full_register(dest), value, copied


def _amd64_full_register(reg: str) -> str:
    """The 64-bit register a partial register name writes (`AL` -> `AX`)."""
    if reg in ("AL", "BL", "CL", "DL"):
        return reg[0] + "X"
    if reg in ("SIL", "DIL"):
        return reg[:2]
    if reg.startswith("R") and reg[-1] in "BLW" and reg[1:-1].isdigit():
        return reg[:-1]
    return reg


AMD64 = Architecture(
    "amd64", ("AX", "BX", "CX", "DI", "SI", "R8", "R9", "R10", "R11"), _amd64_effect
)
