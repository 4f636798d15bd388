"""What the runtime entry points behind Go constructs ask the allocator for.

Each function answers "which mallocgc requests does this construct make"
(docs/allocator.md §8-11); `predict` then says what the allocator does with each
request. Objects are `(bytes, pointerful)` pairs in the order the runtime allocates them.
"""

from __future__ import annotations

import re

from escape_lens.model.rules import AllocRules
from escape_lens.model.sizeclass import TINY_SIZE, TINY_SIZE_CLASS, roundupsize, size_to_class

# --- slices -------------------------------------------------------------------------------

_GROWTH_THRESHOLD = 256  # nextslicecap: 2x below this capacity, then ~1.25x


def next_slice_cap(new_len: int, old_cap: int) -> int:
    """runtime.nextslicecap: the capacity growslice aims for before rounding to a class."""
    if new_len < 0 or old_cap < 0:
        raise ValueError("lengths and capacities cannot be negative")
    double = old_cap + old_cap
    if new_len > double:
        return new_len
    if old_cap < _GROWTH_THRESHOLD:
        return double
    new_cap = old_cap
    while new_cap < new_len:
        new_cap += (new_cap + 3 * _GROWTH_THRESHOLD) >> 2
    return new_cap


def growslice_request(
    new_len: int, old_cap: int, elem_size: int, pointers: bool, rules: AllocRules
) -> int:
    """The bytes growslice passes to mallocgc when an append needs `new_len` > `old_cap`.

    The capacity is grown to fill the whole slot (roundupsize), then cut to a whole number
    of elements; for pointerful elements over 512 B of slot that leaves the header out.
    The resulting capacity is the request divided by `elem_size`.
    """
    if elem_size < 0:
        raise ValueError("element size cannot be negative")
    if elem_size == 0:
        return 0  # growslice returns &zerobase
    wanted = next_slice_cap(new_len, old_cap) * elem_size
    usable = roundupsize(wanted, not pointers, rules)
    return usable // elem_size * elem_size


# --- channels -----------------------------------------------------------------------------


def hchan_size(rules: AllocRules) -> int:
    """hchanSize: unsafe.Sizeof(hchan{}) rounded up to 8 (96, 104 from 1.23, 112 from 1.25)."""
    return rules.hchan_bytes


def chan_objects(
    elem_size: int, elem_pointers: bool, buffer: int, rules: AllocRules
) -> list[tuple[int, bool]]:
    """makechan: one noscan block (header + buffer) unless the elements hold pointers."""
    if elem_size < 0 or buffer < 0:
        raise ValueError("element size and buffer cannot be negative")
    header = hchan_size(rules)
    buffer_bytes = elem_size * buffer
    if buffer_bytes == 0:
        return [(header, False)]  # mallocgc(hchanSize, nil, true): noscan
    if not elem_pointers:
        return [(header + buffer_bytes, False)]
    return [(header, True), (buffer_bytes, True)]


# --- maps ---------------------------------------------------------------------------------

MAP_HEADER_BYTES = 48  # hmap (classic) and maps.Map (swiss) are both 48 B, pointerful
_SLOTS = 8  # bucketCnt / MapGroupSlots
_MAX_INLINE = 128  # keys and elems over 128 B are stored behind a pointer
_MAPEXTRA_BYTES = 24
_TABLE_BYTES = 32  # maps.table
_MAX_TABLE_CAPACITY = 1024
_MAX_AVG_GROUP_LOAD = 7
_MAX_ALLOC = 1 << 48


def _align_of(size: int) -> int:
    """A field's alignment guessed from its size: the largest power of two dividing it, <= 8.

    The model sees sizes only; Go's natural alignment equals this for scalars, pointers,
    strings, slices and arrays of them, and for most structs.
    """
    return min(8, size & -size) if size else 1


def _align_up(n: int, align: int) -> int:
    return -(-n // align) * align


def _stored(size: int, pointers: bool) -> tuple[int, bool]:
    """How a key or elem is stored in a bucket/group slot: inline, or as a pointer."""
    return (8, True) if size > _MAX_INLINE else (size, pointers)


def _bucket(key: tuple[int, bool], elem: tuple[int, bool]) -> tuple[int, bool]:
    """Classic bucket: tophash [8]uint8, keys [8]K, elems [8]V, overflow pointer."""
    size = _SLOTS + _SLOTS * key[0] + _SLOTS * elem[0] + 8
    return size, key[1] or elem[1]


def _group(key: tuple[int, bool], elem: tuple[int, bool]) -> tuple[int, bool]:
    """Swiss group: ctrl uint64, then 8 slots of struct{key K; elem V}.

    A struct of non-zero size that ends in a zero-size field takes a byte more, so that
    the field's address is not the next object's (types.CalcStructSize, Go issue 9401):
    a slot whose elem is zero-size (`map[string]struct{}`), and the group of slots that
    are zero-size themselves."""
    align = max(_align_of(key[0]), _align_of(elem[0]))
    slot = _align_up(key[0], _align_of(elem[0])) + elem[0]
    slot = _align_up(slot + (slot > 0 and elem[0] == 0), align)
    return _align_up(8 + _SLOTS * slot + (slot == 0), 8), key[1] or elem[1]


def first_insert_objects(
    key_size: int, key_pointers: bool, elem_size: int, elem_pointers: bool, rules: AllocRules
) -> list[tuple[int, bool]]:
    """What the first insert into a map made without a hint (makemap_small) allocates:
    its first bucket (classic: `newobject(t.Bucket)`) or group (swiss: `newarray(group, 1)`)."""
    key, elem = _stored(key_size, key_pointers), _stored(elem_size, elem_pointers)
    return [_group(key, elem) if rules.swiss_maps else _bucket(key, elem)]


def _classic_buckets(hint: int, bucket: tuple[int, bool], rules: AllocRules) -> tuple[int, int]:
    """(buckets allocated, 2^B) of makemap/makeBucketArray; 0 buckets when B = 0."""
    if hint * bucket[0] > _MAX_ALLOC:
        hint = 0
    b = 0
    # overLoadFactor: count > 8 && count > loadFactorNum * (2^B / loadFactorDen)
    load_num = int(rules.map_load_factor * 2)
    while hint > _SLOTS and hint > load_num * ((1 << b) // 2):
        b += 1
    if b == 0:
        return 0, 1
    base = nbuckets = 1 << b
    if b >= 4:
        nbuckets += 1 << (b - 4)
        wanted = bucket[0] * nbuckets
        nbuckets = roundupsize(wanted, not bucket[1], rules) // bucket[0]
    return nbuckets, base


def map_objects(
    key_size: int,
    key_pointers: bool,
    elem_size: int,
    elem_pointers: bool,
    hint: int | None,
    rules: AllocRules,
) -> list[tuple[int, bool]]:
    """What make(map[K]V[, hint]) allocates at creation (hint None = makemap_small).

    Growth after creation (including the first insert into a small map, which allocates
    one bucket/group) is not included.
    """
    if key_size < 0 or elem_size < 0 or (hint is not None and hint < 0):
        raise ValueError("sizes and hints cannot be negative")
    objects = [(MAP_HEADER_BYTES, True)]
    if hint is None or hint <= _SLOTS:
        return objects
    key, elem = _stored(key_size, key_pointers), _stored(elem_size, elem_pointers)
    if not rules.swiss_maps:
        bucket = _bucket(key, elem)
        nbuckets, base = _classic_buckets(hint, bucket, rules)
        if nbuckets:
            objects.append((bucket[0] * nbuckets, bucket[1]))
        if nbuckets != base:
            objects.append((_MAPEXTRA_BYTES, True))  # new(mapextra): preallocated overflow
        return objects
    group = _group(key, elem)
    target = hint * _SLOTS // _MAX_AVG_GROUP_LOAD
    dir_size = 1 << max(0, (-(-target // _MAX_TABLE_CAPACITY) - 1).bit_length())
    if dir_size * _MAX_TABLE_CAPACITY * group[0] > _MAX_ALLOC:
        return objects  # NewMap returns an empty map for absurd hints
    objects.append((8 * dir_size, True))  # make([]*table, dirSize)
    capacity = 1 << max(0, (max(_SLOTS, target // dir_size) - 1).bit_length())
    for _ in range(dir_size):
        objects.append((_TABLE_BYTES, True))
        objects.append((group[0] * (capacity // _SLOTS), group[1]))
    return objects


# --- size-specialized mallocgc entries (1.26+) ---------------------------------------------

_ENTRY_RE = re.compile(
    r"^(?:runtime\.)?mallocgc(?:SmallScanNoHeaderSC(\d+)|SmallNoScanSC(\d+)|TinySC(2)|TinySize\d+)$"
)


def specialized_entry(size: int, pointers: bool, rules: AllocRules) -> str | None:
    """The mallocgc*SC* function the compiler calls for new(T) of this size, if any."""
    if not rules.size_specialized or not 0 < size <= rules.specialized_max:
        return None
    if pointers:
        return f"mallocgcSmallScanNoHeaderSC{size_to_class(size)}"
    if size < TINY_SIZE:
        # 1.26 has one tiny function per size; 1.27 one for all, taking the size.
        per_size = rules.version.minor_version == (1, 26)
        return f"mallocgcTinySize{size}" if per_size else "mallocgcTinySC2"
    return f"mallocgcSmallNoScanSC{size_to_class(size)}"


def class_of_specialized_entry(entry: str) -> int | None:
    """The size class a mallocgc*SC* / mallocgcTiny* entry allocates from, else None."""
    match = _ENTRY_RE.match(entry)
    if match is None:
        return None
    digits = next((g for g in match.groups() if g is not None), None)
    return int(digits) if digits is not None else TINY_SIZE_CLASS
