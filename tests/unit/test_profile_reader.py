"""The heap-profile reader on profiles written here with the full pprof messages: the
paths Go's own profiles rarely take (short unpacked stacks, sampled sizes from labels,
runtime-only stacks, several files) and the errors."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from escape_lens.errors import ProfileFormatError
from escape_lens.profile import pprof_pb2, reader
from escape_lens.profile.reader import read_profiles

STRINGS = [
    "",
    "alloc_objects",
    "count",
    "alloc_space",
    "bytes",
    "inuse_objects",
    "inuse_space",
    "main.f",
    "main.go",
    "runtime.mallocgc",
    "malloc.go",
]


def _profile(period: int, samples: list[tuple[list[int], list[int], int]]) -> bytes:
    profile = pprof_pb2.Profile()
    profile.string_table.extend(STRINGS)
    for name, unit in ((1, 2), (3, 4), (5, 2), (6, 4)):
        profile.sample_type.add(type=name, unit=unit)
    profile.period = period
    profile.function.add(id=1, name=7, filename=8)
    profile.function.add(id=2, name=9, filename=10)
    profile.location.add(id=1, address=0x1000).line.add(function_id=1, line=10)
    profile.location.add(id=2, address=0x2000).line.add(function_id=1, line=20)
    profile.location.add(id=200, address=0x3000).line.add(function_id=2, line=5)
    for ids, values, size in samples:
        sample = profile.sample.add(location_id=ids, value=values)
        sample.label.add(key=4, num=size)
    return profile.SerializeToString()


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _groups(paths: list[str]) -> dict[tuple[int, str, int], list[int]]:
    profile = read_profiles(paths)
    return {
        (g.point.frames[0].line, g.point.runtime_function, g.size): [
            g.alloc_objects,
            g.alloc_bytes,
            g.inuse_objects,
            g.inuse_bytes,
        ]
        for g in profile.groups
    }


def test_short_and_long_stacks_add_up_per_location_and_size(tmp_path: Path) -> None:
    # One frame (unpacked on the wire), three frames (packed), and a stack starting in
    # the runtime (location 200, an id past 127: two bytes packed).
    data = _profile(
        1,
        [
            ([1], [2, 32, 1, 16], 16),
            ([1, 2, 2], [3, 48, 0, 0], 16),
            ([200, 2, 1], [1, 64, 1, 64], 64),
            ([1], [1, 48, 1, 48], 48),
        ],
    )
    path = _write(tmp_path, "a.pprof", gzip.compress(data))
    assert _groups([path]) == {
        (10, "", 16): [5, 80, 1, 16],
        (10, "", 48): [1, 48, 1, 48],
        (20, "runtime.mallocgc", 64): [1, 64, 1, 64],
    }
    # The same bytes ungzipped read the same; two files add up.
    raw = _write(tmp_path, "b.pprof", data)
    assert _groups([raw, path])[(10, "", 16)] == [10, 160, 2, 32]
    assert read_profiles([raw]).rate == 1


def test_sampled_sizes_come_from_the_label(tmp_path: Path) -> None:
    # Scaled values (rate 512 KiB): 13 objects of 40960 B do not divide back to 40960.
    path = _write(tmp_path, "s.pprof", _profile(524288, [([1, 2, 2], [13, 545000, 0, 0], 40960)]))
    profile = read_profiles([path])
    assert profile.rate == 524288
    assert [(g.size, g.alloc_objects, g.alloc_bytes) for g in profile.groups] == [
        (40960, 13, 545000)
    ]


def test_a_stack_all_in_the_runtime_is_runtime_only(tmp_path: Path) -> None:
    path = _write(tmp_path, "r.pprof", _profile(1, [([200, 200, 200], [1, 16, 0, 0], 16)]))
    (group,) = read_profiles([path]).groups
    assert group.point.runtime_only
    assert group.point.frames[0].function == "runtime.mallocgc"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.sample.add(location_id=[9, 2, 1], value=[1, 1, 1, 1]), "names no location"),
        (lambda p: p.sample.add(location_id=[1, 2, 1], value=[1, 1]), "has 2 values"),
        (lambda p: p.location.add(id=9).line.add(function_id=99), "names no function"),
        (lambda p: p.sample_type.add(type=99), "string index 99 out of range"),
    ],
)
def test_corrupt_profiles(tmp_path: Path, mutate: object, message: str) -> None:
    profile = pprof_pb2.Profile()
    profile.ParseFromString(_profile(1, [([1, 2, 2], [1, 16, 0, 0], 16)]))
    mutate(profile)  # type: ignore[operator]
    path = _write(tmp_path, "c.pprof", profile.SerializeToString())
    with pytest.raises(ProfileFormatError, match=message):
        read_profiles([path])


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    """A profile the user names is read like a report (escape_lens/inputs.py): a FIFO
    with no writer, a directory or a device is refused at once, with what it is."""
    fifo = tmp_path / "fifo.pprof"
    os.mkfifo(fifo)
    for path, what in ((fifo, "is a FIFO"), (tmp_path, "is a directory"), ("/dev/zero", "device")):
        with pytest.raises(ProfileFormatError, match=what):
            read_profiles([str(path)])


def test_gzip_expansion_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A gzip member expanding past the bound is refused, not expanded; several members
    (as `cat a.gz b.gz` writes) are read whole."""
    data = _profile(1, [([1], [1, 16, 0, 0], 16)])
    two = _write(tmp_path, "two.pprof", gzip.compress(data[:20]) + gzip.compress(data[20:]))
    assert _groups([two]) == {(10, "", 16): [1, 16, 0, 0]}
    with pytest.raises(ProfileFormatError, match="truncated gzip"):
        read_profiles([_write(tmp_path, "cut.pprof", gzip.compress(data)[:-9])])
    monkeypatch.setattr(reader, "MAX_PROFILE_BYTES", len(data) - 1)
    bomb = _write(tmp_path, "bomb.pprof", gzip.compress(data))
    with pytest.raises(ProfileFormatError, match=f"expands past {len(data) - 1} bytes"):
        read_profiles([bomb])
