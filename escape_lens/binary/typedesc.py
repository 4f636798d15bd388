"""Runtime type descriptors (`internal/abi.Type`) read from the binary.

Layout, identical in Go 1.21-1.27 (src/internal/abi/type.go), 48 bytes on 64-bit:

    0  Size_ uintptr       8  PtrBytes uintptr   16 Hash u32   20 TFlag u8   21 Align_ u8
    22 FieldAlign_ u8      23 Kind_ u8           24 Equal func 32 GCData *byte
    40 Str NameOff (i32)   44 PtrToThis TypeOff (i32)

followed, for some kinds, by kind-specific fields: `ChanType.Elem` and `MapType.Key`,
`MapType.Elem` are the words at 48 (and 56). The name is an `abi.Name` at
`moduledata.types + Str`: a flag byte, a uvarint length, the bytes. With
`TFlagExtraStar` the stored name carries a leading `*` that is not part of it (the
linker shares one string between T and *T).

Invariants: descriptors are read by address, each once (cached); a descriptor outside
the module's types range is a `BinaryFormatError` naming the address, since it means the
call-site analysis followed something that was not a type.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from escape_lens.binary.elf import GoELF
from escape_lens.errors import BinaryFormatError
from escape_lens.pcvalue import read_uvarint
from escape_lens.records import TypeInfo

_HEADER = struct.Struct("<QQIBBBBQQii")
TFLAG_EXTRA_STAR = 1 << 1
KIND_MASK = (1 << 5) - 1
KIND_CHAN = 18
KIND_INTERFACE = 20
KIND_MAP = 21


@dataclass(frozen=True, slots=True)
class TypeDescriptor:
    addr: int
    info: TypeInfo
    kind: int
    align: int
    elem: int = 0  # chan and map: address of the element type's descriptor
    key: int = 0  # map: address of the key type's descriptor


class TypeReader:
    def __init__(self, elf: GoELF, types: int, etypes: int) -> None:
        self.elf = elf
        self.types = types
        self.etypes = etypes
        self._cache: dict[int, TypeDescriptor] = {}

    def is_type(self, addr: int) -> bool:
        return self.types <= addr < self.etypes

    def read(self, addr: int) -> TypeDescriptor:
        cached = self._cache.get(addr)
        if cached is not None:
            return cached
        if not self.is_type(addr):
            raise BinaryFormatError(
                f"{self.elf.path}: {addr:#x} is not a type descriptor "
                f"(types are at {self.types:#x}..{self.etypes:#x})"
            )
        raw = self.elf.read(addr, _HEADER.size + 16)
        size, ptrbytes, _, tflag, align, _, kind, _, _, name_off, _ = _HEADER.unpack_from(raw)
        name = self._name(name_off)
        if tflag & TFLAG_EXTRA_STAR:
            name = name.removeprefix("*")
        kind &= KIND_MASK
        key = elem = 0
        if kind == KIND_CHAN:
            elem = int.from_bytes(raw[48:56], "little")
        elif kind == KIND_MAP:
            key = int.from_bytes(raw[48:56], "little")
            elem = int.from_bytes(raw[56:64], "little")
        desc = TypeDescriptor(addr, TypeInfo(name, size, ptrbytes), kind, align, elem, key)
        self._cache[addr] = desc
        return desc

    def _name(self, offset: int) -> str:
        if offset <= 0:
            return ""
        addr = self.types + offset
        section = self.elf.section_at(addr)
        if section is None:
            raise BinaryFormatError(f"{self.elf.path}: type name at {addr:#x} is not in the file")
        # flag byte + uvarint length (at most 10 bytes), without reading past the section
        head = self.elf.read(addr, min(11, section.addr + section.size - addr))
        found = read_uvarint(head, 1)
        if found is None:
            raise BinaryFormatError(f"{self.elf.path}: corrupt type name at {addr:#x}")
        length, pos = found
        return self.elf.read(addr + pos, length).decode("utf-8", "replace")
