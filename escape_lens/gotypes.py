"""Go type layout: the size and pointer bytes of a type, from its name and known descriptors.

The compiler's type descriptors (dumped in the `-S` listing, read by the type-size helper
or from a binary) are the source of sizes; this module adds what no package dumps: the
language's layout of predeclared and built-in composite types on 64-bit targets, and a
defined map or channel type's parts. Parsers, the toolchain, binary mode and the model
read layouts here (never from `predict`).

Invariants: sizes are read, never guessed; a type neither the descriptors nor the
language's layout tells is None. A struct's fields (`with_fields`) are kept only when
the gc layout rules (`struct_size`) reproduce the descriptor's size from them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from escape_lens.gonames import CHAN_PREFIXES
from escape_lens.records import FieldInfo, TypeInfo

# Go's layout of predeclared types on 64-bit targets (the language spec's sizes, the
# runtime's pointer words): the type descriptors of these live in the runtime, so a
# package's `-S` listing never dumps them.
_WORD = 8
_BASIC: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("bool", "int8", "uint8", "byte"), (1, 0)),
    **dict.fromkeys(("int16", "uint16"), (2, 0)),
    **dict.fromkeys(("int32", "uint32", "rune", "float32"), (4, 0)),
    **dict.fromkeys(("int", "uint", "int64", "uint64", "uintptr", "float64", "complex64"), (8, 0)),
    "complex128": (16, 0),
    "string": (16, 8),
    "unsafe.Pointer": (8, 8),
    "any": (16, 16),
    "error": (16, 16),
    "struct {}": (0, 0),
}
# Alignment where it is not the size: complex64 is two float32s; `struct {}` is 1.
_ALIGN = {"complex64": 4, "complex128": 8, "string": 8, "any": 8, "error": 8, "struct {}": 1}


def with_parts(info: TypeInfo, key: TypeInfo | None, elem: TypeInfo | None) -> TypeInfo:
    """A defined map or channel type with its key and element (TypeInfo.key/elem)."""
    return TypeInfo(info.name, info.size, info.ptrbytes, key, elem, info.fields)


def with_fields(
    info: TypeInfo, fields: tuple[FieldInfo, ...], known: Mapping[str, TypeInfo]
) -> TypeInfo:
    """A defined struct type with its fields sized and aligned from `known`; `info` as it
    is when a field cannot be, or when the fields do not lay out to the descriptor's size
    (then they are not what the layout rules see, and nothing is said of them)."""
    sized = []
    for field in fields:
        found = resolve_type(field.type, known)
        align = align_of(field.type, known)
        if found is None or align is None:
            return info
        sized.append(FieldInfo(field.name, field.type, found.size, align))
    if struct_size(tuple((f.size, f.align) for f in sized)) != info.size:
        return info
    return TypeInfo(info.name, info.size, info.ptrbytes, info.key, info.elem, tuple(sized))


def struct_size(fields: tuple[tuple[int, int], ...]) -> int:
    """The gc layout's size of a struct with these (size, align) fields in this order:
    each field at the next multiple of its alignment; a final zero-size field after a
    non-empty prefix gets one byte (so its address stays inside the object); the whole
    rounded up to the largest alignment."""
    offset, largest = 0, 1
    for size, align in fields:
        offset = -(-offset // align) * align + size
        largest = max(largest, align)
    if fields and fields[-1][0] == 0 and offset > 0:
        offset += 1
    return -(-offset // largest) * largest


def align_of(name: str, known: Mapping[str, TypeInfo]) -> int | None:
    """The alignment of a type on 64-bit targets; None when neither the language nor a
    struct's known fields tell (a type of another package, never a guess)."""
    name = name.strip()
    if name.startswith("noalg."):
        name = name[len("noalg.") :]
    if name in _ALIGN:
        return _ALIGN[name]
    if name in _BASIC:
        return max(1, _BASIC[name][0])
    info = known.get(name)
    if info is not None and info.fields:
        return max((field.align for field in info.fields), default=1)
    if name.startswith(("*", "map[", *CHAN_PREFIXES, "func(", "[]", "interface {")):
        return _WORD
    array = re.match(r"^\[(\d+)\](.+)$", name)
    return align_of(array.group(2), known) if array else None


def resolve_type(name: str, known: Mapping[str, TypeInfo]) -> TypeInfo | None:
    """Size and pointer bytes of a type named in a descriptor, from the dumped
    descriptors of the package, else from the language's layout of predeclared and
    built-in composite types; None when neither tells (never a guess)."""
    name = name.strip()
    if name in known:
        return known[name]
    if name.startswith("noalg."):
        return resolve_type(name[len("noalg.") :], known)
    if name in _BASIC:
        size, ptr = _BASIC[name]
        return TypeInfo(name, size, ptr)
    if name.startswith(("*", "map[", *CHAN_PREFIXES, "func(")):
        return TypeInfo(name, _WORD, _WORD)
    if name.startswith("[]"):
        return TypeInfo(name, 3 * _WORD, _WORD)
    if name.startswith("interface {"):
        return TypeInfo(name, 2 * _WORD, 2 * _WORD)
    array = re.match(r"^\[(\d+)\](.+)$", name)
    if array:
        elem = resolve_type(array.group(2), known)
        if elem is None:
            return None
        n = int(array.group(1))
        ptr = (n - 1) * elem.size + elem.ptrbytes if elem.ptrbytes and n else 0
        return TypeInfo(name, n * elem.size, ptr)
    return None
