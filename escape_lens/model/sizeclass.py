"""What the Go runtime does with one heap request: path, size class, span, waste.

This is docs/allocator.md §2-7 as code. The invariants, which the property tests check:

- Paths. size 0 allocates nothing ("none"). A pointer-free request under 16 bytes is
  "tiny": it is packed into a shared 16-byte block of size class 2 (span class 5). Up to
  the small limit (32768 in 1.21, 32760 from 1.22 for every object) it is "small". Above,
  "large": its own span of ceil(size/8192) pages, span class 0 or 1, one object.
- Class choice. A small request gets the smallest class whose size holds it; a pointerful
  one over 512 bytes holds an 8-byte malloc header too (1.22+), so its class is chosen
  for size + 8. The header lives inside the slot; it is never added to class_bytes.
- class_bytes >= requested_bytes, always; it is the slot (small), the page-rounded span
  (large) or the whole 16-byte block (tiny). It never decreases as the request grows
  within one path and pointerness, except where the path itself changes.
- waste_bytes = class_bytes - requested_bytes, except for tiny requests, where blocks are
  shared: in the steady state of one size allocated repeatedly, k = 16 // size requests
  share a block, so each wastes (16 - k*size) // k bytes (the block's unused bytes split
  between its sharers, rounded down). Waste is always < class_bytes.
- span_class = size_class << 1 | noscan: its parity says "no pointers".
- objects_per_span * class_bytes <= span bytes: spans of objects <= 512 B give up their
  tail to the pointer bitmap (scan, 1.22+: span/64 bytes) and to Green Tea's inline mark
  bits (16..512-byte objects, 1.26+ / greenteagc: 128 bytes).

The tables come from `_tables.py`, generated from the runtime's sizeclasses.go; nothing
here restates a number from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from escape_lens.model import _tables as t
from escape_lens.model.rules import AllocRules
from escape_lens.records import Prediction
from escape_lens.vocab import AllocPath

PAGE_SIZE = 1 << t.PAGE_SHIFT
TINY_SIZE = 16  # maxTinySize: pointer-free requests below this share 16-byte blocks
TINY_SIZE_CLASS = 2
TINY_SPAN_CLASS = TINY_SIZE_CLASS << 1 | 1
HEADERLESS_MAX = 512  # minSizeForMallocHeader: scan objects above carry a header (1.22+)
GREEN_TEA_MARK_BITS = 128  # unsafe.Sizeof(spanInlineMarkBits{})


def size_to_class(size: int) -> int:
    """The class mallocgc picks for a small slot of `size` bytes (1..32768)."""
    if not 0 < size <= t.MAX_SMALL_SIZE:
        raise ValueError(f"no size class holds {size} bytes")
    if size <= t.SMALL_SIZE_MAX - 8:
        return t.SIZE_TO_CLASS8[-(-size // t.SMALL_SIZE_DIV)]
    return t.SIZE_TO_CLASS128[-(-(size - t.SMALL_SIZE_MAX) // t.LARGE_SIZE_DIV)]


def class_size(size_class: int) -> int:
    return t.CLASS_TO_SIZE[size_class]


def class_pages(size_class: int) -> int:
    return t.CLASS_TO_NPAGES[size_class]


def objects_per_span(size_class: int, noscan: bool, rules: AllocRules) -> int:
    """`nelems` of `(*mheap).initSpan` for a span of this class (docs/allocator.md §6)."""
    if size_class == 0:
        return 1
    elem = t.CLASS_TO_SIZE[size_class]
    nbytes = t.CLASS_TO_NPAGES[size_class] * PAGE_SIZE
    reserve = 0
    if rules.green_tea and TINY_SIZE <= elem <= HEADERLESS_MAX:
        reserve += GREEN_TEA_MARK_BITS
    if rules.span_bitmap and not noscan and elem <= HEADERLESS_MAX:
        reserve += nbytes // 64  # one bit per 8-byte word
    return (nbytes - reserve) // elem


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"a request cannot be negative: {size}")


def tiny_share(size: int) -> int:
    """How many `size`-byte requests share one tiny block in the steady state."""
    return TINY_SIZE // size


def large_pages(size: int) -> int:
    return -(-size // PAGE_SIZE)


def predict(size: int, pointers: bool, rules: AllocRules) -> Prediction:
    """The runtime's handling of one `mallocgc(size, typ, ...)` with typ (not) pointerful."""
    _check_size(size)
    noscan = not pointers
    if size == 0:
        return Prediction(AllocPath.NONE, 0, 0, 0, 0, 0, 0, 0, 0)
    if size > rules.max_small_size:
        pages = large_pages(size)
        return Prediction(
            path=AllocPath.LARGE,
            size_class=0,
            class_bytes=pages * PAGE_SIZE,
            header_bytes=0,
            span_class=int(noscan),
            span_pages=pages,
            objects_per_span=1,
            waste_bytes=pages * PAGE_SIZE - size,
            requested_bytes=size,
        )
    if noscan and size < TINY_SIZE:
        share = tiny_share(size)
        return Prediction(
            path=AllocPath.TINY,
            size_class=TINY_SIZE_CLASS,
            class_bytes=TINY_SIZE,
            header_bytes=0,
            span_class=TINY_SPAN_CLASS,
            span_pages=class_pages(TINY_SIZE_CLASS),
            objects_per_span=objects_per_span(TINY_SIZE_CLASS, True, rules),
            waste_bytes=(TINY_SIZE - share * size) // share,
            requested_bytes=size,
        )
    header = rules.header_bytes if pointers and size > HEADERLESS_MAX else 0
    size_class = size_to_class(size + header)
    return Prediction(
        path=AllocPath.SMALL,
        size_class=size_class,
        class_bytes=class_size(size_class),
        header_bytes=header,
        span_class=size_class << 1 | int(noscan),
        span_pages=class_pages(size_class),
        objects_per_span=objects_per_span(size_class, noscan, rules),
        waste_bytes=class_size(size_class) - size,
        requested_bytes=size,
    )


def predict_dynamic(elem_size: int, pointers: bool, rules: AllocRules) -> Prediction:
    """A request of n * elem_size bytes with n known only at run time.

    The byte fields are 0; tiny_max_count and small_max_count are the largest n for which
    the request is still tiny / still small (a zero-size element never allocates: "none").
    """
    _check_size(elem_size)
    if elem_size == 0:
        return Prediction(AllocPath.NONE, 0, 0, 0, 0, 0, 0, 0, 0, elem_bytes=0)
    tiny_max = (TINY_SIZE - 1) // elem_size if not pointers else 0
    return Prediction(
        path=AllocPath.DYNAMIC,
        size_class=0,
        class_bytes=0,
        header_bytes=0,
        span_class=0,
        span_pages=0,
        objects_per_span=0,
        waste_bytes=0,
        requested_bytes=0,
        elem_bytes=elem_size,
        tiny_max_count=tiny_max,
        small_max_count=rules.max_small_size // elem_size,
    )


def roundupsize(size: int, noscan: bool, rules: AllocRules) -> int:
    """runtime.roundupsize: the usable bytes mallocgc gives a request of `size`.

    For pointerful requests over 512 B (1.22+) that is the slot minus the header.
    1.21's version takes no noscan argument; it behaves as noscan here.
    """
    _check_size(size)
    if size <= rules.max_small_size:  # 1.21 says size < 32768; 32768 rounds the same
        if size == 0:
            return 0
        header = rules.header_bytes if not noscan and size > HEADERLESS_MAX else 0
        return class_size(size_to_class(size + header)) - header
    return large_pages(size) * PAGE_SIZE


@dataclass(frozen=True, slots=True)
class ClassRow:
    """One line of `sizeclass --table`."""

    size_class: int
    class_bytes: int
    span_pages: int
    objects_scan: int
    objects_noscan: int
    tail_waste: int  # the generator's: span - objects*size, ignoring reserves
    max_waste_pct: float  # the generator's: worst case, smallest request of the class


def class_table(rules: AllocRules) -> list[ClassRow]:
    rows = []
    for size_class in range(1, t.NUM_SIZE_CLASSES):
        size = class_size(size_class)
        span = class_pages(size_class) * PAGE_SIZE
        smallest = class_size(size_class - 1) + 1
        objects = span // size
        rows.append(
            ClassRow(
                size_class=size_class,
                class_bytes=size,
                span_pages=class_pages(size_class),
                objects_scan=objects_per_span(size_class, False, rules),
                objects_noscan=objects_per_span(size_class, True, rules),
                tail_waste=span % size,
                max_waste_pct=100.0 * (span - objects * smallest) / span,
            )
        )
    return rows
