"""Which type an interface conversion call boxes, read from the code after it.

A `convT64`, `convTstring`, `convTslice` ... call returns the data word; the interface's
type word (`LEAQ type:int(SB), CX`; `go:itab.T,I`) is loaded after the call, wherever
the interface goes next. The call's own type (uint64 for convT64) is only its size
class (docs/parsers.md#the-assembly-listing).

Invariants:
- Register ABI: an interface in registers takes two consecutive integer registers,
  type word first (`Architecture.arg_registers`); where the data word is at the next
  call, jump or return, the register before it holds the type word, and wins. A switch
  arm jumping to its merge point with the pair in registers of no ABI order: the one
  type word the arm loaded (two or more: not decided here).
- In memory an interface is two words, type word first: where the data word (followed
  through spills and reloads) is stored 8 bytes after a type word, or a type word 8
  bytes before it, that type is it. A spilled data word outlives another call (whose
  argument types are never the boxed one); a write barrier's block is read on to its
  merge point, as both paths store.
- Each forward branch to an instruction still to be read starts a path (`MAX_PATHS`);
  a forward jump that pairs nothing goes on where it lands. One conversion boxes one
  type: a pairing on any path is it; paths pairing different types give None.
- Without a pairing, the first type word in the first `NEAR_LINES` instructions, before
  any other call and unless another call receives it; else None.
"""

from __future__ import annotations

import re

from escape_lens.gonames import unescaped
from escape_lens.parsers.registers import Architecture
from escape_lens.parsers.straightline import PSEUDO_OPS, listing_pc

# How far after the call the pairing is followed: a result returned as an error zeroes
# the stack slots of the other results first (five instructions in archive/tar); a map
# literal's value is stored after its mapassign and write barrier (about twenty); a
# value appended by an inlined callee after the append's growslice block and the slice
# header's write barrier (41 lines for `r.add(methods(ms))`, go1.27.3).
AFTER_LINES = 64
# How far after the call a type word is taken without a pairing.
NEAR_LINES = 3
# How many paths out of the call are followed (each forward branch inside the lines
# read starts one): a pairing found on any of them is the conversion's.
MAX_PATHS = 16

_TYPE_WORD = re.compile(
    r"^(?:LEAQ|MOVD)\t\$?(?:type:(?P<type>.+?)|go:itab\.(?P<itab>.+?),.*)\(SB\), "
)
_ENDS = ("CALL", "RET", "JMP")
_WRITE_BARRIER_CHECK = "runtime.writeBarrier(SB)"
_WRITE_BARRIER_CALL = "runtime.gcWriteBarrier"
# A memory operand: `8(AX)`, `pkg..autotmp_26+80(SP)`, `pkg.Sink+8(SB)`; an indexed
# one is not followed.
_MEMORY = re.compile(
    r"^(?:(?P<bare>-?\d+)|(?P<symbol>[^()]*?)(?P<offset>[+-]\d+)?)\((?P<base>\w+)\)"
    r"(?P<index>\(\w+\*\d\))?$"
)
_WORD_MOVES = ("MOVQ", "MOVD")
_STACK = ("SP", "RSP")

Slot = tuple[str, int]  # (base register, offset)


def boxed_type(after: list[str], architecture: Architecture) -> str | None:
    """The type the conversion call before `after` (the listing's lines after it) boxes."""
    instructions = [_instruction(line) for line in after]
    pcs = [-1 if (pc := listing_pc(line)) is None else pc for line in after]
    received: set[str] = set()  # type words another call receives as its argument
    paths: list[tuple[int, _Pairing]] = [(0, _Pairing(architecture, received))]
    found: set[str] = set()
    followed = 0
    while paths and followed < MAX_PATHS:
        start, pairing = paths.pop(0)
        followed += 1
        paired = pairing.follow(instructions, pcs, start, paths)
        if paired is not None:
            found.add(paired)
    if len(found) > 1:
        return None  # one conversion has one type: the paths do not say which
    if found:
        return found.pop()
    return _near(instructions, received)


def _instruction(line: str) -> str:
    return line[line.find(")\t") + 2 :]


def _slot(operand: str) -> Slot | None:
    """(base, offset) of a memory operand; a global's base is its symbol."""
    found = _MEMORY.match(operand)
    if found is None:
        return None
    base = found.group("base") + (found.group("index") or "")
    if base == "SB":
        base = f"{found.group('symbol')}(SB)"
    return base, int(found.group("bare") or found.group("offset") or 0)


def _ahead(target: str, pcs: list[int]) -> bool:
    """Whether a jump's target is one of the instructions still to be read."""
    return target.isdigit() and int(target) in pcs


def _forward(operands: str, pcs: list[int], index: int) -> int | None:
    """The index in `pcs` of a branch's target (its last operand, a pc in decimal) when
    it is one of the instructions after `index`, else None (backward, further on, or
    through a register)."""
    target = operands.rpartition(" ")[2]
    if not target.isdigit():
        return None
    try:
        return pcs.index(int(target), index + 1)
    except ValueError:
        return None


class _Pairing:
    """Where the data word and the type words are, instruction by instruction."""

    def __init__(self, architecture: Architecture, received: set[str]) -> None:
        self.architecture = architecture
        self.registers = architecture.arg_registers
        self.received = received
        self.data: set[str] = {self.registers[0]}  # registers holding the data word
        self.types: dict[str, str] = {}  # register -> the type word it holds
        self.loads: set[str] = set()  # every type word loaded into a register
        self.data_slots: set[Slot] = set()
        self.type_slots: dict[Slot, str] = {}
        self.in_barrier = False  # reading a write barrier's block on in listing order

    def fork(self) -> _Pairing:
        """The same words in the same places, for the other way out of a branch."""
        other = _Pairing(self.architecture, self.received)
        other.data = set(self.data)
        other.types = dict(self.types)
        other.loads = set(self.loads)
        other.data_slots = set(self.data_slots)
        other.type_slots = dict(self.type_slots)
        other.in_barrier = self.in_barrier
        return other

    def follow(
        self,
        instructions: list[str],
        pcs: list[int],
        start: int = 0,
        paths: list[tuple[int, _Pairing]] | None = None,
    ) -> str | None:
        """The type word paired with the data word on the path from `instructions[start]`
        on; a forward conditional branch to an instruction still to be read adds the
        path it takes to `paths` (None: not followed)."""
        index = start - 1
        while index + 1 < len(instructions):
            index += 1
            text = instructions[index]
            op, _, operands = text.partition("\t")
            if op in PSEUDO_OPS:
                continue
            if operands.startswith(_WRITE_BARRIER_CHECK):
                self.in_barrier = True
                continue
            if op == "CALL" and operands.startswith(_WRITE_BARRIER_CALL):
                self._write(self.architecture.call_clobbers)
                continue
            if op.startswith(_ENDS) or op == "B":
                if self.in_barrier and op == "JMP" and _ahead(operands, pcs[index + 1 :]):
                    continue  # to the barrier's merge point: each path makes the same store
                beside = self._beside()
                if (
                    beside is None
                    and op in ("JMP", "B")
                    and self._unstored()
                    and len(self.loads) == 1
                ):
                    # A switch arm assigning an interface variable: the pair goes to the
                    # arms' merge point in registers of no ABI order (not stored on
                    # the way), and only one type was loaded for it.
                    (beside,) = self.loads
                if beside is None and op in ("JMP", "B"):
                    # A jump ahead (past a nil check's other arm, or an inlined callee's
                    # block) goes on with the same words where it lands.
                    landing = _forward(operands, pcs, index)
                    if landing is not None:
                        index = landing - 1
                        continue
                if beside is not None or op != "CALL" or not self.data_slots:
                    return beside
                self._other_call()
                continue
            if paths is not None and op[:1] in "JBCT" and op != "CALL":
                landing = _forward(operands, pcs, index)
                if landing is not None:  # a conditional branch: its target is one more path
                    paths.append((landing, self.fork()))
            handled, found = self._memory(op, operands)
            if found is not None:
                return found
            if not handled:
                self._registers(text, op, operands)
        return None  # the interface's next use is further on

    def _unstored(self) -> bool:
        """Whether the data word is in registers only (stored, it went elsewhere)."""
        return bool(self.data) and not self.data_slots

    def _beside(self) -> str | None:
        registers = self.registers
        found = {
            self.types.get(registers[registers.index(reg) - 1])
            for reg in self.data
            if reg in registers and registers.index(reg) > 0
        }
        named = sorted(name for name in found if name is not None)
        return named[0] if len(named) == 1 else None

    def _other_call(self) -> None:
        """Another call, with the data word spilled: the type words in its argument
        registers are what it receives; it keeps no register."""
        self.received.update(self.types.values())
        self.data.clear()
        self.types.clear()
        self.loads.clear()
        self.data_slots = {s for s in self.data_slots if s[0] in _STACK}
        self.type_slots = {s: t for s, t in self.type_slots.items() if s[0] in _STACK}

    def _memory(self, op: str, operands: str) -> tuple[bool, str | None]:
        """Follow a word stored to or loaded from memory: whether the instruction was
        one, and the type paired with the data word when this store puts them side by
        side."""
        source, _, dest = operands.rpartition(", ")
        if op.startswith("STP") and source.startswith("("):  # arm64: a pair of words
            slot = _slot(dest)
            pair = source[1:-1].split(", ")
            if slot is None or len(pair) != 2:
                return False, None
            for offset, reg in zip((0, 8), pair, strict=True):
                found = self._store(reg, (slot[0], slot[1] + offset))
                if found is not None:
                    return True, found
            return True, None
        slot = _slot(dest)
        if slot is not None:
            if op in _WORD_MOVES:
                return True, self._store(source, slot)
            # Another store there (`MOVUPS X15, slot` zeroes two words) forgets them.
            for offset in (0, 8):
                self._forget((slot[0], slot[1] + offset))
            return False, None
        loaded = _slot(source)
        if loaded is None or op not in _WORD_MOVES:
            return False, None
        self._write((dest,))
        if loaded in self.data_slots:
            self.data.add(dest)
        elif loaded in self.type_slots:
            self.types[dest] = self.type_slots[loaded]
        return True, None

    def _store(self, reg: str, slot: Slot) -> str | None:
        self._forget(slot)
        base, offset = slot
        if reg in self.data:
            self.data_slots.add(slot)
            return self.type_slots.get((base, offset - 8))
        other = self.type_slots.get((base, offset - 8))
        if other is not None:  # that type word is another interface's
            self.received.add(other)
        if reg in self.types:
            self.type_slots[slot] = self.types[reg]
            if (base, offset + 8) in self.data_slots:
                return self.types[reg]
        return None

    def _forget(self, slot: Slot) -> None:
        self.data_slots.discard(slot)
        self.type_slots.pop(slot, None)

    def _write(self, regs: tuple[str, ...]) -> None:
        for reg in regs:
            self.data.discard(reg)
            self.types.pop(reg, None)
            self.data_slots = {s for s in self.data_slots if s[0] != reg}
            self.type_slots = {s: t for s, t in self.type_slots.items() if s[0] != reg}

    def _registers(self, text: str, op: str, operands: str) -> None:
        word = _TYPE_WORD.match(text)
        loaded = operands.rpartition(", ")[2] if word is not None else ""
        for reg, _, source in self.architecture.effects(op, operands):
            copied = source is not None and source in self.data
            copied_type = self.types.get(source) if source is not None else None
            self._write((reg,))
            if copied:
                self.data.add(reg)
            elif copied_type is not None:
                self.types[reg] = copied_type
        if word is not None:
            name = unescaped(word.group("type") or word.group("itab"))
            self.loads.add(name)
            if "(" not in loaded:  # any register: it may be stored next to the data
                self.types[loaded] = name


def _near(instructions: list[str], received: set[str]) -> str | None:
    for text in instructions[:NEAR_LINES]:
        word = _TYPE_WORD.match(text)
        if word is not None:
            name = unescaped(word.group("type") or word.group("itab"))
            return None if name in received else name
        if text.startswith(_ENDS) or text.startswith("B\t"):
            return None  # after a jump, the code is another path's
    return None
