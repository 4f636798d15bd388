"""What the argument registers hold at an allocation call: the per-architecture seam.

The listing loop (parsers/asm.py) finds a CALL of an allocation entry point and the
straight line before it (parsers/straightline.py); an `Architecture` says which registers
carry the entry's arguments under the register ABI and what each instruction does to
them. `AMD64` and `ARM64` are the two source mode reads (`for_goarch`); another
architecture is one more `Architecture` value with its own register names and moves.

Invariants:
- A register holds a type (amd64 `LEAQ type:T(SB), R`, arm64 `MOVD $type:T(SB), R`) or a
  constant (`MOVL/MOVQ $n, R`, `XORL R, R`; `MOVD/MOVW $n, R`, `MOVD ZR, R`), carried by
  register-to-register moves (`MOVL $10, BX; MOVQ BX, CX` for make([]T, 10)); any other
  write to it forgets it (arm64 `LDP` writes two). Flag-only instructions (`CMPQ AX,
  DX`, `CMP R1, R2`) change nothing: a type compared before it is allocated keeps its
  register.
- A write barrier call keeps the registers but its scratch one; an instruction a branch
  of the straight line may skip (`JOIN`) forgets what it writes.
- Read over a call's window (`arguments_reaching`), a branch target keeps what all its
  ways in agree on, and only when every branch the function has to it is one of the
  window's, earlier than it: else nothing is known there.
- A value not set on the straight line is None, never a guess (a type loaded from a
  generic dictionary has no name here).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from escape_lens.entries import EntrySpec
from escape_lens.gonames import unescaped
from escape_lens.parsers.descriptors import TYPE_PREFIXES
from escape_lens.parsers.straightline import JOIN, PSEUDO_OPS, Window, listing_pc

# What an instruction does to one register: (register, its new value or None when it is
# forgotten, or the register whose value it copies). An instruction has a tuple of them.
Effect = tuple[str, tuple[str, str | int] | None, str | None]
# What the registers hold: register -> ("type", name) or ("const", n).
Held = dict[str, tuple[str, str | int]]
_NO_EFFECT: tuple[Effect, ...] = ()


@dataclass(frozen=True, slots=True)
class Architecture:
    """arg_registers: the register ABI's integer argument registers in Go assembler names
    (argument i of an entry point, escape_lens.entries, is in the i-th); branch_letters:
    first letters of branch instructions besides `J` (and `CB...`, told from `CALL`)."""

    name: str
    arg_registers: tuple[str, ...]
    effects: Callable[[str, str], tuple[Effect, ...]]
    branch_letters: str = ""
    # What a write barrier call writes (runtime/asm_*.s gcWriteBarrier: its buffer
    # pointer); it keeps every other register.
    call_clobbers: tuple[str, ...] = ()

    def register(self, arg: int | None) -> str | None:
        return None if arg is None else self.arg_registers[arg]

    def arguments(
        self, straight: Sequence[tuple[str, str]], spec: EntrySpec
    ) -> tuple[str | None, int | None]:
        """(type name, count) an entry point's call gets from the straight line before it
        ((op, operands) oldest first)."""
        held: Held = {}
        for op, operands in straight:
            if op in PSEUDO_OPS:
                continue
            if op == JOIN:  # on one path only: what it writes is not known after it
                skipped_op, _, skipped = operands.partition("\t")
                for reg, _, _ in self.effects(skipped_op, skipped):
                    held.pop(reg, None)
                for reg in self.call_clobbers if skipped_op == "CALL" else ():
                    held.pop(reg, None)
                continue
            self._step(held, op, operands)
        return self._passed(held, spec)

    def arguments_reaching(
        self, window: Window, jumps: Counter[int], spec: EntrySpec
    ) -> tuple[str | None, int | None]:
        """(type name, count) an entry point's call gets on every path into it through
        the window (the lines since the previous call; `jumps` counts the function's
        branches to each pc).

        Read forward from the window's first line, where nothing is known. At a branch
        target, what the registers hold is what every way in agrees on: the branches to
        it earlier in the window (the state each leaves with) and the instruction before
        it, if that one runs on. A target that a branch outside the window, a backward
        one or one not read reaches (fewer branches met than `jumps` counts) starts
        again from nothing, as does an instruction after a JMP or RET that no branch
        names. A function with a jump through a register must not be read this way: its
        jump table's targets are branches `jumps` does not count.
        """
        held: Held | None = {}
        arriving: dict[int, list[Held]] = {}
        last_pc: int | None = None
        for line, text in reversed(window.newest_first()):
            op, _, operands = text.partition("\t")
            pc = listing_pc(line)
            if pc is not None and pc != last_pc:
                last_pc = pc
                if pc in jumps:
                    ways = arriving.pop(pc, [])
                    if len(ways) != jumps[pc]:
                        held = {}
                    else:
                        if held is not None:
                            ways.append(held)
                        held = _agreed(ways)
            if held is None:
                held = {}  # after a JMP or RET: reached from where the listing does not say
            if op in PSEUDO_OPS:
                continue
            target = self._branch_target(op, operands)
            if target is not None and pc is not None and target > pc:
                arriving.setdefault(target, []).append(dict(held))
            if op in ("JMP", "B") or op.startswith("RET"):
                held = None
                continue
            self._step(held, op, operands)
        return self._passed(held or {}, spec)

    def _branch_target(self, op: str, operands: str) -> int | None:
        """The pc a branch goes to, when `op` is one the listing loop counts as a branch
        (parsers/asm.py, `jump_counts`) and its last operand a pc."""
        if not op or not (
            op[0] == "J" or op[0] in self.branch_letters or (self.branch_letters and op[:2] == "CB")
        ):
            return None
        target = operands.rpartition(" ")[2]
        return int(target) if target.isdigit() else None

    def _step(self, held: Held, op: str, operands: str) -> None:
        """What one instruction of a path does to what the registers hold."""
        if op == "CALL":  # only a write barrier stays in a straight line
            for reg in self.call_clobbers:
                held.pop(reg, None)
            return
        for reg, value, source in self.effects(op, operands):
            if source is not None:
                value = held.get(source)  # `MOVQ BX, CX` copies it
            if value is None:
                held.pop(reg, None)
            else:
                held[reg] = value

    def _passed(self, held: Held, spec: EntrySpec) -> tuple[str | None, int | None]:
        type_name = _held(held, self.register(spec.type_arg), "type")
        count = _held(held, self.register(spec.count_arg), "const")
        return (
            type_name if isinstance(type_name, str) else None,
            count if isinstance(count, int) else None,
        )


def _agreed(ways: list[Held]) -> Held:
    """What the registers hold on every one of `ways` into an instruction."""
    first, *others = ways
    return {reg: value for reg, value in first.items() if all(o.get(reg) == value for o in others)}


def _held(held: Held, reg: str | None, kind: str) -> str | int | None:
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
            return None if name.startswith(".") or re.search(r"\+\d+$", name) else unescaped(name)
    return None


_AMD64_CONST = re.compile(r"^\$(?P<value>-?(?:0x[0-9a-f]+|\d+))$")
_AMD64_REGISTER = re.compile(r"^(?:[A-D]X|[SD]I|[SB]P|R\d+|X\d+|[A-D]L|[SD]IL|R\d+[BLW])$")
# Instructions that only set flags: `CMPQ AX, DX` leaves DX (a type compared before
# it is allocated keeps its register).
_AMD64_READ_ONLY_OPS = ("CMP", "TEST", "BT", "UCOMIS", "COMIS")


@lru_cache(maxsize=1 << 14)  # the same few thousand instructions set up most calls
def _amd64_effects(op: str, args: str) -> tuple[Effect, ...]:
    """What an amd64 instruction does to the registers (see `Effect`)."""
    source, _, dest = args.rpartition(", ")
    if op.startswith(_AMD64_READ_ONLY_OPS) or not _AMD64_REGISTER.match(dest):
        return _NO_EFFECT
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
    return ((_amd64_full_register(dest), value, copied),)


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
    "amd64",
    ("AX", "BX", "CX", "DI", "SI", "R8", "R9", "R10", "R11"),
    _amd64_effects,
    call_clobbers=("R11",),
)

_ARM64_CONST = re.compile(r"^\$(?P<value>-?(?:0x[0-9a-f]+|\d+))$")
_ARM64_REGISTER = re.compile(r"^(?:R\d+|ZR|RSP|g)$")
# Flag-only instructions (`CMP R1, R2` sets flags; its last operand is read, not written).
_ARM64_READ_ONLY_OPS = ("CMP", "CMN", "TST", "FCMP", "CCMP", "CCMN")


@lru_cache(maxsize=1 << 14)
def _arm64_effects(op: str, args: str) -> tuple[Effect, ...]:
    """What an arm64 instruction does to the registers (see `Effect`); the destination
    is the last operand (`MOVD $type:T(SB), R1`, `ADD $8, R1, R2`), or a register pair
    (`LDP 8(RSP), (R1, R2)`)."""
    if op.startswith(_ARM64_READ_ONLY_OPS):
        return _NO_EFFECT
    if args.endswith(")") and op.startswith(("LDP", "CASP")):  # writes a pair
        pair = args[args.rfind("(") + 1 : -1].split(", ")
        return tuple((reg, None, None) for reg in pair if _ARM64_REGISTER.match(reg))
    source, _, dest = args.rpartition(", ")
    if not _ARM64_REGISTER.match(dest) or dest in ("ZR", "RSP"):
        return _NO_EFFECT
    value: tuple[str, str | int] | None = None
    copied = None
    if op in ("MOVD", "MOVW", "MOVWU"):
        const = _ARM64_CONST.match(source)
        if const is not None:
            value = ("const", int(const.group("value"), 0))
        elif source.startswith("$"):
            name = type_symbol(source[1:])
            if name is not None:
                value = ("type", name)
        elif source == "ZR":
            value = ("const", 0)
        elif _ARM64_REGISTER.match(source):
            copied = source
    return ((dest, value, copied),)


# The register ABI's integer argument registers: R0-R15.
ARM64 = Architecture(
    "arm64",
    tuple(f"R{i}" for i in range(16)),
    _arm64_effects,
    "BT",
    call_clobbers=("R25", "R27", "R30"),
)

ARCHITECTURES = {"amd64": AMD64, "arm64": ARM64}


def for_goarch(goarch: str) -> Architecture:
    """The Architecture of a GOARCH source mode reads (toolchain/build.py refuses others)."""
    return ARCHITECTURES.get(goarch, AMD64)
