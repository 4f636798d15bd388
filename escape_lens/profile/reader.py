"""Read Go heap profiles (pprof protobuf, gzipped or not) into allocating locations.

Invariants:
- Parsing is the `protobuf` package's, with the message definitions of `pprof.proto`
  (only the fields read here); anything it rejects, anything truncated, a profile that is
  not a heap profile (its sample types are not Go's four `alloc_*`/`inuse_*`) or that
  refers to locations, functions or strings it does not hold is a ProfileFormatError:
  one line, exit 2.
- Go's writer (runtime/pprof/protomem.go) drops the runtime frames above the first
  non-runtime one, so a sample's first location is normally the *allocating frame*: the
  code that called the runtime's allocation entry. Runtime frames are skipped here too,
  for profiles written by other tools; a runtime frame just below the allocating frame,
  when present, is kept as the allocating runtime function.
- Samples are aggregated by (allocating location, recorded object size, runtime
  function): that is all the join needs, and it makes the join's cost proportional to
  distinct allocation points, not to samples. The object size is the sample's `bytes`
  label (the size the runtime recorded), else its bytes divided by its objects.
- Values are the profile's, already scaled by the runtime for sampling (exact at
  memprofilerate=1); several profiles add up.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from escape_lens.errors import ProfileFormatError
from escape_lens.inputs import MAX_PROFILE_BYTES, read_regular
from escape_lens.profile import pprof_pb2
from escape_lens.vocab import counted

HEAP_SAMPLE_TYPES = ("alloc_objects", "alloc_space", "inuse_objects", "inuse_space")
_RUNTIME_PREFIXES = ("runtime.", "internal/runtime/")


@dataclass(frozen=True, slots=True, order=True)
class Frame:
    function: str
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class AllocPoint:
    """One allocating location: its frames (innermost inlined call first, the physical
    function last), its address, and the runtime function it called when known."""

    address: int
    frames: tuple[Frame, ...]
    runtime_function: str = ""
    runtime_only: bool = False  # no frame outside the runtime: a runtime-internal allocation


@dataclass(frozen=True, slots=True)
class Allocations:
    """alloc_* and inuse_* values of one (point, recorded size) group."""

    point: AllocPoint
    size: int
    alloc_objects: int
    alloc_bytes: int
    inuse_objects: int
    inuse_bytes: int


@dataclass(frozen=True, slots=True)
class HeapProfile:
    files: tuple[str, ...]
    rate: int  # the profile's period (MemProfileRate); 0 when the files differ
    groups: tuple[Allocations, ...]


def read_profiles(paths: Sequence[str]) -> HeapProfile:
    """The heap profiles in `paths`, added up."""
    totals: dict[tuple[AllocPoint, int], list[int]] = {}
    rates: set[int] = set()
    for path in paths:
        profile = _parse(path)
        rates.add(int(profile.period))
        _accumulate(path, profile, totals)
    groups = tuple(
        Allocations(point, size, *values)
        for (point, size), values in sorted(totals.items(), key=_group_order)
    )
    return HeapProfile(tuple(paths), rates.pop() if len(rates) == 1 else 0, groups)


def _group_order(item: tuple[tuple[AllocPoint, int], list[int]]) -> tuple[object, ...]:
    (point, size), _ = item
    return (point.frames, point.address, point.runtime_function, size)


def _parse(path: str) -> pprof_pb2.SkimProfile:
    data = read_regular(path, limit=MAX_PROFILE_BYTES, what="profile", error=ProfileFormatError)
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(path, data)
    profile = pprof_pb2.SkimProfile()
    try:
        profile.ParseFromString(data)
    except DecodeError as exc:
        raise ProfileFormatError(f"{path}: not a pprof profile, or truncated ({exc})") from exc
    strings = profile.string_table
    if not strings or strings[0] != "":
        raise ProfileFormatError(f"{path}: not a pprof profile (no string table)")
    names = tuple(_string(path, strings, t.type) for t in profile.sample_type)
    if tuple(sorted(names)) != HEAP_SAMPLE_TYPES:
        shown = ", ".join(names) or "none"
        raise ProfileFormatError(f"{path}: not a Go heap profile (sample types: {shown})")
    return profile


def _gunzip(path: str, data: bytes) -> bytes:
    """Every gzip member of `data`, expanded to at most MAX_PROFILE_BYTES (a gzip bomb
    is refused, not expanded)."""
    parts: list[bytes] = []
    left = MAX_PROFILE_BYTES
    while data:
        stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            part = stream.decompress(data, left + 1)
        except zlib.error as exc:
            raise ProfileFormatError(f"{path}: corrupt or truncated gzip ({exc})") from exc
        left -= len(part)
        if left < 0:
            raise ProfileFormatError(f"{path}: expands past {MAX_PROFILE_BYTES} bytes")
        if not stream.eof:
            raise ProfileFormatError(f"{path}: corrupt or truncated gzip (no end of stream)")
        parts.append(part)
        data = stream.unused_data
    return b"".join(parts)


def _string(path: str, strings: Sequence[str], index: int) -> str:
    if not 0 <= index < len(strings):
        raise ProfileFormatError(f"{path}: corrupt profile (string index {index} out of range)")
    return strings[index]


def _accumulate(
    path: str, profile: pprof_pb2.SkimProfile, totals: dict[tuple[AllocPoint, int], list[int]]
) -> None:
    strings = list(profile.string_table)
    names = [_string(path, strings, t.type) for t in profile.sample_type]
    order = [names.index(name) for name in HEAP_SAMPLE_TYPES]
    functions = {
        f.id: (_string(path, strings, f.name), _string(path, strings, f.filename))
        for f in profile.function
    }
    frames: dict[int, tuple[int, tuple[Frame, ...]]] = {}
    for location in profile.location:
        lines = []
        for line in location.line:
            if line.function_id not in functions:
                raise ProfileFormatError(
                    f"{path}: corrupt profile (location {location.id} names no function)"
                )
            name, file = functions[line.function_id]
            lines.append(Frame(name, file, int(line.line)))
        frames[location.id] = (int(location.address), tuple(lines))
    in_runtime = {
        id_: bool(lines) and lines[-1].function.startswith(_RUNTIME_PREFIXES)
        for id_, (_, lines) in frames.items()
    }
    bytes_key = strings.index("bytes") if "bytes" in strings else -1
    runtime_ids = {id_ for id_, flag in in_runtime.items() if flag}
    # At rate 1 the runtime writes count and count * size (protomem.go, scaleHeapSample),
    # so the size needs no label; sampled values are scaled and need the label.
    exact = profile.period == 1
    # The hot loop of a large profile: samples counted by (allocating location, runtime
    # callee, their packed values, their labels) as the bytes they are; each distinct
    # key is decoded once afterwards. Samples that are not packed take the slow path.
    counts: dict[tuple[int, int, bytes, tuple[bytes, ...]], int] = {}
    slow: list[tuple[list[int], list[int], list[tuple[int, int]]]] = []
    for sample in profile.sample:
        packed = sample.location_id
        value = sample.value
        if not packed or not value:
            slow.append(_full_sample(path, sample))
            continue
        location = packed[0]
        if location >= 0x80:  # location ids past 127: two bytes, rarely more
            second = packed[1] if len(packed) > 1 else 0x80
            location = (location & 0x7F) | (second << 7) if second < 0x80 else -1
            if location < 0:
                location = _varints(path, packed)[0]
        callee = 0
        if location in runtime_ids:
            location, callee = _allocating(_varints(path, packed), runtime_ids)
        key = (location, callee, value, () if exact else tuple(sample.label))
        counts[key] = counts.get(key, 0) + 1
    sums: dict[tuple[int, int, int], list[int]] = {}
    rows = [
        (location, callee, _varints(path, value), _labels(path, label), count)
        for (location, callee, value, label), count in counts.items()
    ]
    for ids, values, labels in slow:
        if ids:
            location, callee = ids[0], 0
            if location in runtime_ids:
                location, callee = _allocating(ids, runtime_ids)
            rows.append((location, callee, values, labels, 1))
    for location, callee, values, labels, count in rows:
        if len(values) != len(names):
            raise ProfileFormatError(
                f"{path}: corrupt profile (a sample has {counted(len(values), 'value')})"
            )
        objects, space = values[order[0]], values[order[1]]
        size = next((num for key, num in labels if key == bytes_key), 0)
        if (exact or size == 0) and objects:
            size = space // objects
        total = sums.setdefault((location, callee, size), [0, 0, 0, 0])
        for index, column in enumerate(order):
            total[index] += count * values[column]
    points: dict[tuple[int, int], AllocPoint] = {}
    for (location, callee, size), values in sums.items():
        point = points.get((location, callee))
        if point is None:
            point = points[(location, callee)] = _point(
                path, frames, abs(location), callee, runtime_only=location < 0
            )
        total = totals.setdefault((point, size), [0, 0, 0, 0])
        for index, value in enumerate(values):
            total[index] += value


def _allocating(ids: list[int], runtime_ids: set[int]) -> tuple[int, int]:
    """(allocating location, the runtime location it called) of a stack that starts in
    the runtime; a stack entirely in the runtime gives (-its first location, 0)."""
    for index, id_ in enumerate(ids):
        if id_ not in runtime_ids:
            return id_, ids[index - 1]
    return -ids[0], 0


def _varints(path: str, packed: bytes) -> list[int]:
    """A packed repeated varint field, decoded (int64 values are never negative here)."""
    values: list[int] = []
    value = shift = 0
    for byte in packed:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            if shift > 63:
                raise ProfileFormatError(f"{path}: corrupt profile (a varint overflows)")
        else:
            values.append(value)
            value = shift = 0
    if shift:
        raise ProfileFormatError(f"{path}: corrupt profile (a truncated varint)")
    return values


def _labels(path: str, raws: Sequence[bytes]) -> list[tuple[int, int]]:
    labels = []
    for raw in raws:
        label = pprof_pb2.Label()
        try:
            label.ParseFromString(raw)
        except DecodeError as exc:
            raise ProfileFormatError(f"{path}: corrupt profile ({exc})") from exc
        labels.append((int(label.key), int(label.num)))
    return labels


def _full_sample(
    path: str, sample: pprof_pb2.SkimSample
) -> tuple[list[int], list[int], list[tuple[int, int]]]:
    """A sample whose stack or values are not packed (see pprof.proto, SkimSample)."""
    full = pprof_pb2.Sample()
    try:
        full.ParseFromString(sample.SerializeToString())
    except DecodeError as exc:
        raise ProfileFormatError(f"{path}: corrupt profile ({exc})") from exc
    labels = [(int(label.key), int(label.num)) for label in full.label]
    return list(full.location_id), list(full.value), labels


def _point(
    path: str,
    frames: dict[int, tuple[int, tuple[Frame, ...]]],
    location: int,
    callee: int,
    *,
    runtime_only: bool,
) -> AllocPoint:
    if location not in frames or (callee and callee not in frames):
        raise ProfileFormatError(f"{path}: corrupt profile (a sample names no location)")
    address, lines = frames[location]
    runtime_function = frames[callee][1][-1].function if callee and frames[callee][1] else ""
    return AllocPoint(address, lines, runtime_function, runtime_only)
