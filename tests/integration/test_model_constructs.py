"""The construct helpers against the running runtime (escape_lens/model/measure/constructs).

Channels and maps are made N times with every result kept live; the size-class counts of
runtime/metrics must equal N times the classes of the objects the model says each one
allocates. Slices are appended to one element at a time; every capacity growslice picks
must equal the model's.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from escape_lens.model import (
    AllocRules,
    chan_objects,
    growslice_request,
    map_objects,
    predict,
    rules_for,
)
from escape_lens.model.verify import run_program
from escape_lens.records import GoToolchain
from escape_lens.toolchain import read_toolchain
from tests.conftest import fetch_toolchain

pytestmark = pytest.mark.slow

CONSTRUCTS: dict[str, Any] = {
    "chan struct{}": lambda r: chan_objects(0, False, 0, r),
    "chan int 8": lambda r: chan_objects(8, False, 8, r),
    "chan *int 8": lambda r: chan_objects(8, True, 8, r),
    "chan [64]byte 10": lambda r: chan_objects(64, False, 10, r),
    "map[int]int": lambda r: map_objects(8, False, 8, False, None, r),
    "map[int]int 9": lambda r: map_objects(8, False, 8, False, 9, r),
    "map[int]int 100": lambda r: map_objects(8, False, 8, False, 100, r),
    "map[int]int 1000": lambda r: map_objects(8, False, 8, False, 1000, r),
    "map[int32]int64 50": lambda r: map_objects(4, False, 8, False, 50, r),
    "map[string]*int 100": lambda r: map_objects(16, True, 8, True, 100, r),
    "map[[200]byte]int 20": lambda r: map_objects(200, False, 8, False, 20, r),
}
GROWS = {
    "byte": (1, False),
    "int64": (8, False),
    "*int": (8, True),
    "struct{p *int; a, b int64}": (24, True),
    "[520]byte": (520, False),
    "struct{p *int; x [512]byte}": (520, True),
}


def _expected_classes(objects: list[tuple[int, bool]], n: int, rules: AllocRules) -> Counter[str]:
    expected: Counter[str] = Counter()
    for size, pointers in objects:
        p = predict(size, pointers, rules)
        expected["large" if p.path == "large" else str(p.class_bytes)] += n
    return expected


def _model_caps(limit: int, elem: int, pointers: bool, rules: AllocRules) -> list[int]:
    caps, cap = [], 0
    for length in range(1, limit + 1):
        if length > cap:
            cap = growslice_request(length, cap, elem, pointers, rules) // elem
            caps.append(cap)
    return caps


def _check(toolchain: GoToolchain) -> int:
    rules = rules_for(toolchain.version, toolchain.goexperiment)
    lines = run_program(toolchain, "./constructs")
    measured = 0
    for line in lines:
        if "construct" in line:
            observed: Counter[str] = Counter(line["classes"])
            if line["large"]:
                observed["large"] = line["large"]
            objects = CONSTRUCTS[line["construct"]](rules)
            assert observed == _expected_classes(objects, line["n"], rules), line["construct"]
            assert line["tiny"] == 0
        else:
            elem, pointers = GROWS[line["grow"]]
            caps = line["caps"]
            assert caps == _model_caps(caps[-1], elem, pointers, rules), line["grow"]
        measured += 1
    assert measured == len(CONSTRUCTS) + len(GROWS)
    return measured


def test_constructs_on_the_pinned_runtime(pinned_toolchain: GoToolchain) -> None:
    _check(pinned_toolchain)


@pytest.mark.toolchains
@pytest.mark.parametrize("version", ["1.21.13", "1.22.10", "1.24.11"])
def test_constructs_on_old_runtimes(version: str) -> None:
    _check(read_toolchain(Path(fetch_toolchain(version))))
