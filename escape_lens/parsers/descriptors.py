"""Type descriptors in the `-S` listing: each type's size and pointer bytes, and the key
and element of defined map and channel types.

A descriptor is the data symbol `type:T` (`type.T` before go1.20); its first hex line
holds `abi.Type.Size_` and `abi.Type.PtrBytes` (two little-endian words). Only a defined
type's descriptor is read further: its kind (byte 7 of the second line) and, for a map
or channel, the relocations at `abi.MapType.Key`/`Elem` (`ChanType.Elem`) that name its
parts, since a defined type's name (`net/http.Header`) does not spell them; for a defined
struct, the relocations of `abi.StructType.Fields` name each field and its type, in
declaration order (sized later, with the build's types: `struct_types`).

Invariants: two words per type are kept, never the dump; sizes are read, never guessed
(a container whose parts cannot be sized is left out, see escape_lens/gotypes.py).
"""

from __future__ import annotations

import re
import struct
from collections import ChainMap

from escape_lens.gonames import CHAN_PREFIXES, unescaped
from escape_lens.gotypes import resolve_type, with_fields, with_parts
from escape_lens.records import FieldInfo, TypeInfo

TYPE_PREFIXES = ("type:", "type.")  # a type descriptor's symbol (`type.` before go1.20)
_HEX = re.compile(r"^\t0x0000 (?P<hex>(?:[0-9a-f]{2} ){16})")
_TWO_WORDS = struct.Struct("<QQ")
# Descriptor names that spell their type (literals, pointers, compiler types): only a
# defined type's descriptor is read past its first line (`Descriptors.feed`).
_NOT_DEFINED = (
    "map[",
    *CHAN_PREFIXES,
    "*",
    "[",
    "func(",
    "struct {",
    "interface {",
    "noalg.",
    "go.shape.",
)
# abi.Kind (the low five bits of abi.Type.Kind_) and the offsets of the type pointers
# after the 48-byte abi.Type on 64-bit targets: MapType{Key, Elem, ...}, ChanType{Elem}.
_KIND_MASK = 0x1F
_KIND_CHAN = 18
_KIND_MAP = 21
_KIND_STRUCT = 25
_KEY_OFFSET = 48
_ELEM_OFFSET = {_KIND_MAP: 56, _KIND_CHAN: 48, 0: -1, _KIND_STRUCT: -1}
# StructType{Type, PkgPath, Fields []StructField}: the Fields pointer (a relocation to the
# descriptor itself, `+N` where the array starts); each StructField is {Name, Typ, Offset}.
_FIELDS_OFFSET = 56
_STRUCT_FIELD_BYTES = 24
_NAMEDATA = ".namedata."


class Descriptors:
    """The descriptors of one listing, fed line by line (`start`, then `feed`)."""

    def __init__(self) -> None:
        self.types: dict[str, TypeInfo] = {}
        # Defined map and channel types -> their key (maps) and element type names.
        self.container_parts: dict[str, tuple[str | None, str | None]] = {}
        # Defined struct types -> their fields' names and type names, in order.
        self.struct_fields: dict[str, list[tuple[str, str]]] = {}
        self.current = ""
        self._kind = 0
        self._fields_at = -1

    def start(self, name: str) -> None:
        """The listing reached the descriptor of type `name` (as its symbol spells it)."""
        self.current = unescaped(name)
        self._kind = 0
        self._fields_at = -1

    def feed(self, line: str) -> bool:
        """A line of a type descriptor's dump: the first gives its size and pointer bytes;
        for a defined type the second gives its kind, and for a defined map or channel
        type the relocations at `abi.MapType.Key`/`Elem` (`ChanType.Elem`) name its key
        and element. Every other descriptor stops after its first line. Whether its next
        lines matter (False: the descriptor is read)."""
        name = self.current
        if line.startswith("\t0x0000 "):
            match = _HEX.match(line)
            if match is not None:
                # (fromhex skips the spaces; two little-endian words: Size_, PtrBytes)
                size, ptrbytes = _TWO_WORDS.unpack(bytes.fromhex(match.group("hex")))
                self.types[name] = TypeInfo(name, size, ptrbytes)
            if match is None or name.startswith(_NOT_DEFINED):
                return False
        elif line.startswith("\t0x0010 "):
            kind = int(line[29:31], 16) & _KIND_MASK  # byte 7 of the line: abi.Type.Kind_
            self._kind = kind
            if kind not in (_KIND_MAP, _KIND_CHAN, _KIND_STRUCT):
                return False
        elif line.startswith("\trel "):
            # `\trel 56+8 t=R_ADDR type:func(go/types.Type) bool+0`: names hold spaces
            fields = line[5:].split(" ", 2)
            offset, target = fields[0].partition("+")[0], fields[-1]
            if len(fields) < 3 or not (target.startswith(TYPE_PREFIXES) and offset.isdigit()):
                return True
            if self._kind == _KIND_STRUCT:
                self._struct_rel(int(offset), target)
                return True
            part = unescaped(target[5:].rpartition("+")[0])
            key, elem = self.container_parts.get(name, (None, None))
            if int(offset) == _ELEM_OFFSET[self._kind]:
                elem = part
            elif int(offset) == _KEY_OFFSET and self._kind == _KIND_MAP:
                key = part
            self.container_parts[name] = (key, elem)
        return True

    def _struct_rel(self, offset: int, target: str) -> None:
        """A relocation of a defined struct's descriptor: where its fields start, a
        field's name (`type:.namedata.A.`) or a field's type (`type:int64+0`)."""
        spelt, _, addend = target[5:].rpartition("+")
        symbol = unescaped(spelt)
        if offset == _FIELDS_OFFSET and symbol == self.current and addend.isdigit():
            self._fields_at = int(addend)
            return
        if self._fields_at < 0 or offset < self._fields_at:
            return
        index, within = divmod(offset - self._fields_at, _STRUCT_FIELD_BYTES)
        fields = self.struct_fields.setdefault(self.current, [])
        if within == 0 and symbol.startswith(_NAMEDATA) and index == len(fields):
            fields.append((symbol[len(_NAMEDATA) :].rstrip(".-"), ""))
        elif within == 8 and index == len(fields) - 1 and not fields[index][1]:
            fields[index] = (fields[index][0], symbol)

    def struct_types(self, types: dict[str, TypeInfo]) -> dict[str, TypeInfo]:
        """This listing's defined struct types with their fields (`TypeInfo.fields`),
        each field sized from `types` (and this listing) where it can be."""
        # (a view, not a copy: std's final_types asks each of ~400 listings with ~50 000)
        laid_out: dict[str, TypeInfo] = {}
        known = ChainMap(laid_out, self.types, types)
        found: dict[str, TypeInfo] = {}
        # A struct's alignment is its fields': one holding another defined struct is laid
        # out once that one is, so repeat while a pass lays out more.
        while True:
            before = len(found)
            for name, fields in self.struct_fields.items():
                own = known.get(name)
                if name in found or own is None or not all(t for _, t in fields):
                    continue
                laid = with_fields(own, tuple(FieldInfo(f, t) for f, t in fields), known)
                if laid.fields or not fields:
                    found[name] = known[name] = laid
            if len(found) == before:
                return found

    def container_types(self, types: dict[str, TypeInfo]) -> dict[str, TypeInfo]:
        """This listing's defined map and channel types with their key and element, sized
        from `types` (and this listing); one whose parts cannot be sized is left out."""
        known = ChainMap(self.types, types)
        found = {}
        for name, (key_name, elem_name) in self.container_parts.items():
            own = self.types.get(name)
            key = resolve_type(key_name, known) if key_name is not None else None
            elem = resolve_type(elem_name, known) if elem_name is not None else None
            if own is not None and elem is not None and (key is not None or key_name is None):
                found[name] = with_parts(own, key, elem)
        return found

    def container_part_refs(self) -> set[str]:
        """The key and element type names of this listing's defined containers (calls of
        other target packages may make them too)."""
        return {part for pair in self.container_parts.values() for part in pair if part}
