"""Machine code spelled as the compiler's `-S` listing spells it, so that source mode's
reader of which type a `convT*` call boxes (parsers/boxedtype.py) reads binary mode's
calls too, with the same rules.

amd64: capstone's AT&T syntax already orders operands as Go's assembler does (source,
then destination) and names most instructions alike (`movq`, `leaq`, `xorl`); what
differs is spelled here: registers (`%rax`, `%eax` -> `AX`), displacements in decimal
(`0x28(%rsp)` -> `40(SP)`). arm64: capstone's operands come destination first and Go's
last (`mov x1, x0` -> `MOVD R0, R1`, `str x0, [sp, #0x28]` -> `MOVD R0, 40(RSP)`, `stp
x0, x1, [sp, #8]` -> `STP (R0, R1), 8(RSP)`), and an address is `adrp` + `add`, one
`MOVD $sym(SB), R` in a listing. Both: an instruction's target as the listing gives it
(a call by its function's name, a jump by its offset in the function), and addresses
named as a listing names them by symbol: a type descriptor becomes `type:T<addr>`, an
itab `go:itab.T<addr>,I` (`<addr>` being the concrete type's descriptor), anything else
`mem+<addr>(SB)`, one symbol for all memory so that two words 8 bytes apart stay 8 bytes
apart. `boxed_address` reads the address back from the name the reader returns.

Invariants: nothing is spelled that the code does not say; an operand this module does
not know keeps capstone's text, which the reader's patterns never take for a register,
a slot or a type word (so it only forgets, never pairs).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from escape_lens.binary.disasm import Insn

NameOf = Callable[[int], "str | None"]
TypeWord = Callable[[int], "int | None"]

_TARGET = re.compile(r"^(?:0x[0-9a-f]+|\d+)$")
_PLACEHOLDER = re.compile(r"^T(?P<addr>[0-9a-f]+)$")


def listing_lines(
    insns: Iterable[Insn],
    entry: int,
    function_at: NameOf,
    type_word: TypeWord,
    goarch: str = "amd64",
) -> list[str]:
    """`insns` (capstone lite; AT&T syntax on amd64) as `-S` lines, `<TAB>0x0013 00019
    (binary)<TAB>OP<TAB>ARGS`, the pc counted from the function's `entry`.
    `function_at(addr)` names a call's target; `type_word(addr)` is, for an address
    that holds an interface's type word, the address of the concrete type's descriptor
    (the address itself for a type descriptor, the itab's type for an itab), else None."""
    if goarch == "arm64":
        return _arm64_lines(list(insns), entry, function_at, type_word)
    return _amd64_lines(insns, entry, function_at, type_word)


def boxed_address(name: str | None) -> int | None:
    """The descriptor address of a type word `listing_lines` spelled, from the name
    boxedtype read off it."""
    if name is None:
        return None
    found = _PLACEHOLDER.match(name)
    return int(found.group("addr"), 16) if found else None


def _line(pc: int, op: str, args: str) -> str:
    return f"\t{pc:#06x} {pc:05d} (binary)\t{op}\t{args}".rstrip("\t")


def _symbol(address: int, type_word: TypeWord) -> str:
    """A listing's name for what is at `address`."""
    descriptor = type_word(address)
    if descriptor is None:
        return f"mem+{address}(SB)"
    if descriptor == address:
        return f"type:T{descriptor:x}(SB)"
    return f"go:itab.T{descriptor:x},interface(SB)"


# A comma between operands: not one inside a memory operand's brackets, which a closing
# bracket follows before any opening one (capstone's operands do not nest).
_OPERAND_COMMA = re.compile(r",(?![^(\[]*[)\]])")


def _split(operands: str) -> list[str]:
    """Operands at the top level (`0x8(%rax,%rcx,8), %r8` is two)."""
    parts = (
        _OPERAND_COMMA.split(operands)
        if "(" in operands or "[" in operands
        else (operands.split(","))
    )
    return [stripped for part in parts if (stripped := part.strip())]


def _target(text: str, op: str, entry: int, function_at: NameOf) -> str:
    if not _TARGET.match(text):
        return text  # an indirect call or jump: through a register or memory
    address = int(text, 0)
    if op == "CALL":
        name = function_at(address)
        return f"{name}(SB)" if name else text
    return str(address - entry)


# --- amd64 -------------------------------------------------------------------------------

_REGISTERS: dict[str, str] = {}
for _base in ("ax", "bx", "cx", "dx"):
    for _name in (f"r{_base}", f"e{_base}", _base):
        _REGISTERS[_name] = _base.upper()
    _REGISTERS[_base[0] + "l"] = _base[0].upper() + "L"
for _base in ("si", "di", "sp", "bp"):
    for _name in (f"r{_base}", f"e{_base}", _base):
        _REGISTERS[_name] = _base.upper()
    _REGISTERS[_base + "l"] = _base.upper() + "L"
for _n in range(8, 16):
    for _suffix in ("", "d", "w"):
        _REGISTERS[f"r{_n}{_suffix}"] = f"R{_n}"
    _REGISTERS[f"r{_n}b"] = f"R{_n}B"
for _n in range(16):
    _REGISTERS[f"xmm{_n}"] = f"X{_n}"

_MEMORY = re.compile(
    r"^(?P<disp>-?(?:0x[0-9a-f]+|\d+))?"
    r"\((?P<base>%\w+)?(?:,\s*(?P<index>%\w+)(?:,\s*(?P<scale>\d))?)?\)$"
)
_AMD64_NAMES = {"call": "CALL", "callq": "CALL", "jmp": "JMP", "jmpq": "JMP"}
_AMD64_NAMES |= {"ret": "RET", "retq": "RET"}


def _amd64_lines(
    insns: Iterable[Insn], entry: int, function_at: NameOf, type_word: TypeWord
) -> list[str]:
    lines = []
    for address, size, mnemonic, operands in insns:
        op = _AMD64_NAMES.get(mnemonic, mnemonic.upper())
        if op == "CALL" or op.startswith("J"):
            args = _target(operands.strip(), op, entry, function_at)
        else:
            args = ", ".join(
                _amd64_operand(text, address + size, type_word) for text in _split(operands)
            )
        lines.append(_line(address - entry, op, args))
    return lines


def _amd64_operand(text: str, next_pc: int, type_word: TypeWord) -> str:
    if text.startswith("%"):
        return _REGISTERS.get(text[1:], text)
    if text.startswith("$"):
        return text
    found = _MEMORY.match(text)
    if found is None:
        return text  # a segment-relative operand, or one capstone spells otherwise
    disp = int(found.group("disp") or "0", 0)
    base = (found.group("base") or "")[1:]
    if base == "rip":
        return _symbol(next_pc + disp, type_word)
    register = _REGISTERS.get(base)
    if register is None:
        return text
    spelled = f"{disp}({register})" if disp else f"({register})"
    index = found.group("index")
    if index is not None:
        index_register = _REGISTERS.get(index[1:])
        if index_register is None:
            return text
        spelled += f"({index_register}*{found.group('scale') or 1})"
    return spelled


# --- arm64 -------------------------------------------------------------------------------

_ARM64_MEMORY = re.compile(r"^\[(?P<base>\w+)(?:, #(?P<disp>-?(?:0x[0-9a-f]+|\d+)))?\]$")
_ARM64_STORES = {"str": "MOVD", "strb": "MOVB", "strh": "MOVH"}
_ARM64_LOADS = {"ldr": "MOVD", "ldrb": "MOVBU", "ldrh": "MOVHU", "ldrsw": "MOVW"}
_ARM64_BRANCHES = {"b": "JMP", "bl": "CALL", "ret": "RET", "cbz": "CBZ", "cbnz": "CBNZ"}
_ARM64_BRANCHES |= {"tbz": "TBZ", "tbnz": "TBNZ"}


def _arm64_register(text: str) -> str | None:
    if text in ("sp", "wsp"):
        return "RSP"
    if text in ("xzr", "wzr"):
        return "ZR"
    if len(text) > 1 and text[0] in "xw" and text[1:].isdigit():
        return f"R{text[1:]}"
    return None


def _arm64_operand(text: str) -> str:
    register = _arm64_register(text)
    if register is not None:
        return register
    if text.startswith("#"):
        return "$" + text[1:]
    found = _ARM64_MEMORY.match(text)
    if found is not None:
        base = _arm64_register(found.group("base"))
        if base is not None:
            disp = int(found.group("disp") or "0", 0)
            return f"{disp}({base})" if disp else f"({base})"
    return text  # a pre- or post-indexed address, a shifted register: not followed


def _arm64_address(insns: list[Insn], index: int, parts: list[str]) -> int | None:
    """The address an `adrp` at `index` and the `add` to the same register right after
    it make, or None when no such `add` follows."""
    if index + 1 >= len(insns) or insns[index + 1][2] != "add":
        return None
    added = _split(insns[index + 1][3])
    if len(added) != 3 or added[0] != parts[0] or added[1] != parts[0]:
        return None
    if not added[2].startswith("#"):
        return None
    return int(parts[1].lstrip("#"), 0) + int(added[2][1:], 0)


def _arm64_lines(
    insns: list[Insn], entry: int, function_at: NameOf, type_word: TypeWord
) -> list[str]:
    lines = []
    index = 0
    while index < len(insns):
        address, _, mnemonic, operands = insns[index]
        parts = _split(operands)
        pc = address - entry
        spelled = [_arm64_operand(p) for p in parts]
        index += 1
        if mnemonic == "adrp" and len(parts) == 2:
            full = _arm64_address(insns, index - 1, parts)
            if full is None:
                lines.append(_line(pc, "ADRP", f"{spelled[1]}, {spelled[0]}"))
            else:
                index += 1  # the pair is one instruction in a listing
                lines.append(_line(pc, "MOVD", f"${_symbol(full, type_word)}, {spelled[0]}"))
        elif mnemonic in _ARM64_BRANCHES or mnemonic.startswith("b."):
            op = _ARM64_BRANCHES.get(mnemonic) or "B" + mnemonic[2:].upper()
            target = _target(parts[-1].lstrip("#"), op, entry, function_at) if parts else ""
            lines.append(_line(pc, op, ", ".join([*spelled[:-1], target] if parts else [])))
        elif mnemonic in _ARM64_STORES and len(parts) == 2:
            op = _ARM64_STORES[mnemonic] if mnemonic != "str" or parts[0][0] == "x" else "MOVW"
            lines.append(_line(pc, op, f"{spelled[0]}, {spelled[1]}"))
        elif mnemonic == "stp" and len(parts) == 3:
            lines.append(_line(pc, "STP", f"({spelled[0]}, {spelled[1]}), {spelled[2]}"))
        elif mnemonic in _ARM64_LOADS and len(parts) == 2:
            lines.append(_line(pc, _ARM64_LOADS[mnemonic], f"{spelled[1]}, {spelled[0]}"))
        elif mnemonic == "ldp" and len(parts) == 3:
            lines.append(_line(pc, "LDP", f"{spelled[2]}, ({spelled[0]}, {spelled[1]})"))
        elif mnemonic == "mov" and len(parts) == 2:
            op = "MOVW" if parts[0][0] == "w" else "MOVD"
            lines.append(_line(pc, op, f"{spelled[1]}, {spelled[0]}"))
        else:  # Go's operand order: the destination last
            lines.append(_line(pc, mnemonic.upper(), ", ".join(reversed(spelled))))
    return lines
