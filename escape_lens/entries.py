"""The runtime functions that allocate: which family of constructs each implements, which
of its arguments say what, and which escape statements it may stand behind.

The one table of entry points: the `-S` listing parser and binary mode read it to find
calls and their arguments, the join (escape_lens/sites.py) to pair calls with escape
statements, the model (escape_lens/predict.py) to size them. The list is what
cmd/compile emits calls to (docs/allocator.md); argument positions are the functions' Go
signatures in src/runtime of go1.21-go1.27, counted from 0, so each reader maps them onto
its own names for the ABI's integer argument registers.

`type_arg` holds a `*_type` (for makechan/makemap the chan/map type, whose element and
key types its descriptor points to); `count_arg` a length, capacity, hint or byte size
that a call site may load as a constant; `family` the constructs the entry implements
(`EXPLAINS` says which escape statements a call of the family may pair with).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from escape_lens.vocab import Construct as C
from escape_lens.vocab import EntryFamily as F


@dataclass(frozen=True, slots=True)
class EntrySpec:
    family: F = F.OBJECT
    type_arg: int | None = None
    count_arg: int | None = None


# name (without `runtime.`) -> arguments
ENTRIES: dict[str, EntrySpec] = {
    "newobject": EntrySpec(F.OBJECT, type_arg=0),
    "mallocgc": EntrySpec(F.OBJECT, type_arg=1, count_arg=0),  # (size, typ, needzero)
    "makeslice": EntrySpec(F.MAKE_SLICE, type_arg=0, count_arg=2),  # (et, len, cap): cap sizes it
    "makeslice64": EntrySpec(F.MAKE_SLICE, type_arg=0, count_arg=2),
    "makeslicecopy": EntrySpec(F.MAKE_SLICE, type_arg=0, count_arg=1),  # (et, tolen, fromlen, from)
    "growslice": EntrySpec(F.APPEND, type_arg=4),  # (oldPtr, newLen, oldCap, num, et)
    "growsliceBuf": EntrySpec(F.APPEND, type_arg=4),
    "growsliceNoAlias": EntrySpec(F.APPEND, type_arg=4),
    "growsliceBufNoAlias": EntrySpec(F.APPEND, type_arg=4),
    "moveSlice": EntrySpec(F.APPEND, type_arg=0),  # (et, old, len, cap)
    "moveSliceNoCap": EntrySpec(F.APPEND, type_arg=0),  # (et, old, len)
    "moveSliceNoScan": EntrySpec(F.APPEND, count_arg=0),  # (elemSize, old, len, cap)
    "moveSliceNoCapNoScan": EntrySpec(F.APPEND, count_arg=0),  # (elemSize, old, len)
    "makemap": EntrySpec(F.MAP, type_arg=0, count_arg=1),  # (t, hint, m)
    "makemap64": EntrySpec(F.MAP, type_arg=0, count_arg=1),
    "makemap_small": EntrySpec(F.MAP),
    "makechan": EntrySpec(F.CHAN, type_arg=0, count_arg=1),  # (t, size)
    "makechan64": EntrySpec(F.CHAN, type_arg=0, count_arg=1),
    "newarray": EntrySpec(F.MAKE_SLICE, type_arg=0, count_arg=1),  # (typ, n)
    "convT": EntrySpec(F.INTERFACE, type_arg=0),  # (t, v)
    "convTnoptr": EntrySpec(F.INTERFACE, type_arg=0),
    "convT16": EntrySpec(F.INTERFACE),
    "convT32": EntrySpec(F.INTERFACE),
    "convT64": EntrySpec(F.INTERFACE),
    "convTstring": EntrySpec(F.INTERFACE),
    "convTslice": EntrySpec(F.INTERFACE),
    "concatstrings": EntrySpec(F.STRING_CONCAT),
    "concatbytes": EntrySpec(F.STRING_CONCAT),
    "rawstring": EntrySpec(F.STRING_CONVERSION, count_arg=0),  # (size)
    "slicebytetostring": EntrySpec(F.STRING_CONVERSION, count_arg=2),  # (buf, ptr, n)
    "stringtoslicebyte": EntrySpec(F.BYTES_CONVERSION, count_arg=2),  # (buf, s.ptr, s.len)
    "stringtoslicerune": EntrySpec(F.RUNES_CONVERSION, count_arg=2),  # (buf, s.ptr, s.len)
    "slicerunetostring": EntrySpec(F.STRING_CONVERSION, count_arg=2),  # (buf, a.ptr, a.len, a.cap)
    "intstring": EntrySpec(F.STRING_CONVERSION),
    "newproc": EntrySpec(F.GOROUTINE),
    "deferproc": EntrySpec(F.DEFER),
    "bytealg.MakeNoZero": EntrySpec(F.MAKE_SLICE, count_arg=0),  # internal/bytealg: strings.Builder
}

# Families with a number in the name: size-specialized mallocs (1.26+ experiment, 1.27
# default) take (size, typ, needzero); concatenations of 2-5 operands take no type. The
# runtime's own slow paths (`mallocgcTinySlowPath`) are not entry points: no digits.
_SIZE_SPECIALIZED = re.compile(r"mallocgc(?:SmallNoScanSC|SmallScanNoHeaderSC|TinySC|TinySize)\d+")
FAMILIES: tuple[tuple[re.Pattern[str], EntrySpec], ...] = (
    (_SIZE_SPECIALIZED, EntrySpec(F.OBJECT, type_arg=1, count_arg=0)),
    (re.compile(r"concat(?:string|byte)[2-5]"), EntrySpec(F.STRING_CONCAT)),
)

# Which escape statements' constructs a call of each family may explain (the join pairs
# them, escape_lens/sites.py); an entry listed in EXPLAINS_ENTRY overrides its family.
EXPLAINS: dict[F, frozenset[C]] = {
    F.OBJECT: frozenset(
        {
            C.NEW,
            C.COMPOSITE_LITERAL,
            C.CLOSURE,
            C.MOVED_TO_HEAP,
            C.INTERFACE,
            C.METHOD_VALUE,
            C.BYTES_CONVERSION,  # `[]byte("const")`: a `[n]byte` object
        }
    ),
    F.MAKE_SLICE: frozenset({C.MAKE_SLICE, C.MAKE}),
    F.APPEND: frozenset({C.APPEND}),
    F.MAP: frozenset({C.MAP, C.MAKE}),
    F.CHAN: frozenset({C.CHAN, C.MAKE}),
    # `a + b` of integers boxed: the subject does not say it is no concatenation
    F.INTERFACE: frozenset({C.INTERFACE, C.STRING_CONCAT}),
    F.STRING_CONCAT: frozenset({C.STRING_CONCAT, C.BYTES_CONVERSION}),
    F.STRING_CONVERSION: frozenset({C.STRING_CONVERSION, C.INTERFACE}),
    F.BYTES_CONVERSION: frozenset({C.BYTES_CONVERSION}),
    F.RUNES_CONVERSION: frozenset({C.RUNES_CONVERSION}),
    F.GOROUTINE: frozenset(),
    F.DEFER: frozenset(),
}
EXPLAINS_ENTRY: dict[str, frozenset[C]] = {
    # A bare mallocgc is also what `make([]T, n); copy(...)` compiles to (OMAKESLICECOPY).
    "mallocgc": frozenset({C.NEW, C.COMPOSITE_LITERAL, C.MOVED_TO_HEAP, C.MAKE_SLICE, C.MAKE}),
}

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
    spec = _spec(name)
    return (name, spec) if spec is not None else None


def _spec(entry: str) -> EntrySpec | None:
    spec = ENTRIES.get(entry)
    if spec is not None:
        return spec
    for pattern, family_spec in FAMILIES:
        if pattern.fullmatch(entry):
            return family_spec
    return None


def entry_family(entry: str) -> F | None:
    """The family of an entry named without `runtime.` (`newobject`, `concatstring3`),
    None when it does not allocate."""
    spec = _spec(entry)
    return spec.family if spec is not None else None


def explains(entry: str, family: F) -> frozenset[C]:
    """The constructs of the escape statements a call of `entry` may pair with."""
    return EXPLAINS_ENTRY.get(entry) or EXPLAINS[family]
