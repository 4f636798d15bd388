"""The runtime allocation entry points a compiled Go program calls, and their arguments.

The list is ALLOCATOR.md §8 (what cmd/compile emits); the argument positions are the
functions' Go signatures in src/runtime (register ABI: argument i is in the i-th integer
register, `ABI_REGISTERS`). `type_arg` is the argument holding a `*_type` (for
makechan/makemap the chan/map type, whose element/key types the descriptor points to);
`count_arg` one holding a length, capacity, hint or byte size the call site may load as a
constant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EntrySpec:
    type_arg: int | None = None
    count_arg: int | None = None


ABI_REGISTERS: dict[str, tuple[str, ...]] = {
    "amd64": ("rax", "rbx", "rcx", "rdi", "rsi", "r8", "r9", "r10", "r11"),
    "arm64": tuple(f"x{i}" for i in range(16)),
}

_NONE = EntrySpec()

# name (without the `runtime.` prefix) -> arguments
ENTRIES: dict[str, EntrySpec] = {
    "newobject": EntrySpec(type_arg=0),
    "mallocgc": EntrySpec(type_arg=1, count_arg=0),
    "makeslice": EntrySpec(type_arg=0, count_arg=2),
    "makeslice64": EntrySpec(type_arg=0, count_arg=2),
    "makeslicecopy": EntrySpec(type_arg=0, count_arg=1),
    "growslice": EntrySpec(type_arg=4),
    "growsliceBuf": EntrySpec(type_arg=4),
    "growsliceNoAlias": EntrySpec(type_arg=4),
    "growsliceBufNoAlias": EntrySpec(type_arg=4),
    "moveSlice": EntrySpec(type_arg=0),
    "moveSliceNoCap": EntrySpec(type_arg=0),
    "moveSliceNoScan": _NONE,
    "moveSliceNoCapNoScan": _NONE,
    "makemap": EntrySpec(type_arg=0, count_arg=1),
    "makemap64": EntrySpec(type_arg=0, count_arg=1),
    "makemap_small": _NONE,
    "makechan": EntrySpec(type_arg=0, count_arg=1),
    "makechan64": EntrySpec(type_arg=0, count_arg=1),
    "convT": EntrySpec(type_arg=0),
    "convTnoptr": EntrySpec(type_arg=0),
    "convT16": _NONE,
    "convT32": _NONE,
    "convT64": _NONE,
    "convTstring": _NONE,
    "convTslice": _NONE,
    "concatstrings": _NONE,
    "concatbytes": _NONE,
    "slicebytetostring": _NONE,
    "stringtoslicebyte": _NONE,
    "stringtoslicerune": _NONE,
    "slicerunetostring": _NONE,
    "intstring": _NONE,
    "newproc": _NONE,
    "deferproc": _NONE,
}

# Families with a number in the name: size-specialized mallocs (1.26+ experiment, 1.27
# default) take (size, typ, needzero); concatenations of 2-5 operands take no type.
_FAMILIES = (
    (
        re.compile(r"mallocgc(?:SmallNoScanSC|SmallScanNoHeaderSC|TinySC|TinySize)\d+"),
        EntrySpec(type_arg=1, count_arg=0),
    ),
    (re.compile(r"concat(?:string|byte)[2-5]"), _NONE),
)

RUNTIME_PREFIX = "runtime."


def entry_spec(symbol: str) -> tuple[str, EntrySpec] | None:
    """(entry name, arguments) when `symbol` is an allocation entry point, else None."""
    if not symbol.startswith(RUNTIME_PREFIX):
        return None
    name = symbol[len(RUNTIME_PREFIX) :]
    spec = ENTRIES.get(name)
    if spec is not None:
        return name, spec
    for pattern, family_spec in _FAMILIES:
        if pattern.fullmatch(name):
            return name, family_spec
    return None
