"""Calls into allocation entry points, found in machine code with capstone.

Strategy, chosen for speed on whole programs (tens of MB of code):
1. Raw byte scan. A direct call is `E8 rel32` on amd64 and `BL imm26` (top six bits
   100101, 4-byte aligned) on arm64; every candidate whose target is an allocation entry
   address is a hit. Most functions have none and are never disassembled.
2. A function with hits is disassembled once with capstone in "lite" mode (no operand
   details: tuples of address, size, mnemonic, operand text). A hit that is not an
   instruction boundary (an E8 byte inside another instruction) is dropped here.
3. For each real call, the argument registers are traced backwards through at most
   `_LOOKBACK` instructions within the same straight-line code: a `LEA reg, [rip+d]`
   (amd64) or `ADRP`+`ADD` (arm64) gives a type descriptor address, a `MOV reg, imm` or
   `XOR reg, reg` a constant, a register-to-register move continues with the source.
   The walk stops at calls, returns, unconditional jumps and branch targets (another path
   could set the register differently): no value is better than a wrong one.

Invariants: pure functions of the code bytes and addresses; nothing here knows about
pclntab, types or Sites (the caller resolves addresses). Display text is made apart
(`asm_lines`) from the instructions kept with each call.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import capstone

from escape_lens.binary.entries import ABI_REGISTERS, EntrySpec

_LOOKBACK = 16


Insn = tuple[int, int, str, str]  # capstone lite: address, size, mnemonic, operands


@dataclass(frozen=True, slots=True)
class RawCall:
    """One allocation call: where, to which entry, and what its registers were loaded with.
    `listing` holds the instructions that set them up and the call itself."""

    pc: int
    entry: str
    type_addr: int | None
    count: int | None
    listing: tuple[Insn, ...]


def asm_lines(call: RawCall) -> tuple[str, ...]:
    """Display text of a call's listing, the call shown by its entry point's name."""
    lines = [f"{a:#x}: {m} {o}".rstrip() for a, _, m, o in call.listing[:-1]]
    last = call.listing[-1]
    lines.append(f"{last[0]:#x}: {last[2]} runtime.{call.entry}")
    return tuple(lines)


# --- candidate scans -----------------------------------------------------------------------


def iter_call_hits_amd64(code: bytes, base: int, targets: Mapping[int, object]) -> Iterator[int]:
    """Addresses of `E8 rel32` byte patterns in `code` whose target is in `targets`."""
    find = code.find
    limit = len(code) - 5
    pos = find(b"\xe8")
    while 0 <= pos <= limit:
        rel = int.from_bytes(code[pos + 1 : pos + 5], "little", signed=True)
        if base + pos + 5 + rel in targets:
            yield base + pos
        pos = find(b"\xe8", pos + 1)


def iter_call_hits_arm64(code: bytes, base: int, targets: Mapping[int, object]) -> Iterator[int]:
    """Addresses of `BL imm26` words in `code` whose target is in `targets`."""
    start = (-base) % 4
    view = memoryview(code)[start : start + (len(code) - start) // 4 * 4].cast("I")
    for i, word in enumerate(view):
        if word >> 26 == 0b100101:
            imm = word & 0x3FFFFFF
            if imm & 0x2000000:
                imm -= 0x4000000
            pc = base + start + 4 * i
            if pc + 4 * imm in targets:
                yield pc


# --- register tracing ----------------------------------------------------------------------

_X86_ALIASES: dict[str, str] = {}
for _full, _names in {
    "rax": ("eax", "ax", "al", "ah"),
    "rbx": ("ebx", "bx", "bl", "bh"),
    "rcx": ("ecx", "cx", "cl", "ch"),
    "rdx": ("edx", "dx", "dl", "dh"),
    "rdi": ("edi", "di", "dil"),
    "rsi": ("esi", "si", "sil"),
}.items():
    _X86_ALIASES[_full] = _full
    for _alias in _names:
        _X86_ALIASES[_alias] = _full
for _n in range(8, 16):
    for _suffix in ("", "d", "w", "b"):
        _X86_ALIASES[f"r{_n}{_suffix}"] = f"r{_n}"

_X86_IMPLICIT = {
    "call": None,  # clobbers everything
    "syscall": None,
    "cpuid": None,
    "mul": ("rax", "rdx"),
    "div": ("rax", "rdx"),
    "idiv": ("rax", "rdx"),
    "cqo": ("rdx",),
    "cdq": ("rdx",),
    "cdqe": ("rax",),
    "xchg": None,
    "cmpxchg": ("rax",),
    "xadd": None,
}
# Instructions whose first operand is read, not written.
_X86_READS_FIRST = {"cmp", "test", "bt", "push", "ucomisd", "ucomiss", "comisd", "comiss"}
_ARM64_READS_FIRST = {"cmp", "cmn", "tst", "ccmp", "ccmn", "cbz", "cbnz", "tbz", "tbnz", "prfm"}
_X86_STOP = {"ret", "jmp", "ud2", "int3", "hlt"}
_RIP_REL = re.compile(r"\[rip ([+-]) (0x[0-9a-f]+|\d+)\]$")
_ARM64_BRANCHES = {"b", "cbz", "cbnz", "tbz", "tbnz"}
_ARM64_STOP = {"ret", "b", "br", "bl", "blr", "brk", "udf"}


def _int(text: str) -> int | None:
    text = text.strip().lstrip("#")
    try:
        return int(text, 0)
    except ValueError:
        return None


@dataclass(slots=True)
class _Value:
    addr: int | None = None
    const: int | None = None
    at: int | None = None  # index of the instruction that set it (for display)


def _trace_amd64(insns: list[Insn], index: int, register: str, barriers: set[int]) -> _Value:
    reg = register
    for i in range(index - 1, max(-1, index - 1 - _LOOKBACK), -1):
        addr, size, mnem, ops = insns[i]
        if mnem in _X86_STOP or mnem.startswith(("rep", "movs", "stos")):
            break
        if mnem in _X86_IMPLICIT:
            clobbered = _X86_IMPLICIT[mnem]
            if clobbered is None or reg in clobbered:
                break
        dest, _, src = ops.partition(", ")
        if _X86_ALIASES.get(dest) == reg and mnem not in _X86_READS_FIRST:
            if mnem == "lea":
                match = _RIP_REL.search(src)
                if match is None:
                    return _Value()
                disp = int(match.group(2), 0) * (-1 if match.group(1) == "-" else 1)
                return _Value(addr=addr + size + disp, at=i)
            if mnem in ("mov", "movabs"):
                const = _int(src)
                if const is not None:
                    return _Value(const=const, at=i)
                source = _X86_ALIASES.get(src)
                if source is None:
                    return _Value()
                reg = source
                if addr in barriers:
                    break
                continue
            if mnem == "xor" and _X86_ALIASES.get(src) == reg:
                return _Value(const=0, at=i)
            return _Value()
        if addr in barriers:
            break
    return _Value()


def _arm64_reg(text: str) -> str | None:
    text = text.strip()
    if len(text) > 1 and text[0] in "xw" and text[1:].isdigit():
        return "x" + text[1:]
    return None


def _trace_arm64(insns: list[Insn], index: int, register: str, barriers: set[int]) -> _Value:
    """Like `_trace_amd64`, for Go's arm64 sequences: `ADRP reg, page; ADD reg, reg, #off`
    for an address, `MOV reg, #imm` optionally followed by `MOVK reg, #imm, lsl #n` for
    a constant (walked backwards, so the ADD and the MOVKs are met first)."""
    reg = register
    page_offset: int | None = None
    patches: list[tuple[int, int]] = []  # (16-bit value, shift) of MOVKs, latest first
    for i in range(index - 1, max(-1, index - 1 - _LOOKBACK), -1):
        addr, _, mnem, ops = insns[i]
        if mnem in _ARM64_STOP or mnem.startswith("b."):
            break
        parts = [p.strip() for p in ops.split(",")]
        reads_only = mnem.startswith("st") or mnem in _ARM64_READS_FIRST
        if parts and _arm64_reg(parts[0]) == reg and not reads_only:
            if mnem == "adrp" and len(parts) == 2 and not patches:
                page = _int(parts[1])
                if page is None:
                    return _Value()
                return _Value(addr=page + (page_offset or 0), at=i)
            if page_offset is not None:
                return _Value()  # an ADD whose register was not set by ADRP
            if mnem == "add" and len(parts) == 3 and _arm64_reg(parts[1]) == reg and not patches:
                page_offset = _int(parts[2])
                if page_offset is None:
                    return _Value()
            elif mnem == "movk" and len(parts) in (2, 3):
                value = _int(parts[1])
                shift = _int(parts[2].removeprefix("lsl").strip()) if len(parts) == 3 else 0
                if value is None or shift is None:
                    return _Value()
                patches.append((value, shift))
            elif mnem in ("mov", "movz") and len(parts) == 2:
                const = 0 if parts[1] in ("xzr", "wzr") else _int(parts[1])
                if const is not None:
                    for value, shift in reversed(patches):
                        const = const & ~(0xFFFF << shift) | value << shift
                    return _Value(const=const, at=i)
                source = _arm64_reg(parts[1])
                if source is None or patches:
                    return _Value()
                reg = source
            else:
                return _Value()
        if addr in barriers:
            break
    return _Value()


def _branch_targets(insns: list[Insn], arch: str) -> set[int]:
    """Addresses some direct branch of the function jumps to."""
    if arch == "amd64":
        operands = [ops for _, _, mnem, ops in insns if mnem[0] == "j"]
    else:
        operands = [
            ops for _, _, mnem, ops in insns if mnem in _ARM64_BRANCHES or mnem.startswith("b.")
        ]
    targets = set()
    for ops in operands:
        value = _int(ops.rsplit(",", 1)[-1])
        if value is not None:
            targets.add(value)
    return targets


class Disassembler:
    """Finds allocation calls in one architecture's code."""

    def __init__(self, arch: str, entries: Mapping[int, tuple[str, EntrySpec]]) -> None:
        self.arch = arch
        self.entries = entries
        self.registers = ABI_REGISTERS[arch]
        if arch == "amd64":
            self._cs = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
            self._hits = iter_call_hits_amd64
            self._trace = _trace_amd64
        else:
            self._cs = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
            self._hits = iter_call_hits_arm64
            self._trace = _trace_arm64
        self._cs.detail = False
        self._cs.skipdata = True
        self._att: capstone.Cs | None = None  # amd64 in AT&T syntax, made when needed

    def following(self, code: bytes, base: int, pc: int, count: int) -> list[Insn]:
        """Up to `count` instructions after the direct call at `pc`; on amd64 in AT&T
        syntax, whose operand order and names are nearly Go's (binary/goasm.py)."""
        if self.arch != "amd64":
            start = pc + 4 - base
            return list(self._cs.disasm_lite(code[start : start + 4 * count], pc + 4, count))
        if self._att is None:
            self._att = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
            self._att.syntax = capstone.CS_OPT_SYNTAX_ATT
            self._att.detail = False
        start = pc + 5 - base
        return list(self._att.disasm_lite(code[start : start + 15 * count], pc + 5, count))

    def iter_calls(self, code: bytes, base: int) -> Iterator[RawCall]:
        """Allocation calls in one function's code (`base` = its entry address)."""
        hits = set(self._hits(code, base, self.entries))
        if not hits:
            return
        insns: list[Insn] = list(self._cs.disasm_lite(code, base))
        barriers = _branch_targets(insns, self.arch)
        starts = [i[0] for i in insns]
        for hit in sorted(hits):
            index = bisect.bisect_left(starts, hit)
            if index == len(starts) or starts[index] != hit:
                continue  # the pattern was inside another instruction
            insn = insns[index]
            target = _int(insn[3])
            if target is None or target not in self.entries:
                continue
            entry, spec = self.entries[target]
            type_addr = count = None
            first = max(0, index - 3)
            if spec.type_arg is not None:
                value = self._trace(insns, index, self.registers[spec.type_arg], barriers)
                type_addr = value.addr
                first = min(first, value.at if value.at is not None else first)
            if spec.count_arg is not None:
                value = self._trace(insns, index, self.registers[spec.count_arg], barriers)
                count = value.const
                first = min(first, value.at if value.at is not None else first)
            yield RawCall(insn[0], entry, type_addr, count, tuple(insns[first : index + 1]))
