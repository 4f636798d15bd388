"""The model against the allocator's facts, typed in here as tables and numbers.

The tables below are the full class table with objects per span by version family
(docs/allocator.md §3), the classes the malloc header moves (§5), and what the running
runtime showed case by case on go1.21.13, 1.22.10, 1.25.5, 1.26.6 and 1.27.3 (measured
with runtime/metrics, as `escape-lens sizeclass --verify` does); the sequences and sizes
come from §1, §6, §8 and §9-11. Section numbers (§N) are docs/allocator.md's. The
tables are parsed here, never computed from the model, so a wrong model (or a wrong
table generation) fails.
"""

# ruff: noqa: E501  (the spec's tables are kept verbatim, one row per line; its multiplication sign is spelled x)

from __future__ import annotations

import re

import pytest

from escape_lens.model import (
    chan_objects,
    class_of_specialized_entry,
    first_insert_objects,
    growslice_request,
    hchan_size,
    map_objects,
    next_slice_cap,
    predict,
    roundupsize,
    rules_for,
    specialized_entry,
)
from escape_lens.model.rules import AllocRules
from escape_lens.records import GoVersion

ALL_VERSIONS = ("1.21", "1.22", "1.23", "1.24", "1.25", "1.26", "1.27")


def rules(version: str, *experiments: str) -> AllocRules:
    return rules_for(GoVersion.parse(version), experiments)


# docs/allocator.md §3: class | bytes/obj | npages | span bytes | objs (1.21; and noscan
# 1.22-1.25) | objs scan 1.22-1.25 | objs noscan 1.26+ | objs scan 1.26+ | tail waste |
# max waste | min align | span class scan / noscan
SPEC_CLASSES = """\
| 1 | 8 | 1 | 8192 | 1024 | 1008 | 1024 | 1008 | 0 | 87.50% | 8 | 2 / 3 |
| 2 | 16 | 1 | 8192 | 512 | 504 | 504 | 496 | 0 | 43.75% | 16 | 4 / 5 |
| 3 | 24 | 1 | 8192 | 341 | 336 | 336 | 330 | 8 | 29.24% | 8 | 6 / 7 |
| 4 | 32 | 1 | 8192 | 256 | 252 | 252 | 248 | 0 | 21.88% | 32 | 8 / 9 |
| 5 | 48 | 1 | 8192 | 170 | 168 | 168 | 165 | 32 | 31.52% | 16 | 10 / 11 |
| 6 | 64 | 1 | 8192 | 128 | 126 | 126 | 124 | 0 | 23.44% | 64 | 12 / 13 |
| 7 | 80 | 1 | 8192 | 102 | 100 | 100 | 99 | 32 | 19.07% | 16 | 14 / 15 |
| 8 | 96 | 1 | 8192 | 85 | 84 | 84 | 82 | 32 | 15.95% | 32 | 16 / 17 |
| 9 | 112 | 1 | 8192 | 73 | 72 | 72 | 70 | 16 | 13.56% | 16 | 18 / 19 |
| 10 | 128 | 1 | 8192 | 64 | 63 | 63 | 62 | 0 | 11.72% | 128 | 20 / 21 |
| 11 | 144 | 1 | 8192 | 56 | 56 | 56 | 55 | 128 | 11.82% | 16 | 22 / 23 |
| 12 | 160 | 1 | 8192 | 51 | 50 | 50 | 49 | 32 | 9.73% | 32 | 24 / 25 |
| 13 | 176 | 1 | 8192 | 46 | 45 | 45 | 45 | 96 | 9.59% | 16 | 26 / 27 |
| 14 | 192 | 1 | 8192 | 42 | 42 | 42 | 41 | 128 | 9.25% | 64 | 28 / 29 |
| 15 | 208 | 1 | 8192 | 39 | 38 | 38 | 38 | 80 | 8.12% | 16 | 30 / 31 |
| 16 | 224 | 1 | 8192 | 36 | 36 | 36 | 35 | 128 | 8.15% | 32 | 32 / 33 |
| 17 | 240 | 1 | 8192 | 34 | 33 | 33 | 33 | 32 | 6.62% | 16 | 34 / 35 |
| 18 | 256 | 1 | 8192 | 32 | 31 | 31 | 31 | 0 | 5.86% | 256 | 36 / 37 |
| 19 | 288 | 1 | 8192 | 28 | 28 | 28 | 27 | 128 | 12.16% | 32 | 38 / 39 |
| 20 | 320 | 1 | 8192 | 25 | 25 | 25 | 24 | 192 | 11.80% | 64 | 40 / 41 |
| 21 | 352 | 1 | 8192 | 23 | 22 | 22 | 22 | 96 | 9.88% | 32 | 42 / 43 |
| 22 | 384 | 1 | 8192 | 21 | 21 | 21 | 20 | 128 | 9.51% | 128 | 44 / 45 |
| 23 | 416 | 1 | 8192 | 19 | 19 | 19 | 19 | 288 | 10.71% | 32 | 46 / 47 |
| 24 | 448 | 1 | 8192 | 18 | 18 | 18 | 17 | 128 | 8.37% | 64 | 48 / 49 |
| 25 | 480 | 1 | 8192 | 17 | 16 | 16 | 16 | 32 | 6.82% | 32 | 50 / 51 |
| 26 | 512 | 1 | 8192 | 16 | 15 | 15 | 15 | 0 | 6.05% | 512 | 52 / 53 |
| 27 | 576 | 1 | 8192 | 14 | 14 | 14 | 14 | 128 | 12.33% | 64 | 54 / 55 |
| 28 | 640 | 1 | 8192 | 12 | 12 | 12 | 12 | 512 | 15.48% | 128 | 56 / 57 |
| 29 | 704 | 1 | 8192 | 11 | 11 | 11 | 11 | 448 | 13.93% | 64 | 58 / 59 |
| 30 | 768 | 1 | 8192 | 10 | 10 | 10 | 10 | 512 | 13.94% | 256 | 60 / 61 |
| 31 | 896 | 1 | 8192 | 9 | 9 | 9 | 9 | 128 | 15.52% | 128 | 62 / 63 |
| 32 | 1024 | 1 | 8192 | 8 | 8 | 8 | 8 | 0 | 12.40% | 1024 | 64 / 65 |
| 33 | 1152 | 1 | 8192 | 7 | 7 | 7 | 7 | 128 | 12.41% | 128 | 66 / 67 |
| 34 | 1280 | 1 | 8192 | 6 | 6 | 6 | 6 | 512 | 15.55% | 256 | 68 / 69 |
| 35 | 1408 | 2 | 16384 | 11 | 11 | 11 | 11 | 896 | 14.00% | 128 | 70 / 71 |
| 36 | 1536 | 1 | 8192 | 5 | 5 | 5 | 5 | 512 | 14.00% | 512 | 72 / 73 |
| 37 | 1792 | 2 | 16384 | 9 | 9 | 9 | 9 | 256 | 15.57% | 256 | 74 / 75 |
| 38 | 2048 | 1 | 8192 | 4 | 4 | 4 | 4 | 0 | 12.45% | 2048 | 76 / 77 |
| 39 | 2304 | 2 | 16384 | 7 | 7 | 7 | 7 | 256 | 12.46% | 256 | 78 / 79 |
| 40 | 2688 | 1 | 8192 | 3 | 3 | 3 | 3 | 128 | 15.59% | 128 | 80 / 81 |
| 41 | 3072 | 3 | 24576 | 8 | 8 | 8 | 8 | 0 | 12.47% | 1024 | 82 / 83 |
| 42 | 3200 | 2 | 16384 | 5 | 5 | 5 | 5 | 384 | 6.22% | 128 | 84 / 85 |
| 43 | 3456 | 3 | 24576 | 7 | 7 | 7 | 7 | 384 | 8.83% | 128 | 86 / 87 |
| 44 | 4096 | 1 | 8192 | 2 | 2 | 2 | 2 | 0 | 15.60% | 4096 | 88 / 89 |
| 45 | 4864 | 3 | 24576 | 5 | 5 | 5 | 5 | 256 | 16.65% | 256 | 90 / 91 |
| 46 | 5376 | 2 | 16384 | 3 | 3 | 3 | 3 | 256 | 10.92% | 256 | 92 / 93 |
| 47 | 6144 | 3 | 24576 | 4 | 4 | 4 | 4 | 0 | 12.48% | 2048 | 94 / 95 |
| 48 | 6528 | 4 | 32768 | 5 | 5 | 5 | 5 | 128 | 6.23% | 128 | 96 / 97 |
| 49 | 6784 | 5 | 40960 | 6 | 6 | 6 | 6 | 256 | 4.36% | 128 | 98 / 99 |
| 50 | 6912 | 6 | 49152 | 7 | 7 | 7 | 7 | 768 | 3.37% | 256 | 100 / 101 |
| 51 | 8192 | 1 | 8192 | 1 | 1 | 1 | 1 | 0 | 15.61% | 8192 | 102 / 103 |
| 52 | 9472 | 7 | 57344 | 6 | 6 | 6 | 6 | 512 | 14.28% | 256 | 104 / 105 |
| 53 | 9728 | 6 | 49152 | 5 | 5 | 5 | 5 | 512 | 3.64% | 512 | 106 / 107 |
| 54 | 10240 | 5 | 40960 | 4 | 4 | 4 | 4 | 0 | 4.99% | 2048 | 108 / 109 |
| 55 | 10880 | 4 | 32768 | 3 | 3 | 3 | 3 | 128 | 6.24% | 128 | 110 / 111 |
| 56 | 12288 | 3 | 24576 | 2 | 2 | 2 | 2 | 0 | 11.45% | 4096 | 112 / 113 |
| 57 | 13568 | 5 | 40960 | 3 | 3 | 3 | 3 | 256 | 9.99% | 256 | 114 / 115 |
| 58 | 14336 | 7 | 57344 | 4 | 4 | 4 | 4 | 0 | 5.35% | 2048 | 116 / 117 |
| 59 | 16384 | 2 | 16384 | 1 | 1 | 1 | 1 | 0 | 12.49% | 8192 | 118 / 119 |
| 60 | 18432 | 9 | 73728 | 4 | 4 | 4 | 4 | 0 | 11.11% | 2048 | 120 / 121 |
| 61 | 19072 | 7 | 57344 | 3 | 3 | 3 | 3 | 128 | 3.57% | 128 | 122 / 123 |
| 62 | 20480 | 5 | 40960 | 2 | 2 | 2 | 2 | 0 | 6.87% | 4096 | 124 / 125 |
| 63 | 21760 | 8 | 65536 | 3 | 3 | 3 | 3 | 256 | 6.25% | 256 | 126 / 127 |
| 64 | 24576 | 3 | 24576 | 1 | 1 | 1 | 1 | 0 | 11.45% | 8192 | 128 / 129 |
| 65 | 27264 | 10 | 81920 | 3 | 3 | 3 | 3 | 128 | 10.00% | 128 | 130 / 131 |
| 66 | 28672 | 7 | 57344 | 2 | 2 | 2 | 2 | 0 | 4.91% | 4096 | 132 / 133 |
| 67 | 32768 | 4 | 32768 | 1 | 1 | 1 | 1 | 0 | 12.50% | 8192 | 134 / 135 |
"""

# docs/allocator.md §5: scan object size S | 1.21 class (bytes) | 1.22+ class (bytes) | extra
SPEC_HEADER_MOVES = """\
| 576 | 27 (576) | 28 (640) | 64 |
| 640 | 28 (640) | 29 (704) | 64 |
| 704 | 29 (704) | 30 (768) | 64 |
| 768 | 30 (768) | 31 (896) | 128 |
| 896 | 31 (896) | 32 (1024) | 128 |
| 1024 | 32 (1024) | 33 (1152) | 128 |
| 1152 | 33 (1152) | 34 (1280) | 128 |
| 1280 | 34 (1280) | 35 (1408) | 128 |
| 1408 | 35 (1408) | 36 (1536) | 128 |
| 1536 | 36 (1536) | 37 (1792) | 256 |
| 1792 | 37 (1792) | 38 (2048) | 256 |
| 2048 | 38 (2048) | 39 (2304) | 256 |
| 2304 | 39 (2304) | 40 (2688) | 384 |
| 2688 | 40 (2688) | 41 (3072) | 384 |
| 3072 | 41 (3072) | 42 (3200) | 128 |
| 3200 | 42 (3200) | 43 (3456) | 256 |
| 3456 | 43 (3456) | 44 (4096) | 640 |
| 4096 | 44 (4096) | 45 (4864) | 768 |
| 4864 | 45 (4864) | 46 (5376) | 512 |
| 5376 | 46 (5376) | 47 (6144) | 768 |
| 6144 | 47 (6144) | 48 (6528) | 384 |
| 6528 | 48 (6528) | 49 (6784) | 256 |
| 6784 | 49 (6784) | 50 (6912) | 128 |
| 6912 | 50 (6912) | 51 (8192) | 1280 |
| 8192 | 51 (8192) | 52 (9472) | 1280 |
| 9472 | 52 (9472) | 53 (9728) | 256 |
| 9728 | 53 (9728) | 54 (10240) | 512 |
| 10240 | 54 (10240) | 55 (10880) | 640 |
| 10880 | 55 (10880) | 56 (12288) | 1408 |
| 12288 | 56 (12288) | 57 (13568) | 1280 |
| 13568 | 57 (13568) | 58 (14336) | 768 |
| 14336 | 58 (14336) | 59 (16384) | 2048 |
| 16384 | 59 (16384) | 60 (18432) | 2048 |
| 18432 | 60 (18432) | 61 (19072) | 640 |
| 19072 | 61 (19072) | 62 (20480) | 1408 |
| 20480 | 62 (20480) | 63 (21760) | 1280 |
| 21760 | 63 (21760) | 64 (24576) | 2816 |
| 24576 | 64 (24576) | 65 (27264) | 2688 |
| 27264 | 65 (27264) | 66 (28672) | 1408 |
| 28672 | 66 (28672) | 67 (32768) | 4096 |
| 32768 | 67 (32768) | large, 4 pages (32768) | 0 |
"""

# Measured on the runtime: case | type size | observed 1.21.13 | 1.22.10 | 1.25.5 | 1.26.6 | 1.27.3
SPEC_OBSERVED = """\
| 1:n | 1 | tiny, blk16 x16/blk, 1.1 B/alloc | tiny, blk16 x16/blk, 1.1 B/alloc | tiny, blk16 x16/blk, 1.1 B/alloc | tiny, blk16 x16/blk, 1.1 B/alloc | tiny, blk16 x16/blk, 1.1 B/alloc | yes |
| 8:n | 8 | tiny, blk16 x2/blk, 8.1 B/alloc | tiny, blk16 x2/blk, 8.1 B/alloc | tiny, blk16 x2/blk, 8.1 B/alloc | tiny, blk16 x2/blk, 8.1 B/alloc | tiny, blk16 x2/blk, 8.1 B/alloc | yes |
| 12:n | 12 | tiny, blk16 x1/blk, 16.1 B/alloc | tiny, blk16 x1/blk, 16.1 B/alloc | tiny, blk16 x1/blk, 16.1 B/alloc | tiny, blk16 x1/blk, 16.1 B/alloc | tiny, blk16 x1/blk, 16.1 B/alloc | yes |
| 15:n | 15 | tiny, blk16 x1/blk, 16.1 B/alloc | tiny, blk16 x1/blk, 16.1 B/alloc | tiny, blk16 x1/blk, 16.1 B/alloc | tiny, blk16 x1/blk, 16.1 B/alloc | tiny, blk16 x1/blk, 16.1 B/alloc | yes |
| 16:n | 16 | c2 (16), 512/span, noscan | c2 (16), 512/span, noscan | c2 (16), 512/span, noscan | c2 (16), 504/span, noscan | c2 (16), 504/span, noscan | yes |
| 24:n | 24 | c3 (24), 341/span, noscan | c3 (24), 341/span, noscan | c3 (24), 341/span, noscan | c3 (24), 336/span, noscan | c3 (24), 336/span, noscan | yes |
| 32:n | 32 | c4 (32), 256/span, noscan | c4 (32), 256/span, noscan | c4 (32), 256/span, noscan | c4 (32), 252/span, noscan | c4 (32), 252/span, noscan | yes |
| 33:n | 33 | c5 (48), 170/span, noscan | c5 (48), 170/span, noscan | c5 (48), 170/span, noscan | c5 (48), 168/span, noscan | c5 (48), 168/span, noscan | yes |
| 48:n | 48 | c5 (48), 170/span, noscan | c5 (48), 170/span, noscan | c5 (48), 170/span, noscan | c5 (48), 168/span, noscan | c5 (48), 168/span, noscan | yes |
| 80:n | 80 | c7 (80), 102/span, noscan | c7 (80), 102/span, noscan | c7 (80), 102/span, noscan | c7 (80), 100/span, noscan | c7 (80), 100/span, noscan | yes |
| 81:n | 81 | c8 (96), 85/span, noscan | c8 (96), 85/span, noscan | c8 (96), 85/span, noscan | c8 (96), 84/span, noscan | c8 (96), 84/span, noscan | yes |
| 512:n | 512 | c26 (512), 16/span, noscan | c26 (512), 16/span, noscan | c26 (512), 16/span, noscan | c26 (512), 15/span, noscan | c26 (512), 15/span, noscan | yes |
| 513:n | 513 | c27 (576), noscan | c27 (576), noscan | c27 (576), noscan | c27 (576), noscan | c27 (576), noscan | yes |
| 520:n | 520 | c27 (576), noscan | c27 (576), noscan | c27 (576), noscan | c27 (576), noscan | c27 (576), noscan | yes |
| 1024:n | 1024 | c32 (1024), noscan | c32 (1024), noscan | c32 (1024), noscan | c32 (1024), noscan | c32 (1024), noscan | yes |
| 1025:n | 1025 | c33 (1152), noscan | c33 (1152), noscan | c33 (1152), noscan | c33 (1152), noscan | c33 (1152), noscan | yes |
| 18432:n | 18432 | c60 (18432), noscan | c60 (18432), noscan | c60 (18432), noscan | c60 (18432), noscan | c60 (18432), noscan | yes |
| 19072:n | 19072 | c61 (19072) | c61 (19072) | c61 (19072) | c61 (19072) | c61 (19072) | yes |
| 32760:n | 32760 | c67 (32768) | c67 (32768) | c67 (32768) | c67 (32768) | c67 (32768) | yes |
| 32768:n | 32768 | c67 (32768) | large, 4 pages, 32770 B | large, 4 pages, 32770 B | large, 4 pages, 32770 B | large, 4 pages, 32770 B | yes |
| 32769:n | 32769 | large, 5 pages, 40962 B | large, 5 pages, 40962 B | large, 5 pages, 40962 B | large, 5 pages, 40962 B | large, 5 pages, 40962 B | yes |
| 8:p | 8 | c1 (8), 1024/span | c1 (8), 1008/span | c1 (8), 1008/span | c1 (8), 1008/span | c1 (8), 1008/span | yes |
| 16:p | 16 | c2 (16), 512/span, scan | c2 (16), 504/span, scan | c2 (16), 504/span, scan | c2 (16), 496/span, scan | c2 (16), 496/span, scan | yes |
| 24:p | 24 | c3 (24), 341/span, scan | c3 (24), 336/span, scan | c3 (24), 336/span, scan | c3 (24), 330/span, scan | c3 (24), 330/span, scan | yes |
| 32:p | 32 | c4 (32), 256/span, scan | c4 (32), 252/span, scan | c4 (32), 252/span, scan | c4 (32), 248/span, scan | c4 (32), 248/span, scan | yes |
| 33:p | 40 | c5 (48), 170/span, scan | c5 (48), 168/span, scan | c5 (48), 168/span, scan | c5 (48), 165/span, scan | c5 (48), 165/span, scan | yes |
| 48:p | 48 | c5 (48), 170/span, scan | c5 (48), 168/span, scan | c5 (48), 168/span, scan | c5 (48), 165/span, scan | c5 (48), 165/span, scan | yes |
| 80:p | 80 | c7 (80), 102/span, scan | c7 (80), 100/span, scan | c7 (80), 100/span, scan | c7 (80), 99/span, scan | c7 (80), 99/span, scan | yes |
| 88:p | 88 | c8 (96), 85/span, scan | c8 (96), 84/span, scan | c8 (96), 84/span, scan | c8 (96), 82/span, scan | c8 (96), 82/span, scan | yes |
| 504:p | 504 | c26 (512), 16/span, scan | c26 (512), 15/span, scan | c26 (512), 15/span, scan | c26 (512), 15/span, scan | c26 (512), 15/span, scan | yes |
| 512:p | 512 | c26 (512), 16/span, scan | c26 (512), 15/span, scan | c26 (512), 15/span, scan | c26 (512), 15/span, scan | c26 (512), 15/span, scan | yes |
| 513:p | 520 | c27 (576), scan | c27 (576) +hdr, scan | c27 (576) +hdr, scan | c27 (576) +hdr, scan | c27 (576) +hdr, scan | yes |
| 520:p | 520 | c27 (576), scan | c27 (576) +hdr, scan | c27 (576) +hdr, scan | c27 (576) +hdr, scan | c27 (576) +hdr, scan | yes |
| 1016:p | 1016 | c32 (1024), scan | c32 (1024) +hdr, scan | c32 (1024) +hdr, scan | c32 (1024) +hdr, scan | c32 (1024) +hdr, scan | yes |
| 1024:p | 1024 | c32 (1024), scan | c33 (1152) +hdr, scan | c33 (1152) +hdr, scan | c33 (1152) +hdr, scan | c33 (1152) +hdr, scan | yes |
| 1025:p | 1032 | c33 (1152), scan | c33 (1152) +hdr, scan | c33 (1152) +hdr, scan | c33 (1152) +hdr, scan | c33 (1152) +hdr, scan | yes |
| 32752:p | 32752 | c67 (32768) | c67 (32768) +hdr | c67 (32768) +hdr | c67 (32768) +hdr | c67 (32768) +hdr | yes |
| 32760:p | 32760 | c67 (32768) | c67 (32768) +hdr | c67 (32768) +hdr | c67 (32768) +hdr | c67 (32768) +hdr | yes |
| 32768:p | 32768 | c67 (32768) | large, 4 pages, 32770 B | large, 4 pages, 32770 B | large, 4 pages, 32770 B | large, 4 pages, 32770 B | yes |
| 32769:p | 32776 | large, 5 pages, 40962 B | large, 5 pages, 40962 B | large, 5 pages, 40962 B | large, 5 pages, 40962 B | large, 5 pages, 40962 B | yes |
"""
OBSERVED_VERSIONS = ("1.21", "1.22", "1.25", "1.26", "1.27")


def _rows(table: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in table.splitlines()]


CLASS_ROWS = _rows(SPEC_CLASSES)


def test_spec_tables_are_complete() -> None:
    assert len(CLASS_ROWS) == 67
    assert len(_rows(SPEC_HEADER_MOVES)) == 41
    assert len(_rows(SPEC_OBSERVED)) == 40


@pytest.mark.parametrize("row", CLASS_ROWS, ids=lambda r: f"class{r[0]}")
def test_class_table_and_objects_per_span(row: list[str]) -> None:
    cls, size, npages, span = (int(v) for v in row[:4])
    objs_121, objs_scan_122, objs_noscan_126, objs_scan_126 = (int(v) for v in row[4:8])
    scan_sc, noscan_sc = (int(v) for v in row[11].split("/"))
    # A request of exactly the class size lands in the class (scan: only where no header).
    families = {
        "1.21": (objs_121, objs_121),
        "1.22": (objs_scan_122, objs_121),
        "1.25": (objs_scan_122, objs_121),
        "1.26": (objs_scan_126, objs_noscan_126),
        "1.27": (objs_scan_126, objs_noscan_126),
    }
    for version, (scan_objs, noscan_objs) in families.items():
        r = rules(version)
        noscan = predict(size, False, r)
        if size >= 16 and size <= r.max_small_size:
            assert (noscan.size_class, noscan.class_bytes) == (cls, size)
            assert (noscan.span_pages, noscan.span_class) == (npages, noscan_sc)
            assert noscan.objects_per_span == noscan_objs
            assert noscan.span_pages * 8192 == span
        if size <= 512:
            scan = predict(size, True, r)
            assert (scan.size_class, scan.span_class, scan.header_bytes) == (cls, scan_sc, 0)
            assert scan.objects_per_span == scan_objs
    # 1.21 has no header: every class is reachable by a scan object of its size.
    scan_121 = predict(size, True, rules("1.21"))
    assert (scan_121.size_class, scan_121.objects_per_span) == (cls, objs_121)


def test_green_tea_and_bitmap_reserves_by_experiment() -> None:
    # §6: 1.25 + greenteagc behaves like 1.26; 1.26/1.27 + nogreenteagc like 1.22-1.25.
    for row in CLASS_ROWS:
        cls, size = int(row[0]), int(row[1])
        if size > 512:
            continue
        objs_121, scan_122, noscan_126, scan_126 = (int(v) for v in row[4:8])
        for r in (rules("1.25", "greenteagc"), rules("1.26"), rules("1.27")):
            assert predict(size, True, r).objects_per_span == scan_126, (cls, r.version)
            if size >= 16:
                assert predict(size, False, r).objects_per_span == noscan_126
        for r in (rules("1.26", "nogreenteagc"), rules("1.27", "nogreenteagc"), rules("1.24")):
            assert predict(size, True, r).objects_per_span == scan_122
            if size >= 16:
                assert predict(size, False, r).objects_per_span == objs_121
        r = rules("1.22", "noallocheaders")
        assert predict(size, True, r).objects_per_span == objs_121


@pytest.mark.parametrize("row", _rows(SPEC_HEADER_MOVES), ids=lambda r: r[0])
def test_header_moves_scan_objects_up_a_class(row: list[str]) -> None:
    size = int(row[0])
    old_cls, old_bytes = re.match(r"(\d+) \((\d+)\)", row[1]).groups()  # type: ignore[union-attr]
    old = predict(size, True, rules("1.21"))
    assert (old.size_class, old.class_bytes, old.header_bytes) == (int(old_cls), int(old_bytes), 0)
    assert predict(size, True, rules("1.22", "noallocheaders")).size_class == int(old_cls)
    for version in ("1.22", "1.24", "1.27"):
        new = predict(size, True, rules(version))
        if row[2].startswith("large"):
            assert (new.path, new.span_pages, new.class_bytes) == ("large", 4, 32768)
            assert (new.header_bytes, new.span_class) == (0, 0)
        else:
            new_cls, new_bytes = re.match(r"(\d+) \((\d+)\)", row[2]).groups()  # type: ignore[union-attr]
            assert (new.size_class, new.class_bytes, new.header_bytes) == (
                int(new_cls),
                int(new_bytes),
                8,
            )
            assert new.class_bytes - old.class_bytes == int(row[3])
        # The same size without pointers never moves.
        assert predict(size, False, rules(version)).size_class == (
            int(old_cls) if size <= 32760 else 0
        )


_OBS = re.compile(
    r"^(?:c(?P<cls>\d+) \((?P<bytes>\d+)\)(?P<hdr> \+hdr)?(?:, (?P<objs>\d+)/span)?"
    r"|large, (?P<pages>\d+) pages, \d+ B"
    r"|tiny, blk16 x(?P<share>\d+)/blk, [\d.]+ B/alloc)"
)


@pytest.mark.parametrize("row", _rows(SPEC_OBSERVED), ids=lambda r: r[0])
def test_runtime_observations_of_section_10(row: list[str]) -> None:
    kind = row[0].split(":")[1]
    type_size = int(row[1])
    for version, cell in zip(OBSERVED_VERSIONS, row[2:7], strict=True):
        match = _OBS.match(cell)
        assert match, cell
        p = predict(type_size, kind == "p", rules(version))
        if match["share"]:
            assert (p.path, p.size_class, p.class_bytes, p.span_class) == ("tiny", 2, 16, 5)
            assert 16 // type_size == int(match["share"])
        elif match["pages"]:
            assert (p.path, p.span_pages, p.size_class) == ("large", int(match["pages"]), 0)
            assert p.objects_per_span == 1
        else:
            assert p.path == "small", (version, cell)
            assert (p.size_class, p.class_bytes) == (int(match["cls"]), int(match["bytes"]))
            assert p.header_bytes == (8 if match["hdr"] else 0), (version, cell)
            if match["objs"]:
                assert p.objects_per_span == int(match["objs"]), (version, cell)
            assert p.span_class & 1 == (kind == "n")


def test_tiny_steady_state_share() -> None:
    # §4: bytes used per object 16/floor(16/size): 1->1, 2->2, 4->4, 6-7->8, 8->8, 9-15->16
    used = {1: 1, 2: 2, 4: 4, 6: 8, 7: 8, 8: 8, 9: 16, 12: 16, 15: 16}
    for version in ALL_VERSIONS:
        for size, per_object in used.items():
            p = predict(size, False, rules(version))
            assert p.waste_bytes == per_object - size
            assert p.objects_per_span == (504 if version >= "1.26" else 512)


def test_small_limit_and_zero() -> None:
    # §2, §7: 1.21 size > 32768 is large; 1.22+ size > 32760, noscan too.
    assert predict(32768, False, rules("1.21")).size_class == 67
    for version in ALL_VERSIONS[1:]:
        for size in (32761, 32768):
            assert predict(size, False, rules(version)).span_class == 1
            assert predict(size, False, rules(version)).path == "large"
    assert predict(32768, False, rules("1.22", "noallocheaders")).size_class == 67
    assert predict(0, True, rules("1.27")).path == "none"


# docs/allocator.md §11: capacities of an escaping slice appended one element at a time.
GROWSLICE = [
    # (elem size, pointers, 1.21 sequence, 1.22-1.27 sequence)
    (1, False, [8, 16, 32, 64, 128, 256, 512, 896, 1408, 2048, 3072, 4096, 5376, 6912], None),
    (8, False, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 848, 1280, 1792, 2560], None),
    (
        8,
        True,
        [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 848, 1280],
        [1, 2, 4, 8, 16, 32, 64, 143, 287, 607, 1023, 1535, 2303, 3071],
    ),
    (
        24,
        True,
        [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 853, 1365, 2048],
        [1, 2, 4, 8, 16, 37, 74, 170, 341, 682, 1135, 1706, 2389],
    ),
    (520, False, [1, 2, 4, 9, 18, 36, 78, 157], None),
    (520, True, [1, 2, 4, 9, 18, 36, 78, 157], None),
]


def _capacities(elem: int, pointers: bool, r: AllocRules, count: int) -> list[int]:
    caps, cap = [], 0
    for length in range(1, 10**6):
        if length > cap:
            cap = growslice_request(length, cap, elem, pointers, r) // elem
            caps.append(cap)
            if len(caps) == count:
                return caps
    raise AssertionError("unreachable")


@pytest.mark.parametrize("case", GROWSLICE, ids=lambda c: f"{c[0]}{'p' if c[1] else 'n'}")
def test_growslice_capacity_sequences(case: tuple[int, bool, list[int], list[int] | None]) -> None:
    elem, pointers, old, new = case
    # []byte starts at 8: the first append of one byte asks for cap 1 -> 8 B class.
    assert _capacities(elem, pointers, rules("1.21"), len(old)) == old
    for version in ALL_VERSIONS[1:]:
        expected = new or old
        assert _capacities(elem, pointers, rules(version), len(expected)) == expected


def test_next_slice_cap_rule() -> None:
    assert next_slice_cap(5, 2) == 5  # more than double: exactly what is needed
    assert next_slice_cap(3, 2) == 4  # doubling below 256
    assert next_slice_cap(257, 256) == 256 + (256 + 768) // 4  # 1.25x + 192
    assert next_slice_cap(513, 512) == 832


def test_roundupsize_usable_bytes() -> None:
    # §5: roundupsize returns the usable size (the slot minus the header).
    assert roundupsize(1024, False, rules("1.22")) == 1144
    assert roundupsize(1024, True, rules("1.22")) == 1024
    assert roundupsize(1024, False, rules("1.21")) == 1024
    assert roundupsize(800, True, rules("1.27")) == 896
    assert roundupsize(32761, True, rules("1.27")) == 32768  # large: whole pages
    assert roundupsize(32769, True, rules("1.27")) == 40960
    assert roundupsize(100, True, rules("1.23")) == 112  # []byte(s100): cap 112 (§11)


def test_chan_sizes() -> None:
    # §10
    hchan = {
        "1.21": 96,
        "1.22": 96,
        "1.23": 104,
        "1.24": 104,
        "1.25": 112,
        "1.26": 112,
        "1.27": 112,
    }
    for version, size in hchan.items():
        r = rules(version)
        assert hchan_size(r) == size
        slot = 96 if version <= "1.22" else 112
        (only,) = chan_objects(0, False, 0, r)  # make(chan struct{})
        assert (predict(only[0], only[1], r).class_bytes, only[1]) == (slot, False)
        (block,) = chan_objects(8, False, 8, r)  # make(chan int, 8): one noscan block
        assert predict(block[0], block[1], r).class_bytes == (160 if version <= "1.22" else 176)
        header, buffer = chan_objects(8, True, 8, r)  # make(chan *int, 8)
        assert (header, buffer) == ((size, True), (64, True))


def _classes(objects: list[tuple[int, bool]], r: AllocRules) -> list[int]:
    return sorted(predict(size, ptr, r).class_bytes for size, ptr in objects)


def test_map_observations() -> None:
    # §9: make(map[int]int[, hint]) slot sizes per version (sorted).
    for version in ALL_VERSIONS:
        r = rules(version)
        assert _classes(map_objects(8, False, 8, False, None, r), r) == [48]
        assert _classes(map_objects(8, False, 8, False, 8, r), r) == [48]
    for version in ("1.21", "1.22", "1.23"):
        r = rules(version)
        assert _classes(map_objects(8, False, 8, False, 9, r), r) == [48, 288]
    assert _classes(map_objects(8, False, 8, False, 100, rules("1.21")), rules("1.21")) == [
        24,
        48,
        5376,
    ]
    for version in ("1.22", "1.23"):
        r = rules(version)
        assert _classes(map_objects(8, False, 8, False, 100, r), r) == [24, 48, 2688]
    for version in ("1.24", "1.25", "1.26", "1.27"):
        r = rules(version)
        assert _classes(map_objects(8, False, 8, False, 9, r), r) == [8, 32, 48, 288]
        assert _classes(map_objects(8, False, 8, False, 100, r), r) == [8, 32, 48, 2304]
    # 1.24/1.25 with noswissmap go back to buckets
    r = rules("1.24", "noswissmap")
    assert _classes(map_objects(8, False, 8, False, 100, r), r) == [24, 48, 2688]


def test_map_bucket_pointerness() -> None:
    # map[int]int buckets are noscan; map[string]*int's are scan (bucket 208 B, §9).
    r = rules("1.22")
    (_, buckets) = map_objects(8, False, 8, False, 9, r)
    assert buckets[1] is False
    (_, buckets) = map_objects(16, True, 8, True, 9, r)
    assert buckets == (2 * 208, True)


def test_specialized_entries() -> None:
    # §8
    for version in ("1.21", "1.25", "1.26"):
        assert specialized_entry(24, False, rules(version)) is None
    r26 = rules("1.26", "sizespecializedmalloc")
    assert specialized_entry(24, True, r26) == "mallocgcSmallScanNoHeaderSC3"
    assert specialized_entry(5, False, r26) == "mallocgcTinySize5"
    assert specialized_entry(512, False, r26) == "mallocgcSmallNoScanSC26"
    assert specialized_entry(513, False, r26) is None
    r27 = rules("1.27")
    assert specialized_entry(5, False, r27) == "mallocgcTinySC2"
    assert specialized_entry(80, True, r27) == "mallocgcSmallScanNoHeaderSC7"
    assert specialized_entry(33, False, r27) == "mallocgcSmallNoScanSC5"
    assert specialized_entry(81, False, r27) is None
    assert specialized_entry(0, False, r27) is None
    assert specialized_entry(16, False, rules("1.27", "nosizespecializedmalloc")) is None
    assert class_of_specialized_entry("mallocgcSmallScanNoHeaderSC7") == 7
    assert class_of_specialized_entry("runtime.mallocgcSmallNoScanSC26") == 26
    assert class_of_specialized_entry("mallocgcTinySC2") == 2
    assert class_of_specialized_entry("mallocgcTinySize15") == 2
    assert class_of_specialized_entry("mallocgcSmallScanSlowPath") is None
    assert class_of_specialized_entry("newobject") is None


def test_experiment_defaults() -> None:
    # §1 GOEXPERIMENT defaults
    flags = {
        v: (r.alloc_headers, r.swiss_maps, r.green_tea, r.size_specialized)
        for v in ALL_VERSIONS
        for r in [rules(v)]
    }
    assert flags == {
        "1.21": (False, False, False, False),
        "1.22": (True, False, False, False),
        "1.23": (True, False, False, False),
        "1.24": (True, True, False, False),
        "1.25": (True, True, False, False),
        "1.26": (True, True, True, False),
        "1.27": (True, True, True, True),
    }
    assert not rules("1.22", "noallocheaders").alloc_headers
    assert rules("1.23", "noallocheaders").alloc_headers  # no longer an experiment
    assert "does not exist" in rules("1.23", "noallocheaders").note
    assert rules("1.25", "greenteagc").green_tea
    assert not rules("1.26", "nogreenteagc").green_tea
    assert rules("1.26", "sizespecializedmalloc").specialized_max == 512
    assert rules("1.27").specialized_max == 80
    assert rules("1.27").note == ""


def test_unknown_future_version_uses_newest_rules_with_a_note() -> None:
    future = rules("1.31")
    assert "newer" in future.note
    assert "go1.27" in future.note
    newest = rules("1.27")
    for size in (8, 33, 1024, 32761):
        for ptr in (False, True):
            assert predict(size, ptr, future) == predict(size, ptr, newest)


def test_swiss_groups_pad_a_slot_that_ends_in_a_zero_size_elem() -> None:
    # A struct of non-zero size ending in a zero-size field takes a byte more (the
    # compiler's types.CalcStructSize, Go issue 9401), rounded to its alignment:
    # map[string]struct{}'s slot is 24 B, its group 8 + 8*24 = 200 B (the 208 B class the
    # runtime took on 1.27.3 and 1.24.11: tests/integration/test_exact_runtime.py). Slots
    # of zero size leave the group a padding word.
    for version in ("1.24", "1.25", "1.26", "1.27"):
        r = rules(version)
        assert first_insert_objects(16, True, 0, False, r) == [(200, True)]
        assert first_insert_objects(8, False, 0, False, r) == [(136, False)]
        assert first_insert_objects(0, False, 0, False, r) == [(16, False)]
        assert first_insert_objects(0, False, 8, False, r) == [(72, False)]
        assert first_insert_objects(16, True, 16, True, r) == [(264, True)]
    # A classic bucket ends in its overflow pointer: nothing to pad.
    assert first_insert_objects(16, True, 0, False, rules("1.23")) == [(144, True)]
