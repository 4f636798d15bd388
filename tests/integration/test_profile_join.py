"""Real heap profiles joined to real sites: observed counts and sizes equal the calls made.

fixtures/profiled calls every construct fixture N times under runtime.MemProfileRate = 1
and writes the allocs profile; the test joins it to the sites of the same code, read from
source and from the program itself, on the oldest supported Go, the 1.24 map and malloc
changes, and the pinned newest. Expected sizes come from Go's semantics (the requests
and size classes written below and in fixtures/constructs/*/expected.json), never from
the tool.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.binary_report import analyze_binary
from escape_lens.profile import attach_profiles
from escape_lens.records import GoVersion, Report, Site
from escape_lens.toolchain import read_toolchain
from tests.conftest import FIXTURES, fetch_toolchain
from tests.integration.profiled_support import build_and_profile

pytestmark = pytest.mark.slow

N = 1000
CONSTRUCTS = "example.com/constructs"
MAIN = "example.com/profiled"


def per_version(value: Any, version: GoVersion) -> Any:
    """{"1.21": a, "1.23": b}: the entry with the highest version not above `version`."""
    if not isinstance(value, dict):
        return value
    keys = [k for k in value if GoVersion.parse(k).minor_version <= version.minor_version]
    return value[max(keys, key=GoVersion.parse)]


DRIVER = (FIXTURES / "profiled" / "main.go").read_text().splitlines()


def driver_line(text: str) -> int:
    """The line of fixtures/profiled/main.go that starts with `text`."""
    return next(n for n, line in enumerate(DRIVER, 1) if line.strip().startswith(text))


BOX, SAME, WRAP = driver_line("p := new(T)"), driver_line("func Same"), driver_line("func wrap")

# (package, function, line) -> recorded object size -> objects, for N calls; sizes are the
# size class of each request (docs/allocator.md), "large" objects their whole pages.
EXACT: dict[tuple[str, str, int], dict[int, int]] = {
    ("newlit", "NewPair", 15): {16: N},
    ("newlit", "NewNode", 25): {24: N},
    ("newlit", "NewWide", 30): {96: N},
    ("slices", "Const", 6): {896: N},
    ("slices", "ConstPointers", 11): {896: N},
    ("slices", "Variable", 16): {48: N},  # make([]int64, 5): 40 B -> class 48
    ("slices", "Literal", 21): {24: N},
    ("makecopy", "Ints", 7): {48: N},
    ("makecopy", "Pointers", 14): {48: N},
    ("maps", "Small", 6): {48: N},
    ("closures", "ByValue", 6): {24: N},
    ("closures", "ByReference", 12): {16: N},
    ("closures", "ByReference", 13): {16: N},
    ("ifaces", "String", 20): {16: N},
    ("ifaces", "Slice", 25): {24: N},
    ("strs", "Concat2", 6): {48: N},  # 40 bytes
    ("strs", "ToString", 16): {48: N},
    ("strs", "ToBytes", 21): {48: N},
    ("strs", "ToRunes", 26): {80: N},  # 20 runes * 4 B
    ("strs", "FromRunes", 31): {24: N},  # 20 bytes
    ("goroutines", "Start", 11): {32: N},  # the go statement's argument closure
    ("defers", "Loop", 13): {16: N},  # the deferred call's closure
    ("generics", "NewStack[go.shape.int64]", 10): {24: N},
    ("large", "New", 8): {40960: N},  # 40000 B: 5 pages
    ("methods", "(*Buffer).Chunk", 10): {32: N},
    ("methods", "Inlined", 19): {32: N},  # newChunk inlined
    ("oneline", "Two", 8): {16: N, 64: N},
    ("", "Box[go.shape.[3]int64]", BOX): {24: N},
    ("", "Box[go.shape.[5]int64]", BOX): {48: N},
    ("", "Same", SAME): {24: 2 * N},
}
# One object per call whose class changed with the Go version (expected.json).
SINGLE: dict[tuple[str, str, int], dict[str, int]] = {
    ("chans", "Unbuffered", 6): {"1.21": 96, "1.23": 112},
    ("chans", "Ints", 11): {"1.21": 160, "1.23": 176},
}
# Bytes per call of several objects (expected.json class_bytes).
BYTES: dict[tuple[str, str, int], dict[str, int]] = {
    ("chans", "Pointers", 16): {"1.21": 160, "1.23": 176},
    ("maps", "Hinted", 11): {"1.21": 5448, "1.22": 2760, "1.24": 2392},
}
# Tiny requests: bytes per call. Only an allocation that opens a 16-byte block is
# recorded (runtime/malloc.go), as 16 B.
TINY: dict[tuple[str, str], int] = {
    ("newlit", "NewThree"): 12,
    ("ifaces", "Int"): 8,
    ("movedheap", "One"): 8,
    ("closures", "ByReference"): 8,
}


@pytest.fixture(scope="module", params=["pinned", "1.21.13", "1.24.11"])
def go(request: pytest.FixtureRequest, pinned_go: Path) -> Path:
    return pinned_go if request.param == "pinned" else fetch_toolchain(str(request.param))


@pytest.fixture(scope="module")
def profiled(tmp_path_factory: pytest.TempPathFactory, go: Path) -> tuple[Path, Path, Path]:
    """(module directory, program, profile) of fixtures/profiled built with `go`."""
    built = build_and_profile(tmp_path_factory.mktemp("profiled"), go, N)
    module, program, profile = built.module, built.program, built.profile
    return module, program, profile


@pytest.fixture(scope="module", params=["source", "binary"])
def joined(request: pytest.FixtureRequest, go: Path, profiled: tuple[Path, Path, Path]) -> Report:
    module, program, profile = profiled
    if request.param == "source":
        report = analyze_targets(["./...", f"{CONSTRUCTS}/..."], go=str(go), cwd=str(module))
    else:
        report = analyze_binary(program, [f"{CONSTRUCTS}/...", MAIN])
    return attach_profiles(report, [str(profile)])


def _sites(report: Report, package: str, function: str, line: int | None = None) -> list[Site]:
    wanted = f"{CONSTRUCTS}/{package}" if package else MAIN
    return [
        s
        for s in report.sites
        if s.allocates
        and s.package == wanted
        and s.function == function
        and (line is None or s.pos.line == line)
    ]


def _sizes(sites: list[Site]) -> Counter[int]:
    sizes: Counter[int] = Counter()
    for site in sites:
        if site.observed is not None:
            for size in site.observed.sizes:
                sizes[size.bytes] += size.objects
    return sizes


def _version(report: Report) -> GoVersion:
    return report.toolchain.version


@pytest.mark.parametrize("key", sorted(EXACT), ids=lambda k: f"{k[0] or 'main'}.{k[1]}:{k[2]}")
def test_observed_objects_per_size_equal_the_calls(
    joined: Report, key: tuple[str, str, int]
) -> None:
    sites = _sites(joined, *key)
    assert sites, f"no site at {key}"
    observed = _sizes(sites)
    for size, objects in EXACT[key].items():
        assert observed[size] == objects, f"{key}: {dict(observed)}"


@pytest.mark.parametrize("key", sorted(SINGLE), ids=lambda k: f"{k[0]}.{k[1]}")
def test_one_object_per_call_of_the_versions_class(
    joined: Report, key: tuple[str, str, int]
) -> None:
    size = per_version(SINGLE[key], _version(joined))
    assert _sizes(_sites(joined, *key)) == Counter({size: N})


@pytest.mark.parametrize("key", sorted(BYTES), ids=lambda k: f"{k[0]}.{k[1]}")
def test_bytes_per_call_of_several_objects(joined: Report, key: tuple[str, str, int]) -> None:
    sites = _sites(joined, *key)
    total = sum(s.observed.bytes for s in sites if s.observed is not None)
    assert total == N * per_version(BYTES[key], _version(joined))
    assert all(count % N == 0 for count in _sizes(sites).values())


@pytest.mark.parametrize("key", sorted(TINY), ids=lambda k: f"{k[0]}.{k[1]}")
def test_tiny_allocations_count_the_blocks_they_open(joined: Report, key: tuple[str, str]) -> None:
    tiny = [
        s for s in _sites(joined, *key) if s.prediction is not None and s.prediction.path == "tiny"
    ]
    assert tiny, f"no tiny site in {key}"
    blocks = 0
    for site in tiny:
        assert site.observed is not None, f"{key}: nothing recorded"
        assert [size.bytes for size in site.observed.sizes] == [16]
        assert site.observed.bytes == 16 * site.observed.objects
        blocks += site.observed.objects
    # Every call's bytes fit in the blocks opened (one may still be open from before);
    # no call opens more than one.
    assert math.ceil(N * TINY[key] / 16) - 1 <= blocks <= N


def test_moved_locals_batched_or_tiny(joined: Report) -> None:
    """movedheap.Two: one 16 B object from 1.25 (two locals batched), else two tiny ones."""
    sites = _sites(joined, "movedheap", "Two")
    if _version(joined).minor_version >= (1, 25):
        assert _sizes(sites) == Counter({16: N})
    else:
        blocks = sum(s.observed.objects for s in sites if s.observed is not None)
        assert math.ceil(N * 12 / 16) - 1 <= blocks <= 2 * N


def test_append_growth_ends_in_the_heap(joined: Report) -> None:
    """appendgrow.Build(5): its last growth, to 8 int64s, is always a 64 B heap object."""
    assert _sizes(_sites(joined, "appendgrow", "Build"))[64] == N


def test_an_inlined_allocation_is_its_callers(joined: Report) -> None:
    """wrap is inlined into main: its 48 B object is main's site, inlined from wrap."""
    sites = [s for s in _sites(joined, "", "main") if s.inlined_from is not None]
    assert [s.inlined_from.line for s in sites if s.inlined_from] == [WRAP]
    assert _sizes(sites) == Counter({48: N})
    assert not _sites(joined, "", "wrap") or all(
        s.observed is None for s in _sites(joined, "", "wrap")
    )


def test_sites_sharing_a_line_are_told_apart(joined: Report) -> None:
    by_size = {site.construct: _sizes([site]) for site in _sites(joined, "oneline", "Two", 8)}
    assert sorted(by_size.values(), key=lambda c: min(c)) == [Counter({16: N}), Counter({64: N})]
    shapes = [_sizes(_sites(joined, "", f"Box[go.shape.[{k}]int64]")) for k in (3, 5)]
    assert shapes == [Counter({24: N}), Counter({48: N})]
    same = _sites(joined, "", "Same", SAME)
    assert len(same) == 2
    assert [_sizes([s]) for s in same] == [Counter({24: N})] * 2
    assert all(s.observed is not None for s in same)
    # The program's call addresses tell them apart; from source only the split does.
    expected_shared = 1 if joined.origin == "binary" else 2
    assert [s.observed.shared for s in same if s.observed] == [expected_shared] * 2


def test_no_model_disagreement_and_the_profile_adds_up(joined: Report) -> None:
    profile = joined.profile
    assert profile is not None
    assert profile.rate == 1
    disagreements = [
        (s.function, s.pos.line, s.observed.disagreement)
        for s in joined.sites
        if s.observed is not None and s.observed.disagreement
    ]
    assert disagreements == []
    attributed = sum(s.observed.bytes for s in joined.sites if s.observed is not None)
    assert attributed == profile.attributed_bytes
    assert profile.attributed_bytes + sum(r.bytes for r in profile.unattributed) == profile.bytes
    assert profile.attributed_bytes >= 0.999 * profile.bytes
    for site in joined.sites:
        if site.observed is not None:
            assert site.observed.bytes == sum(s.bytes * s.objects for s in site.observed.sizes)


def test_old_toolchain_is_the_one_reported(joined: Report, go: Path) -> None:
    assert joined.toolchain.version == read_toolchain(go).version
