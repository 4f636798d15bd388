"""Go's PC/line table (`.gopclntab`, `runtime.pcHeader`): functions, PC -> file:line, inlining.

Reads the table of Go 1.18 (magic 0xfffffff0) and Go 1.20+ (0xfffffff1), which is every
version escape-lens reads; its layout is in docs/binary.md#the-pcline-table.

Invariants:
- Nothing is decoded before it is asked for: `iter_functions` reads the 8-byte functab
  entries and names only; the pc tables of a function are decoded when `lines` is called
  for it, once. A whole-program scan therefore decodes only the functions it disassembles.
- Every offset is checked against the table's size; a corrupt table is a
  `BinaryFormatError`, not an IndexError.
- Entry addresses need the text base. Before 1.27 the header carries it; 1.27 dropped it,
  so the caller passes `moduledata.text` (see `escape_lens.binary.moduledata`).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from escape_lens.errors import BinaryFormatError
from escape_lens.pcvalue import PcTable, decode_pcvalue, value_at

MAGIC_GO118 = 0xFFFFFFF0
MAGIC_GO120 = 0xFFFFFFF1
_OLD_MAGICS = {0xFFFFFFFB: "Go 1.2-1.15", 0xFFFFFFFA: "Go 1.16-1.17"}

PCDATA_INL_TREE_INDEX = 2
FUNCDATA_INL_TREE = 3
_INLINED_CALL = struct.Struct("<B3xiii")
_NO_FUNCDATA = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class PcHeader:
    magic: int
    min_lc: int
    ptr_size: int
    nfunc: int
    nfiles: int
    text_start: int
    funcname_offset: int
    cu_offset: int
    filetab_offset: int
    pctab_offset: int
    pcln_offset: int


@dataclass(frozen=True, slots=True)
class Func:
    """One function of the table: its name, entry and end address, and its `_func` record."""

    name: str
    entry: int
    end: int
    record: int  # offset of the `_func` in the pclntab


@dataclass(frozen=True, slots=True)
class InlinedCall:
    name: str
    parent_pc: int  # address whose position is the call site in the caller


@dataclass(frozen=True, slots=True)
class PcPosition:
    """Where an instruction comes from. `inlined` is the chain of inlined callees, innermost
    first; `call_file`/`call_line` then give the call site in the function itself."""

    file: str
    line: int
    inlined: tuple[str, ...] = ()
    call_file: str = ""
    call_line: int = 0


class FuncLines:
    """The decoded pc tables of one function."""

    __slots__ = ("_file", "_inl", "_line", "func", "inline_tree")

    def __init__(
        self,
        func: Func,
        file: PcTable,
        line: PcTable,
        inl: PcTable | None,
        inline_tree: list[InlinedCall],
    ) -> None:
        self.func = func
        self._file = file
        self._line = line
        self._inl = inl
        self.inline_tree = inline_tree

    def file_index(self, pc: int) -> int:
        return value_at(self._file, pc)

    def line(self, pc: int) -> int:
        return value_at(self._line, pc)

    def inline_index(self, pc: int) -> int:
        return value_at(self._inl, pc) if self._inl is not None else -1


class PcLnTab:
    """A parsed `.gopclntab`: `data` is the whole table, `addr` its virtual address."""

    def __init__(self, data: bytes | memoryview, addr: int, path: str) -> None:
        self.data = bytes(data)
        self.addr = addr
        self.path = path
        self.header = self._read_header()
        self.text_base = self.header.text_start
        # Reads `size` bytes at moduledata.gofunc + offset (funcdata lives outside the
        # table); set by the loader once moduledata is found.
        self.read_gofunc: Callable[[int, int], bytes] | None = None
        self._file_cache: dict[int, str] = {}

    # --- header ---------------------------------------------------------------------------

    def _fail(self, what: str) -> BinaryFormatError:
        return BinaryFormatError(f"{self.path}: corrupt .gopclntab ({what})")

    def _read_header(self) -> PcHeader:
        if len(self.data) < 8:
            raise self._fail("too short for a header")
        magic, pad1, pad2, min_lc, ptr_size = struct.unpack_from("<IBBBB", self.data, 0)
        if magic in _OLD_MAGICS:
            raise BinaryFormatError(
                f"{self.path}: built by {_OLD_MAGICS[magic]}; binary mode reads Go 1.18 and newer"
            )
        if magic not in (MAGIC_GO118, MAGIC_GO120) or pad1 or pad2:
            raise self._fail(f"unknown magic {magic:#x}")
        if ptr_size != 8 or min_lc not in (1, 2, 4):
            raise self._fail(f"pointer size {ptr_size}, instruction size {min_lc}")
        if len(self.data) < 8 + 8 * 8:
            raise self._fail("too short for a header")
        words = struct.unpack_from("<8Q", self.data, 8)
        header = PcHeader(magic, min_lc, ptr_size, *words)
        for offset in words[3:]:
            if offset > len(self.data):
                raise self._fail(f"table offset {offset:#x} beyond the end")
        if (header.nfunc + 1) * 8 + header.pcln_offset > len(self.data):
            raise self._fail(f"{header.nfunc} functions do not fit")
        return header

    # --- primitives -----------------------------------------------------------------------

    def _u32(self, offset: int) -> int:
        if offset + 4 > len(self.data) or offset < 0:
            raise self._fail(f"read at {offset:#x}")
        return int.from_bytes(self.data[offset : offset + 4], "little")

    def _cstring(self, offset: int) -> str:
        end = self.data.find(b"\0", offset)
        if offset < 0 or end < 0:
            raise self._fail(f"string at {offset:#x}")
        return self.data[offset:end].decode("utf-8", "replace")

    def funcname(self, name_off: int) -> str:
        return self._cstring(self.header.funcname_offset + name_off)

    # --- functions ------------------------------------------------------------------------

    def iter_functions(self) -> Iterator[Func]:
        """Every function in address order (name, entry, end), without decoding its tables."""
        ftab = self.header.pcln_offset
        data = self.data
        base = self.text_base
        entries = struct.unpack_from(f"<{2 * (self.header.nfunc + 1)}I", data, ftab)
        for i in range(self.header.nfunc):
            entry_off, func_off = entries[2 * i], entries[2 * i + 1]
            record = ftab + func_off
            if record + 8 > len(data):
                raise self._fail(f"function record at {record:#x}")
            name_off = int.from_bytes(data[record + 4 : record + 8], "little", signed=True)
            yield Func(self.funcname(name_off), base + entry_off, base + entries[2 * i + 2], record)

    def _pcvalue(self, offset: int, entry: int) -> PcTable:
        """A pc table as parallel lists (end pc of each run, value of the run)."""
        if offset == 0:
            return [], []
        table = decode_pcvalue(
            self.data, self.header.pctab_offset + offset, entry, self.header.min_lc
        )
        if table is None:
            raise self._fail("pc table runs off the end")
        return table

    def lines(self, func: Func) -> FuncLines:
        """Decode the file, line and inline-index tables and the inline tree of `func`."""
        rec = func.record
        fields = (
            struct.unpack_from("<IiiIIIIII", self.data, rec) if rec + 40 <= len(self.data) else None
        )
        if fields is None:
            raise self._fail(f"function record of {func.name}")
        _, _, _, _, _, pcfile, pcln, npcdata, _ = fields
        fixed = 44 if self.header.magic == MAGIC_GO120 else 40
        nfuncdata = self.data[rec + fixed - 1]
        pcdata_at = rec + fixed
        inl_table = None
        if npcdata > PCDATA_INL_TREE_INDEX:
            inl_off = self._u32(pcdata_at + 4 * PCDATA_INL_TREE_INDEX)
            if inl_off:
                inl_table = self._pcvalue(inl_off, func.entry)
        tree: list[InlinedCall] = []
        if nfuncdata > FUNCDATA_INL_TREE and inl_table is not None:
            tree_off = self._u32(pcdata_at + 4 * npcdata + 4 * FUNCDATA_INL_TREE)
            if tree_off != _NO_FUNCDATA:
                tree = self._inline_tree(tree_off, max(inl_table[1], default=-1) + 1, func)
        return FuncLines(
            func,
            self._pcvalue(pcfile, func.entry),
            self._pcvalue(pcln, func.entry),
            inl_table,
            tree,
        )

    def _inline_tree(self, offset: int, count: int, func: Func) -> list[InlinedCall]:
        """`count` inlinedCall records at moduledata.gofunc + offset."""
        if self.read_gofunc is None:
            raise self._fail("no moduledata: funcdata cannot be read")
        raw = self.read_gofunc(offset, count * _INLINED_CALL.size)
        tree = []
        for i in range(count):
            _, name_off, parent_pc, _ = _INLINED_CALL.unpack_from(raw, i * _INLINED_CALL.size)
            tree.append(InlinedCall(self.funcname(name_off), func.entry + parent_pc))
        return tree

    # --- files ----------------------------------------------------------------------------

    def filename(self, func: Func, file_index: int) -> str:
        """The file of `file_index` in `func`'s compilation unit."""
        cu_off = self._u32(func.record + 32)
        key = cu_off + file_index
        cached = self._file_cache.get(key)
        if cached is None:
            name_off = self._u32(self.header.cu_offset + 4 * key)
            cached = (
                "?"
                if name_off == _NO_FUNCDATA
                else self._cstring(self.header.filetab_offset + name_off)
            )
            self._file_cache[key] = cached
        return cached

    def position(self, lines: FuncLines, pc: int) -> PcPosition:
        """file:line of the instruction at `pc` and, if inlined, the call site in the caller."""
        func = lines.func
        file = self.filename(func, lines.file_index(pc))
        line = lines.line(pc)
        index = lines.inline_index(pc)
        if index < 0:
            return PcPosition(file, line)
        chain: list[str] = []
        outer_pc = pc
        seen = 0
        while 0 <= index < len(lines.inline_tree) and seen <= len(lines.inline_tree):
            call = lines.inline_tree[index]
            chain.append(call.name)
            outer_pc = call.parent_pc
            index = lines.inline_index(outer_pc)
            seen += 1
        return PcPosition(
            file,
            line,
            tuple(chain),
            self.filename(func, lines.file_index(outer_pc)),
            lines.line(outer_pc),
        )
