"""The ELF container of a Go program: sections, virtual addresses, symbols.

Invariants:
- Every read is bounds-checked against the file; anything out of range raises
  `BinaryFormatError` with one line naming the file, never an IndexError or a pyelftools
  exception. pyelftools errors are translated at the boundary (`open_elf`, `symbols`).
- The whole file is read into memory once (`bytes`); section and address reads are slices
  of it, so later stages never touch the file again. A 15 MB program costs 15 MB.
- Only little-endian 64-bit ELF is accepted (Go's amd64 and arm64 ports); other
  architectures are refused here, before any Go-specific parsing starts.
"""

from __future__ import annotations

import bisect
import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from escape_lens.errors import BinaryFormatError
from escape_lens.inputs import read_regular
from escape_lens.vocab import counted

# e_machine -> GOARCH for the architectures binary mode can disassemble.
SUPPORTED_MACHINES = {"EM_X86_64": "amd64", "EM_AARCH64": "arm64"}

_SHT_NOBITS = "SHT_NOBITS"
_SHT_NOBITS_VALUE = 8
_RELA = struct.Struct("<QQq")
_RELATIVE_TYPES = {"EM_X86_64": 8, "EM_AARCH64": 1027}  # R_X86_64_RELATIVE, R_AARCH64_RELATIVE


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    addr: int
    offset: int
    size: int
    loaded: bool  # False for .bss-like sections: no bytes in the file

    def contains(self, addr: int) -> bool:
        return self.addr <= addr < self.addr + self.size


class GoELF:
    """A loaded ELF file: section table, address-to-bytes reads and symbol lookup."""

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        self.data = data
        try:
            self._elf = ELFFile(io.BytesIO(data))
            header = self._elf.header
            self.machine = str(header["e_machine"])
            self.elfclass = self._elf.elfclass
            self.little_endian = self._elf.little_endian
            self.sections: dict[str, Section] = {}
            for sec in self._elf.iter_sections():
                self.sections[sec.name] = Section(
                    name=sec.name,
                    addr=int(sec["sh_addr"]),
                    offset=int(sec["sh_offset"]),
                    size=int(sec["sh_size"]),
                    loaded=sec["sh_type"] != _SHT_NOBITS,
                )
        except (ELFError, ValueError, KeyError, AssertionError) as exc:
            raise BinaryFormatError(f"{path}: not a readable ELF file ({exc})") from exc
        self._by_addr = sorted(
            (s for s in self.sections.values() if s.addr and s.loaded), key=lambda s: s.addr
        )

    @property
    def goarch(self) -> str | None:
        return SUPPORTED_MACHINES.get(self.machine)

    def section(self, name: str) -> Section | None:
        return self.sections.get(name)

    def section_bytes(self, section: Section) -> memoryview:
        end = section.offset + section.size
        if not section.loaded or end > len(self.data):
            raise BinaryFormatError(
                f"{self.path}: section {section.name} lies beyond the end of the file "
                "(truncated binary?)"
            )
        return memoryview(self.data)[section.offset : end]

    def section_at(self, addr: int) -> Section | None:
        for sec in self._by_addr:
            if sec.contains(addr):
                return sec
        return None

    def read(self, addr: int, size: int) -> bytes:
        """`size` bytes at virtual address `addr`, all inside one loaded section."""
        sec = self.section_at(addr)
        if sec is None or addr + size > sec.addr + sec.size:
            raise BinaryFormatError(
                f"{self.path}: address {addr:#x} (+{size}) is outside the file's sections"
            )
        start = sec.offset + (addr - sec.addr)
        if start + size > len(self.data):
            raise BinaryFormatError(f"{self.path}: truncated binary (read at {addr:#x})")
        return self.relocated(addr, self.data[start : start + size])

    @cached_property
    def _relative_relocations(self) -> tuple[list[int], list[int]]:
        """Sorted (addresses, addends) of R_*_RELATIVE relocations (PIE binaries)."""
        wanted = _RELATIVE_TYPES.get(self.machine)
        pairs: list[tuple[int, int]] = []
        for section in self.sections.values():
            if not section.name.startswith(".rela") or not section.loaded:
                continue
            raw = self.section_bytes(section)
            for offset, info, addend in _RELA.iter_unpack(raw[: len(raw) // 24 * 24]):
                if info & 0xFFFFFFFF == wanted:
                    pairs.append((offset, addend))
        pairs.sort()
        return [a for a, _ in pairs], [v for _, v in pairs]

    def relocated(self, addr: int, data: bytes) -> bytes:
        """`data` read at `addr` with the words that RELATIVE relocations fill in at load
        time filled in: position-independent binaries leave them 0 in the file."""
        addresses, addends = self._relative_relocations
        if not addresses:
            return data
        lo = bisect.bisect_left(addresses, addr)
        hi = bisect.bisect_left(addresses, addr + len(data))
        if lo == hi:
            return data
        patched = bytearray(data)
        for i in range(lo, hi):
            at = addresses[i] - addr
            if at + 8 <= len(patched):
                patched[at : at + 8] = (addends[i] & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
        return bytes(patched)

    def file_offset(self, addr: int) -> int:
        sec = self.section_at(addr)
        if sec is None:
            raise BinaryFormatError(f"{self.path}: address {addr:#x} is not in the file")
        return sec.offset + (addr - sec.addr)

    def iter_symbols(self) -> Iterator[tuple[str, int, int]]:
        """(name, value, size) of each `.symtab` symbol; nothing for stripped binaries."""
        try:
            symtab = self._elf.get_section_by_name(".symtab")
            if not isinstance(symtab, SymbolTableSection):
                return
            for sym in symtab.iter_symbols():
                yield sym.name, int(sym["st_value"]), int(sym["st_size"])
        except (ELFError, ValueError, KeyError) as exc:
            raise BinaryFormatError(f"{self.path}: unreadable symbol table ({exc})") from exc


_ELF64_HEADER = struct.Struct("<16xHHIQQQIHHHHHH")


def _check_extent(name: str, data: bytes) -> None:
    """A truncated copy is recognised before pyelftools reads past the end: the header,
    the program and section header tables and every segment must lie inside the file."""
    truncated = (
        f"{name}: truncated ELF file ({counted(len(data), 'byte')}; binary mode needs "
        "the whole file)"
    )
    if data[4:5] != b"\x02":
        return  # 32-bit: refused with its own message after parsing the header
    if len(data) < _ELF64_HEADER.size:
        raise BinaryFormatError(truncated)
    fields = _ELF64_HEADER.unpack_from(data)
    phoff, shoff = fields[4], fields[5]
    phentsize, phnum, shentsize, shnum = fields[8], fields[9], fields[10], fields[11]
    if phoff + phentsize * phnum > len(data) or shoff + shentsize * shnum > len(data):
        raise BinaryFormatError(truncated)
    for i in range(phnum):
        at = phoff + i * phentsize
        offset, filesz = struct.unpack_from("<8xQ16xQ", data, at)
        if offset + filesz > len(data):
            raise BinaryFormatError(truncated)
    for i in range(shnum):
        sh_type, offset, size = struct.unpack_from("<4xI16xQQ", data, shoff + i * shentsize)
        if sh_type != _SHT_NOBITS_VALUE and offset + size > len(data):
            raise BinaryFormatError(truncated)


# Larger than any Go program (a 64-bit ELF's sections could describe more; nothing
# that big is read into memory).
MAX_BINARY_BYTES = 1 << 32


def open_elf(path: str | os.PathLike[str]) -> GoELF:
    """Read and check an ELF file; a clear `BinaryFormatError` for anything else."""
    name = os.fspath(path)
    data = read_regular(name, limit=MAX_BINARY_BYTES, what="Go binary", error=BinaryFormatError)
    if not data.startswith(b"\x7fELF"):
        raise BinaryFormatError(f"{name}: not an ELF binary (binary mode reads Linux ELF files)")
    _check_extent(name, data)
    elf = GoELF(name, data)
    if elf.elfclass != 64 or not elf.little_endian:
        raise BinaryFormatError(
            f"{name}: {elf.elfclass}-bit {'little' if elf.little_endian else 'big'}-endian ELF "
            "is not supported (binary mode reads 64-bit little-endian amd64 and arm64)"
        )
    if elf.goarch is None:
        raise BinaryFormatError(
            f"{name}: architecture {elf.machine.removeprefix('EM_')} is not supported "
            "(binary mode reads amd64 and arm64)"
        )
    return elf
