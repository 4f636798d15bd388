"""The runtime functions that allocate, and which of their arguments say what.

One table for both readers of compiled code: the `-S` listing parser and binary mode.
The list is ALLOCATOR.md §8 (what cmd/compile emits calls to); argument positions are
the functions' Go signatures in src/runtime of go1.21-go1.27, counted from 0, so each
reader maps them onto its own names for the ABI's integer argument registers.

`type_arg` holds a `*_type` (for makechan/makemap the chan/map type, whose element and
key types its descriptor points to); `count_arg` a length, capacity, hint or byte size
that a call site may load as a constant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EntrySpec:
    type_arg: int | None = None
    count_arg: int | None = None


_NONE = EntrySpec()

# name (without `runtime.`) -> arguments
ENTRIES: dict[str, EntrySpec] = {
    "newobject": EntrySpec(type_arg=0),
    "mallocgc": EntrySpec(type_arg=1, count_arg=0),  # (size, typ, needzero)
    "makeslice": EntrySpec(type_arg=0, count_arg=2),  # (et, len, cap): cap sizes it
    "makeslice64": EntrySpec(type_arg=0, count_arg=2),
    "makeslicecopy": EntrySpec(type_arg=0, count_arg=1),  # (et, tolen, fromlen, from)
    "growslice": EntrySpec(type_arg=4),  # (oldPtr, newLen, oldCap, num, et)
    "growsliceBuf": EntrySpec(type_arg=4),
    "growsliceNoAlias": EntrySpec(type_arg=4),
    "growsliceBufNoAlias": EntrySpec(type_arg=4),
    "moveSlice": EntrySpec(type_arg=0),  # (et, old, len, cap)
    "moveSliceNoCap": EntrySpec(type_arg=0),  # (et, old, len)
    "moveSliceNoScan": _NONE,  # (elemSize, old, len, cap)
    "moveSliceNoCapNoScan": _NONE,  # (elemSize, old, len)
    "makemap": EntrySpec(type_arg=0, count_arg=1),  # (t, hint, m)
    "makemap64": EntrySpec(type_arg=0, count_arg=1),
    "makemap_small": _NONE,
    "makechan": EntrySpec(type_arg=0, count_arg=1),  # (t, size)
    "makechan64": EntrySpec(type_arg=0, count_arg=1),
    "newarray": EntrySpec(type_arg=0, count_arg=1),  # (typ, n)
    "convT": EntrySpec(type_arg=0),  # (t, v)
    "convTnoptr": EntrySpec(type_arg=0),
    "convT16": _NONE,
    "convT32": _NONE,
    "convT64": _NONE,
    "convTstring": _NONE,
    "convTslice": _NONE,
    "concatstrings": _NONE,
    "concatbytes": _NONE,
    "rawstring": EntrySpec(count_arg=0),  # (size)
    "slicebytetostring": EntrySpec(count_arg=2),  # (buf, ptr, n)
    "stringtoslicebyte": EntrySpec(count_arg=2),  # (buf, s.ptr, s.len)
    "stringtoslicerune": EntrySpec(count_arg=2),  # (buf, s.ptr, s.len)
    "slicerunetostring": EntrySpec(count_arg=2),  # (buf, a.ptr, a.len, a.cap)
    "intstring": _NONE,
    "newproc": _NONE,
    "deferproc": _NONE,
    "bytealg.MakeNoZero": EntrySpec(count_arg=0),  # internal/bytealg: strings.Builder
}

# Families with a number in the name: size-specialized mallocs (1.26+ experiment, 1.27
# default) take (size, typ, needzero); concatenations of 2-5 operands take no type. The
# runtime's own slow paths (`mallocgcTinySlowPath`) are not entry points: no digits.
_SIZE_SPECIALIZED = re.compile(r"mallocgc(?:SmallNoScanSC|SmallScanNoHeaderSC|TinySC|TinySize)\d+")
FAMILIES: tuple[tuple[re.Pattern[str], EntrySpec], ...] = (
    (_SIZE_SPECIALIZED, EntrySpec(type_arg=1, count_arg=0)),
    (re.compile(r"concat(?:string|byte)[2-5]"), _NONE),
)

_PREFIXES = (("runtime.", ""), ("internal/bytealg.", "bytealg."))


def is_size_specialized(entry: str) -> bool:
    """Whether `entry` (no `runtime.`) is a size-specialized malloc: its name says the
    size class (`mallocgcSmallNoScanSC4`) or the tiny size (`mallocgcTinySize8`)."""
    return _SIZE_SPECIALIZED.fullmatch(entry) is not None


def alloc_entry(symbol: str) -> tuple[str, EntrySpec] | None:
    """(entry name, arguments) when `symbol` (`runtime.newobject`) allocates, else None."""
    for prefix, replacement in _PREFIXES:
        if symbol.startswith(prefix):
            name = replacement + symbol[len(prefix) :]
            break
    else:
        return None
    spec = ENTRIES.get(name)
    if spec is not None:
        return name, spec
    for pattern, family_spec in FAMILIES:
        if pattern.fullmatch(name):
            return name, family_spec
    return None
