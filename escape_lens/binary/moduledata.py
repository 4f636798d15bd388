"""`runtime.moduledata`: where the linker says the text, the types and the funcdata are.

Stripped binaries have no `runtime.firstmoduledata` symbol, but moduledata always starts
with a pointer to the pclntab header (src/runtime/symtab.go), followed by the funcnametab
slice, whose data pointer is `pclntab + funcnameOffset`. Those two words together are
found by a byte search of the data sections (`.go.module` since 1.27, else `.noptrdata`,
then `.data`), with or without a symbol table: one rule for every binary.

Field offsets (8-byte words) after the seven slices and findfunctab (word 19):

    word 20 minpc, 21 maxpc, 22 text, 23 etext, ... 37 types,
    1.21-1.26: 38 etypes, 39 rodata, 40 gofunc
    1.27+:     38 typedesclen, 39 etypes, 40 itaboffset, 41 itabsize, 42 rodata, 43 gofunc

The layout is chosen by validating both: `types <= etypes` inside one section, and gofunc
inside a section. The 1.21 reading of a 1.27 moduledata puts `typedesclen` (a length) in
`etypes` and fails that check, so no version number is needed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from escape_lens.binary.elf import GoELF
from escape_lens.binary.pclntab import PcLnTab
from escape_lens.errors import BinaryFormatError

_SEARCH_SECTIONS = (".go.module", ".noptrdata", ".data")
_WORDS = 44

# (types, etypes, gofunc) word indices per layout. The 1.21 layout is tried first: read
# from a 1.27 moduledata its etypes is `typedesclen`, a length below any address, so it
# cannot pass; the other way round is not as clear-cut (1.21's rodata may equal types).
_LAYOUTS = ((37, 38, 40), (37, 39, 43))


@dataclass(frozen=True, slots=True)
class ModuleData:
    addr: int
    text: int
    etext: int
    types: int
    etypes: int
    gofunc: int


def find_moduledata(elf: GoELF, pcln: PcLnTab) -> ModuleData:
    needle = struct.pack("<QQ", pcln.addr, pcln.addr + pcln.header.funcname_offset)
    for name in _SEARCH_SECTIONS:
        section = elf.section(name)
        if section is None or not section.loaded:
            continue
        data = elf.relocated(section.addr, elf.section_bytes(section).tobytes())
        start = data.find(needle)
        while start >= 0:
            if start % 8 == 0 and start + _WORDS * 8 <= len(data):
                found = _read(elf, section.addr + start, data[start : start + _WORDS * 8])
                if found is not None:
                    return found
            start = data.find(needle, start + 1)
    raise BinaryFormatError(
        f"{elf.path}: no runtime moduledata refers to the .gopclntab (not a Go program, or "
        "a corrupt one)"
    )


def _read(elf: GoELF, addr: int, raw: bytes) -> ModuleData | None:
    words = struct.unpack(f"<{_WORDS}Q", raw)
    text, etext = words[22], words[23]
    if not text <= etext:
        return None
    for types_at, etypes_at, gofunc_at in _LAYOUTS:
        types, etypes, gofunc = words[types_at], words[etypes_at], words[gofunc_at]
        section = elf.section_at(types)
        if (
            section is not None
            and types <= etypes <= section.addr + section.size
            and elf.section_at(gofunc) is not None
        ):
            return ModuleData(addr, text, etext, types, etypes, gofunc)
    return None
