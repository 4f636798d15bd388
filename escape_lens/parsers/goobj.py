"""The inlining trees of a compiled package, read from its object file (go1.21-go1.27).

`go list -export` names each package's archive in the build cache (`Export`); its
`_go_.o` member holds, per function, the inline tree and the pc -> tree-node table
(`FuncInfo` and `Pcinline` aux symbols) that the linker copies into `.gopclntab`. The pc
of a CALL in the `-S` listing gives its node, and the root of the node's parent chain is
the call in the function that the instruction runs for: its file and line (the object
has no columns). The object file's layout, how names and file names are spelt and what
differs between versions: docs/parsers.md#inline-trees-in-the-object-file.

Invariants:
- A function is found by the name the listing prints and its ABI (`text_abi`: a
  function and its ABI wrapper share a name). go1.27's closure copies
  (`F.func1#hash#`) lose the hash in the object; namesakes with identical trees answer
  alike, `size` tells apart the others, and a name whose candidates still differ is not
  known (`has`), never guessed.
- Lazy: opening reads the file, finds the object and checks its block table; the index
  of text symbol names is built at the first query (names kept as bytes, not decoded);
  a function's FuncInfo and Pcinline are decoded when it is first asked for, once, and
  never those of other functions (but its namesakes'). Answers are memoised per name.
- Every offset and count is checked against its block; anything malformed or foreign is
  an `ObjectFormatError` naming the file, never an IndexError or struct.error.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from escape_lens.errors import ObjectFormatError
from escape_lens.pcvalue import PcTable, decode_pcvalue, value_at

ABI0 = "ABI0"
ABI_INTERNAL = "ABIInternal"
_ABI_NUMBER = {ABI0: 0, ABI_INTERNAL: 1}

_MAGIC = b"\x00go120ld"
_ARCHIVE_MAGIC = b"!<arch>\n"
_ARCHIVE_HEADER = 60
_OBJECT_MEMBER = b"_go_.o"
_GOROOT = "$GOROOT"
_INLINE_HASH = 12  # base64 of 8 bytes
_FILE_SYMBOL_PREFIX = "gofile.."  # go1.21's file table names (src.FileSymPrefix)

# Blocks (goobj.BlkAutolib ...), by position in the header's offset list.
_BLK_FILE = 2
_BLK_SYMDEF = 3
_BLK_HASHED64DEF = 4
_BLK_HASHEDDEF = 5
_BLK_NONPKGDEF = 6
_BLK_AUXIDX = 12
_BLK_DATAIDX = 13
_BLK_AUX = 15
_BLK_DATA = 16
_BLK_REFNAME = 17
_NBLK = 19
_DEF_BLOCKS = (_BLK_SYMDEF, _BLK_HASHED64DEF, _BLK_HASHEDDEF, _BLK_NONPKGDEF)
_HEADER = struct.Struct(f"<8s8sI{_NBLK}I")

_SYM = struct.Struct("<IIHBBBII")  # name len, name off, ABI, kind, flag, flag2, size, align
_TEXT_KINDS = frozenset({1, 2})  # STEXT; STEXTFIPS since go1.24 (SRODATA before)
_AUX = struct.Struct("<BII")
_AUX_FUNCINFO = 1
_AUX_PCINLINE = 10
_U32 = struct.Struct("<I")
_STRING = struct.Struct("<II")
_INL_NODE = struct.Struct("<iIiIIi")  # Parent, File, Line, Func.PkgIdx, Func.SymIdx, ParentPC
_FUNCINFO_FILES = 16  # offset of the file count in a FuncInfo

_PKG_NONPKG = 0x7FFFFFFF
_PKG_HASHED64 = 0x7FFFFFFE
_PKG_HASHED = 0x7FFFFFFD
_PKG_SELF = 0x7FFFFFFB

# cmd/internal/sys Arch.MinLC: the unit of the pc deltas.
_QUANTUM = {
    "386": 1,
    "amd64": 1,
    "wasm": 1,
    "riscv64": 2,
    "s390x": 2,
    "arm": 4,
    "arm64": 4,
    "loong64": 4,
    "mips": 4,
    "mipsle": 4,
    "mips64": 4,
    "mips64le": 4,
    "ppc64": 4,
    "ppc64le": 4,
}


def text_abi(flags: str) -> str:
    """The ABI of a listing's `TEXT name(SB), FLAGS, $frame` line, from its FLAGS
    (`NOSPLIT|ABIInternal`): the listing names ABIInternal and leaves ABI0 unsaid."""
    return ABI_INTERNAL if ABI_INTERNAL in flags.split("|") else ABI0


def listing_file(name: str, goroot: str) -> str:
    """An object file name as the `-S` listing prints it: `$GOROOT/src/x.go` under
    `goroot` (the compiling toolchain's `go env GOROOT`); other names are unchanged."""
    if name == _GOROOT or name.startswith(_GOROOT + "/"):
        return goroot.rstrip("/") + name[len(_GOROOT) :]
    return name


@dataclass(frozen=True, slots=True)
class _Tree:
    table: PcTable  # pc -> node
    nodes: tuple[tuple[int, int, int], ...]  # (parent, file index, line) per node


# Not in the object, or several namesakes that differ; and "not looked up yet".
_UNKNOWN = _Tree(([], []), ())
_MISSING = _Tree(([], []), ())


class InlineTrees:
    """The inlining trees of the functions of one compiled package (module docstring):

    trees = InlineTrees.from_archive(export)       # go list -export's `Export`
    abi = text_abi("NOSPLIT|ABIInternal")          # from the listing's TEXT line
    site = trees.call_site("example.com/m.F", abi, 0x2a, size=143)
    if site is not None:
        file, line = listing_file(site[0], goroot), site[1]
    """

    __slots__ = (
        "_base",
        "_blocks",
        "_counts",
        "_data",
        "_end",
        "_files",
        "_functions",
        "_index",
        "_namesakes",
        "_quantum",
        "_trees",
        "go_version",
        "goarch",
        "path",
    )

    def __init__(self, data: bytes, base: int, end: int, header: str, path: str) -> None:
        self.path = path
        self._data = data
        self._base = base
        self._end = end
        fields = header.split()
        if len(fields) < 5:
            raise self._fail(f"object header {header!r}")
        self.goarch = fields[3]
        self.go_version = fields[4]
        quantum = _QUANTUM.get(self.goarch)
        if quantum is None:
            raise self._fail(f"unknown GOARCH {self.goarch!r}")
        self._quantum = quantum
        self._blocks = self._read_blocks()
        counts = []
        for block in _DEF_BLOCKS:
            size = self._blocks[block + 1] - self._blocks[block]
            if size % _SYM.size:
                raise self._fail(f"symbol block {block} of {size} bytes")
            counts.append(size // _SYM.size)
        self._counts = tuple(counts)  # Symdef, Hashed64def, Hasheddef, Nonpkgdef
        ndef = sum(counts)
        for block in (_BLK_AUXIDX, _BLK_DATAIDX):
            if self._blocks[block + 1] - self._blocks[block] != 4 * (ndef + 1):
                raise self._fail(f"index block {block} does not match {ndef} symbols")
        # Name and ABI -> the first text symbol of that name, and all of them when
        # there are several (go1.27 inlined closures, see `_trim_inline_hash`).
        self._index: dict[tuple[bytes, int], int] | None = None
        self._namesakes: dict[tuple[bytes, int], list[int]] = {}
        self._trees: dict[int, _Tree | None] = {}
        self._functions: dict[tuple[str, str, int | None], _Tree | None] = {}
        self._files: dict[int, str] = {}

    @classmethod
    def from_archive(cls, path: str | os.PathLike[str]) -> InlineTrees:
        """Open the package archive at `path` (`go list -export`'s `Export`)."""
        path = os.fspath(path)
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError as exc:
            raise ObjectFormatError(f"{path}: cannot read ({exc.strerror})") from exc
        start, end = _archive_member(data, path)
        header_end = data.find(b"\n", start, end)
        if not data.startswith(b"go object ", start) or header_end < 0:
            raise ObjectFormatError(f"{path}: _go_.o is not a Go object file")
        header = data[start:header_end].decode("utf-8", "replace")
        base = _object_start(data, header_end, end)
        if base is None:
            raise ObjectFormatError(f"{path}: _go_.o is truncated (no object after the header)")
        magic = data[base : base + len(_MAGIC)]
        if magic != _MAGIC:
            raise ObjectFormatError(
                f"{path}: object format {magic!r}, not {_MAGIC!r} (Go 1.21-1.27)"
            )
        return cls(data, base, end, header, path)

    # --- queries ------------------------------------------------------------------------

    def has(self, function: str, abi: str, size: int | None = None) -> bool:
        """Whether `function` (its name as the listing spells it, `#hash#` and all) with
        `abi` (ABI0 or ABIInternal, see `text_abi`) and, when given, `size` (the
        listing's `STEXT size=`) is one function of the object, or several identical
        ones. False for a name the object lacks or whose namesakes differ (go1.27
        inlined closures; `size` tells most of them apart)."""
        return self._function(function, abi, size) is not _UNKNOWN

    def call_site(
        self, function: str, abi: str, pc: int, size: int | None = None
    ) -> tuple[str, int] | None:
        """(file, line) of the call in `function` whose inlined body holds `pc`.

        The root of the inline-tree chain of the node that the function's pcinline
        table gives at `pc` (an offset from the function's entry, as the listing
        prints it). None when that instruction is the function's own code (-1), when
        the function inlined nothing, or when `has` is False. The file is the object's
        name for it (see `listing_file`); the line is 1-based, as `//line` adjusts it.
        """
        tree = self._function(function, abi, size)
        if tree is None or tree is _UNKNOWN:
            return None
        nodes = tree.nodes
        node = value_at(tree.table, pc)
        for _ in range(len(nodes) + 1):
            if node < 0:
                return None
            if node >= len(nodes):
                raise self._fail(f"{function}: inline tree node {node} of {len(nodes)}")
            parent, file, line = nodes[node]
            if parent < 0:
                return self._file(file), line
            node = parent
        raise self._fail(f"{function}: inline tree has a cycle")

    def _function(self, function: str, abi: str, size: int | None) -> _Tree | None:
        """The tree of the function the listing names; `_UNKNOWN` (see `has`) or None
        (it inlined nothing)."""
        key = (function, abi, size)
        found = self._functions.get(key, _MISSING)
        if found is _MISSING:
            name = _trim_inline_hash(function).encode()
            number = _ABI_NUMBER.get(abi)
            if number is None:
                raise ValueError(f"ABI {abi!r}: not {ABI0!r} or {ABI_INTERNAL!r}")
            try:
                found = self._resolve(name, number, size)
            except (struct.error, IndexError, ValueError) as exc:
                # The checks are the rule; this is the net under what they missed.
                raise self._fail(f"{function}: {exc}") from exc
            self._functions[key] = found
        return found

    def _resolve(self, name: bytes, abi: int, size: int | None) -> _Tree | None:
        index = self._index
        if index is None:
            index = self._index = self._build_index()
        first = index.get((name, abi))
        if first is None:
            return _UNKNOWN
        candidates = self._namesakes.get((name, abi), [first])
        if size is not None:
            candidates = [c for c in candidates if self._size(c) == size]
        if not candidates:
            return _UNKNOWN
        tree = self._tree(candidates[0])
        for other in candidates[1:]:
            if self._tree(other) != tree:
                return _UNKNOWN
        return tree

    # --- object -------------------------------------------------------------------------

    def _fail(self, what: str) -> ObjectFormatError:
        return ObjectFormatError(f"{self.path}: corrupt Go object ({what})")

    def _read_blocks(self) -> tuple[int, ...]:
        if self._base + _HEADER.size > self._end:
            raise self._fail("truncated header")
        fields = _HEADER.unpack_from(self._data, self._base)
        blocks = fields[3:]
        size = self._end - self._base
        previous = _HEADER.size
        for block, offset in enumerate(blocks):
            if offset < previous or offset > size:
                raise self._fail(f"block {block} at {offset:#x} of {size:#x} bytes")
            previous = offset
        return tuple(blocks)

    def _u32(self, offset: int) -> int:
        value: int = _U32.unpack_from(self._data, self._base + offset)[0]
        return value

    def _string(self, offset: int) -> bytes:
        length, at = _STRING.unpack_from(self._data, self._base + offset)
        if at + length > self._end - self._base:
            raise self._fail(f"string at {at:#x} of {length} bytes")
        return self._data[self._base + at : self._base + at + length]

    def _build_index(self) -> dict[tuple[bytes, int], int]:
        """Name and ABI -> symbol index of every text symbol."""
        index: dict[tuple[bytes, int], int] = {}
        data, base = self._data, self._base
        first = 0
        for block, count in zip(_DEF_BLOCKS, self._counts, strict=True):
            start = base + self._blocks[block]
            view = memoryview(data)[start : start + count * _SYM.size]
            for i, (length, at, abi, kind, *_rest) in enumerate(_SYM.iter_unpack(view)):
                if kind in _TEXT_KINDS and abi <= 1:
                    key = (data[base + at : base + at + length], abi)
                    if key in index:
                        self._namesakes.setdefault(key, [index[key]]).append(first + i)
                    else:
                        index[key] = first + i
            first += count
        return index

    def _size(self, symbol: int) -> int:
        offset = self._base + self._blocks[_BLK_SYMDEF] + symbol * _SYM.size
        size: int = _SYM.unpack_from(self._data, offset)[6]
        return size

    def _aux(self, symbol: int) -> dict[int, int]:
        """Aux type -> defined symbol index, for FuncInfo and Pcinline."""
        aux_idx = self._blocks[_BLK_AUXIDX] + 4 * symbol
        first, last = self._u32(aux_idx), self._u32(aux_idx + 4)
        if first > last or self._blocks[_BLK_AUX] + last * _AUX.size > self._blocks[_BLK_DATA]:
            raise self._fail(f"aux entries {first}..{last} of symbol {symbol}")
        found = {}
        for k in range(first, last):
            kind, pkg, sym = _AUX.unpack_from(
                self._data, self._base + self._blocks[_BLK_AUX] + k * _AUX.size
            )
            if kind in (_AUX_FUNCINFO, _AUX_PCINLINE):
                found[kind] = self._defined(pkg, sym)
        return found

    def _defined(self, pkg: int, sym: int) -> int:
        """The index of the defined symbol that reference (pkg, sym) names."""
        nsym, nhashed64, nhashed, nnonpkg = self._counts
        if pkg == _PKG_SELF and sym < nsym:
            return sym
        if pkg == _PKG_HASHED64 and sym < nhashed64:
            return nsym + sym
        if pkg == _PKG_HASHED and sym < nhashed:
            return nsym + nhashed64 + sym
        if pkg == _PKG_NONPKG and sym < nnonpkg:
            return nsym + nhashed64 + nhashed + sym
        raise self._fail(f"aux symbol reference ({pkg:#x}, {sym}) is not defined here")

    def _symbol_data(self, symbol: int) -> tuple[int, int]:
        """[start, end) of the symbol's data, as offsets into the file's bytes."""
        data_idx = self._blocks[_BLK_DATAIDX] + 4 * symbol
        first, last = self._u32(data_idx), self._u32(data_idx + 4)
        start = self._blocks[_BLK_DATA] + first
        end = self._blocks[_BLK_DATA] + last
        if first > last or end > self._blocks[_BLK_REFNAME]:
            raise self._fail(f"data {first:#x}..{last:#x} of symbol {symbol}")
        return self._base + start, self._base + end

    def _tree(self, symbol: int) -> _Tree | None:
        if symbol in self._trees:
            return self._trees[symbol]
        aux = self._aux(symbol)
        tree = None
        if _AUX_PCINLINE in aux and _AUX_FUNCINFO in aux:
            start, end = self._symbol_data(aux[_AUX_PCINLINE])
            table = decode_pcvalue(self._data[start:end], 0, 0, self._quantum)
            if table is None:
                raise self._fail(f"pcinline table of symbol {symbol} runs off its end")
            tree = _Tree(table, self._inline_nodes(*self._symbol_data(aux[_AUX_FUNCINFO])))
        self._trees[symbol] = tree
        return tree

    def _inline_nodes(self, start: int, end: int) -> tuple[tuple[int, int, int], ...]:
        data = self._data
        at = start + _FUNCINFO_FILES
        if at + 4 > end:
            raise self._fail(f"FuncInfo of {end - start} bytes")
        at += 4 + 4 * _U32.unpack_from(data, at)[0]
        if at + 4 > end:
            raise self._fail("FuncInfo file list runs off its end")
        count = _U32.unpack_from(data, at)[0]
        at += 4
        if at + count * _INL_NODE.size > end:
            raise self._fail(f"FuncInfo inline tree of {count} nodes runs off its end")
        nodes = []
        for parent, file, line, _pkg, _sym, _parent_pc in _INL_NODE.iter_unpack(
            data[at : at + count * _INL_NODE.size]
        ):
            nodes.append((parent, file, line))
        return tuple(nodes)

    def _file(self, index: int) -> str:
        name = self._files.get(index)
        if name is None:
            offset = self._blocks[_BLK_FILE] + index * _STRING.size
            if offset + _STRING.size > self._blocks[_BLK_SYMDEF]:
                raise self._fail(f"file index {index} out of range")
            name = self._string(offset).decode("utf-8", "replace")
            name = self._files[index] = name.removeprefix(_FILE_SYMBOL_PREFIX)
        return name


def _trim_inline_hash(name: str) -> str:
    """`name` without the `#hash#` go1.27 gives a closure made by inlining
    (`log.Printf.func1#xIvMY+U1bJo=#`): the listing prints it, the object does not
    (cmd/internal/obj `TrimInlineHash`: the first `#`, 12 base64 characters, `#`)."""
    head, hashed, tail = name.partition("#")
    if not hashed or len(tail) < _INLINE_HASH + 1 or tail[_INLINE_HASH] != "#":
        return name
    return head + tail[_INLINE_HASH + 1 :]


def _archive_member(data: bytes, path: str) -> tuple[int, int]:
    """[start, end) of the `_go_.o` member of a Unix archive."""
    if not data.startswith(_ARCHIVE_MAGIC):
        raise ObjectFormatError(f"{path}: not a Go package archive (no !<arch> header)")
    pos = len(_ARCHIVE_MAGIC)
    while pos < len(data):
        header = data[pos : pos + _ARCHIVE_HEADER]
        if len(header) < _ARCHIVE_HEADER or header[58:60] != b"`\n":
            raise ObjectFormatError(f"{path}: truncated or corrupt archive member header")
        try:
            size = int(header[48:58])
        except ValueError:
            raise ObjectFormatError(f"{path}: corrupt archive member size") from None
        start = pos + _ARCHIVE_HEADER
        if size < 0 or start + size > len(data):
            raise ObjectFormatError(f"{path}: truncated archive (a member runs off the end)")
        if header[:16].rstrip(b" ").rstrip(b"/") == _OBJECT_MEMBER:
            return start, start + size
        pos = start + size + (size & 1)
    raise ObjectFormatError(f"{path}: archive has no _go_.o member (not a compiled Go package)")


def _object_start(data: bytes, newline: int, end: int) -> int | None:
    """Where the object starts after the text header whose first line ends at `newline`:
    after the first `\\n!\\n` outside `$$` sections (cmd/link `ldobj`)."""
    markers = 0
    while 0 <= newline < end:
        following = data[newline + 1 : newline + 3]
        if following == b"!\n" and markers % 2 == 0:
            return newline + 3
        if following == b"$$":
            markers += 1
        newline = data.find(b"\n", newline + 1, end)
    return None
