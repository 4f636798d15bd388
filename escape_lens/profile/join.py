"""The join: a heap profile's allocating locations become sites' observed counts and sizes.

Invariants:
- A group of samples (reader.Allocations) belongs to the sites at its allocating frame's
  position: the physical function's file (by name) and line must be the site's `pos`, its
  function the site's (package-qualified; the same shape instance when the profile names
  one, else any, since a profile may spell shape arguments `[...]`), and for an inlined
  allocation the innermost frame's file and line the site's `inlined_from`. Only
  allocating sites take samples.
- Where several sites share that position they are told apart, in this order, by the
  call's address (binary mode: the profile's location is the return address - 1 of one
  call instruction), by the recorded object size against each site's concrete
  prediction, and by the runtime function when the profile keeps it. What is still
  ambiguous is split evenly, and the sites say how many shared it (`Observed.shared`).
- A site with a concrete prediction keeps only the samples of a size it predicts: the
  others at its call are allocations the runtime made while serving it (a GC start, a
  goroutine's descriptor) and are reported unattributed. Only when none of its samples
  has a predicted size does the site take them all, flagged as a model disagreement: the
  runtime is right.
- Nothing else is estimated: values are the profile's. Samples that match no site are
  grouped by position with the reason (`UnattributedPosition.reason`); totals include
  them, so attributed + unattributed = the profile.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from escape_lens.profile.reader import Allocations, AllocPoint, Frame, HeapProfile
from escape_lens.profile.runtime_calls import describe_callee
from escape_lens.records import (
    Note,
    Observed,
    ObservedSize,
    Prediction,
    ProfileSummary,
    Report,
    Site,
    UnattributedPosition,
)
from escape_lens.vocab import NoteCode, ProfileSample

RUNTIME_INTERNAL = "runtime-internal: no frame outside the runtime"
OUTSIDE = "outside the analysed packages"
NO_SITE = "no allocation site at this position"
NOT_PREDICTED = "at a site's call, not of its predicted size: allocated by the runtime for it"
UNSYMBOLIZED = "unsymbolized location"
NO_SITE_OLD_GO = (
    f"{NO_SITE}; before Go 1.26 also a direct mallocgc call of a function called here "
    "(recorded one frame up)"
)

_ADDRESS_RE = re.compile(r"^\s*0x([0-9a-fA-F]+):")
_CALL_RE = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)\s*(?:\[[^\]]*\])?\(")
_MAX_CALL_BYTES = 16  # a call instruction is shorter on every architecture Go supports


@dataclass(slots=True)
class _Tally:
    """Per recorded size: objects, bytes, and how many sites shared them at most."""

    by_size: dict[int, list[int]] = field(default_factory=dict)

    def add(self, size: int, objects: int, nbytes: int, shared: int) -> None:
        entry = self.by_size.setdefault(size, [0, 0, 1])
        entry[0] += objects
        entry[1] += nbytes
        entry[2] = max(entry[2], shared)


def join_profile(
    report: Report,
    profile: HeapProfile,
    sample: ProfileSample,
    operations: int | None = None,
    callee: Callable[[int], str | None] | None = None,
) -> Report:
    """The report with each site's observed values and the report's profile summary.

    `callee(address)` names the function called at a profile location (from the program
    the profile is of, profile/callees.py), for the reasons of samples without a site.
    """
    index = _SiteIndex(report, callee)
    index.calibrate(profile.groups)
    tallies: dict[int, _Tally] = {}
    unattributed: dict[tuple[str, str, int, str], list[int]] = {}
    objects_total = bytes_total = 0
    for group in profile.groups:
        objects, nbytes = _values(group, sample)
        if objects == 0 and nbytes == 0:
            continue
        objects_total += objects
        bytes_total += nbytes
        targets, reason = index.sites_for(group.point, group.size)
        if not targets:
            _add_unattributed(unattributed, group.point, reason, objects, nbytes)
            continue
        for target, (part_objects, part_bytes) in zip(
            targets, _split(objects, nbytes, len(targets)), strict=True
        ):
            tallies.setdefault(target, _Tally()).add(
                group.size, part_objects, part_bytes, len(targets)
            )
    sites = list(report.sites)
    for position, tally in sorted(tallies.items()):
        observed, leftovers = _observe(sites[position], tally, operations, profile.rate)
        if observed is not None:
            site = sites[position]
            notes = site.notes
            if observed.disagreement:  # every output shows a site's notes
                text = f"the heap profile disagrees with the model: {observed.disagreement}"
                notes = (*notes, Note(NoteCode.PROFILE_DISAGREES, text))
            sites[position] = replace(site, observed=observed, notes=notes)
        for size, (objects, nbytes) in leftovers:
            point = _site_point(sites[position])
            _add_unattributed(unattributed, point, NOT_PREDICTED, objects, nbytes, size)
    unattributed_rows = tuple(
        UnattributedPosition(function, file, line, objects, nbytes, reason)
        for (function, file, line, reason), (objects, nbytes) in sorted(
            unattributed.items(), key=lambda item: (-item[1][1], -item[1][0], item[0])
        )
    )
    summary = ProfileSummary(
        files=profile.files,
        sample=sample,
        objects=objects_total,
        bytes=bytes_total,
        attributed_objects=objects_total - sum(row.objects for row in unattributed_rows),
        attributed_bytes=bytes_total - sum(row.bytes for row in unattributed_rows),
        unattributed=unattributed_rows,
        rate=profile.rate,
        operations=operations,
    )
    return replace(report, sites=tuple(sites), profile=summary)


def _values(group: Allocations, sample: ProfileSample) -> tuple[int, int]:
    if sample.startswith("alloc"):
        return group.alloc_objects, group.alloc_bytes
    return group.inuse_objects, group.inuse_bytes


def _split(objects: int, nbytes: int, parts: int) -> list[tuple[int, int]]:
    """Objects and bytes of one object size in `parts` even shares that add up to them
    (remainders to the first); bytes follow the objects, so each share keeps the size."""
    base, remainder = divmod(objects, parts)
    counts = [base + (1 if share < remainder else 0) for share in range(parts)]
    sizes = [nbytes * count // objects if objects else 0 for count in counts]
    sizes[0] += nbytes - sum(sizes)
    return list(zip(counts, sizes, strict=True))


def _add_unattributed(
    rows: dict[tuple[str, str, int, str], list[int]],
    point: AllocPoint,
    reason: str,
    objects: int,
    nbytes: int,
    size: int = 0,
) -> None:
    frame = point.frames[0] if point.frames else Frame(f"0x{point.address:x}", "", 0)
    if reason == NOT_PREDICTED:
        reason = f"{reason} ({size} B)"
    entry = rows.setdefault((frame.function, frame.file, frame.line, reason), [0, 0])
    entry[0] += objects
    entry[1] += nbytes


def _site_point(site: Site) -> AllocPoint:
    qualified = f"{site.package}.{site.function}"
    frames = [Frame(qualified, site.pos.file, site.pos.line)]
    if site.inlined_from is not None:
        frames.insert(0, Frame(qualified, site.inlined_from.file, site.inlined_from.line))
    return AllocPoint(0, tuple(frames))


def _observe(
    site: Site, tally: _Tally, operations: int | None, rate: int
) -> tuple[Observed | None, list[tuple[int, tuple[int, int]]]]:
    """The site's observation, and the samples of sizes it cannot have allocated.

    Only a profile of every allocation (rate 1) can show that a site never allocated
    its predicted size; a sampled one may simply have missed a small object.
    """
    expected = expected_sizes(site)
    by_size = sorted((size, (v[0], v[1])) for size, v in tally.by_size.items())
    shared = {size: v[2] for size, v in tally.by_size.items()}
    kept, leftovers = by_size, []
    disagreement = ""
    if expected is not None:
        matching = [item for item in by_size if item[0] in expected]
        if matching or rate != 1:
            kept = matching
            leftovers = [item for item in by_size if item[0] not in expected]
        else:
            recorded = ", ".join(f"{size} B" for size, _ in by_size)
            predicted = ", ".join(f"{size} B" for size in sorted(expected))
            disagreement = f"the runtime recorded {recorded}; the model predicts {predicted}"
    if not kept:
        return None, leftovers
    objects = sum(v[0] for _, v in kept)
    nbytes = sum(v[1] for _, v in kept)
    observed = Observed(
        objects=objects,
        bytes=nbytes,
        sizes=tuple(ObservedSize(size, v[0]) for size, v in kept),
        per_op_objects=objects / operations if operations else None,
        per_op_bytes=nbytes / operations if operations else None,
        disagreement=disagreement,
        shared=max(shared[size] for size, _ in kept),
    )
    return observed, leftovers


def expected_sizes(site: Site) -> frozenset[int] | None:
    """The object sizes the runtime records for the site, or None when it depends on
    run-time values (a dynamic prediction, or none). A channel whose buffer length is
    not constant is predicted as its header alone, the least it allocates: the runtime
    records header and buffer as one object, so its size is not known either."""
    if any(note.code is NoteCode.CHAN_BUFFER_DYNAMIC for note in site.notes):
        return None
    predictions: Iterable[Prediction | None] = (site.prediction, *site.extra)
    sizes = set()
    for prediction in predictions:
        if prediction is None or prediction.path in ("dynamic", "none"):
            return None
        sizes.add(prediction.class_bytes)
    return frozenset(sizes)


def erase_shapes(name: str) -> str:
    """`pkg.Stack[go.shape.int].Push` and `pkg.Stack[...].Push` alike: `pkg.Stack[].Push`."""
    out: list[str] = []
    depth = 0
    for char in name:
        if char == "[":
            if depth == 0:
                out.append("[")
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                out.append("]")
        elif depth == 0:
            out.append(char)
    return "".join(out)


class _SiteIndex:
    """Allocating sites by the file name and line of the function they are in."""

    def __init__(self, report: Report, callee: Callable[[int], str | None] | None) -> None:
        self.sites = report.sites
        self.callee = callee
        self.by_position: dict[tuple[str, int], list[int]] = {}
        for position, site in enumerate(report.sites):
            if site.allocates:
                key = (os.path.basename(site.pos.file), site.pos.line)
                self.by_position.setdefault(key, []).append(position)
        self.packages = tuple(sorted({*report.packages, *(s.package for s in report.sites)}))
        # Go 1.21-1.25 record a direct mallocgc call at its caller's call (mprof.go skips
        # a fixed number of frames, one too many without a runtime wrapper in between).
        self.skips_direct_callers = report.toolchain.version.minor_version < (1, 26)
        self.direct: dict[str, list[int]] = {}
        for position, site in enumerate(report.sites):
            if site.allocates and site.entry == "mallocgc":
                self.direct.setdefault(_short_name(site.function), []).append(position)
        self.lines: dict[str, list[str] | None] = {}
        binary = report.origin == "binary"
        self.addresses = {
            position: _call_address(site) if binary else None
            for positions in self.by_position.values()
            for position in positions
            for site in (report.sites[position],)
        }
        self.strict = False  # the profile is of this very program: addresses decide

    def calibrate(self, groups: Sequence[Allocations]) -> None:
        """Trust call addresses when most located samples fall right after a site's call
        (a profile of this very binary), so that other calls at a site's line (a map
        assignment growing the map beside a literal) are not taken for the site."""
        located = matched = 0
        for group in groups:
            candidates = self._at_position(group.point)
            addresses = [self.addresses.get(p) for p in candidates]
            if not any(a is not None for a in addresses):
                continue
            located += 1
            matched += any(_after_call(a, group.point.address) for a in addresses)
        self.strict = located > 0 and 2 * matched >= located

    def sites_for(self, point: AllocPoint, size: int) -> tuple[list[int], str]:
        if point.runtime_only:
            return [], RUNTIME_INTERNAL
        if not point.frames:
            return [], UNSYMBOLIZED
        candidates = self._at_position(point)
        if self.strict and candidates:
            candidates = [
                p for p in candidates if _after_call(self.addresses.get(p), point.address)
            ]
        if not candidates:
            return self._without_site(point, size)
        if len(candidates) > 1:
            candidates = self._narrow(candidates, point, size)
        return candidates, ""

    def _at_position(self, point: AllocPoint) -> list[int]:
        if not point.frames:
            return []
        outer, inner = point.frames[-1], point.frames[0]
        here = [
            (_function_match(self.sites[position], outer.function), position)
            for position in self.by_position.get((os.path.basename(outer.file), outer.line), ())
            if _same_inlining(self.sites[position], point.frames, inner)
        ]
        # Two commands' main.go at one line (`cmd/a`, `cmd/b`: both `main.main`): the
        # site whose file the frame's path ends with, when one does.
        here = [
            (level, position)
            for level, position in here
            if _may_be_file(outer.file, self.sites[position].pos.file)
        ]
        best = max((level for level, _ in here), default=0)
        return [position for level, position in here if level == best > 0]

    def _without_site(self, point: AllocPoint, size: int) -> tuple[list[int], str]:
        called = self.callee(point.address) if self.callee is not None else None
        if self.skips_direct_callers:
            found = self._direct_callee(point.frames[0], size, called)
            if found is not None:
                return [found], ""
        outer = point.frames[-1]
        if not self._analysed(outer.function):
            reason = OUTSIDE
        elif self.skips_direct_callers and called is None:
            reason = NO_SITE_OLD_GO
        else:
            reason = NO_SITE
        return [], f"{reason} ({describe_callee(called)})" if called else reason

    def _direct_callee(self, call: Frame, size: int, called: str | None) -> int | None:
        """The one direct-mallocgc site, of the function called at `call` (named by the
        program, else by the source line read from disk), that can have recorded `size`
        (Go 1.21-1.25)."""
        if not self.direct:
            return None
        if called is not None:
            names = {_short_name(called)}
        else:
            names = set(_CALL_RE.findall(self._source_line(call.file, call.line)))
        found = [
            position
            for name in sorted(names & self.direct.keys())
            for position in self.direct[name]
            if size in (expected_sizes(self.sites[position]) or (size,))
            and (called is None or called.endswith("." + self.sites[position].function))
        ]
        return found[0] if len(found) == 1 else None

    def _source_line(self, path: str, line: int) -> str:
        if path not in self.lines:
            try:
                with open(path, encoding="utf-8", errors="replace") as stream:
                    self.lines[path] = stream.read().splitlines() if path.endswith(".go") else None
            except OSError:
                self.lines[path] = None
        lines = self.lines[path]
        return lines[line - 1] if lines is not None and 0 < line <= len(lines) else ""

    def _narrow(self, candidates: list[int], point: AllocPoint, size: int) -> list[int]:
        by_address = [p for p in candidates if _after_call(self.addresses.get(p), point.address)]
        if len(by_address) == 1:
            return by_address
        sized = [p for p in candidates if size in (expected_sizes(self.sites[p]) or ())]
        if not sized:
            sized = [p for p in candidates if expected_sizes(self.sites[p]) is None] or candidates
        if len(sized) > 1 and point.runtime_function:
            entry = point.runtime_function.removeprefix("runtime.")
            called = [p for p in sized if self.sites[p].entry == entry]
            sized = called or sized
        return sized

    def _analysed(self, function: str) -> bool:
        return function.startswith("main.") or any(
            function.startswith(package + ".") for package in self.packages
        )


def _after_call(call: int | None, location: int) -> bool:
    """A location (return address - 1) right after the call instruction at `call`."""
    return call is not None and call < location < call + _MAX_CALL_BYTES


def _function_match(site: Site, profiled: str) -> int:
    """2: the same symbol; 1: the same once shape arguments are erased (a profile may
    spell them `[...]`); 0: another function."""
    if profiled in (f"{site.package}.{site.function}", f"main.{site.function}"):
        return 2
    wanted = erase_shapes(profiled)
    local = erase_shapes(site.function)
    return 1 if wanted in (f"{site.package}.{local}", f"main.{local}") else 0


def _may_be_file(path: str, file: str) -> bool:
    """Whether a profile frame's `path` (absolute, as the build saw it) may be a site's
    `file` (relative to its report's root, or absolute): the same base name, and when
    the file names directories, they end the path too. (A build with -trimpath or in
    another checkout records other directories: a bare base name stays a match.)"""
    if os.path.basename(path) != os.path.basename(file):
        return False
    if "/" not in file or not path.startswith("/"):
        return True
    return path == file or path.endswith("/" + file.lstrip("./"))


def _same_inlining(site: Site, frames: Sequence[Frame], inner: Frame) -> bool:
    if site.inlined_from is None:
        return len(frames) == 1
    return (
        len(frames) > 1
        and inner.line == site.inlined_from.line
        and os.path.basename(inner.file) == os.path.basename(site.inlined_from.file)
    )


def _short_name(function: str) -> str:
    """`(*Buffer).Chunk` -> `Chunk`, `NewStack[go.shape.int]` -> `NewStack`."""
    return erase_shapes(function).rpartition(".")[2].removesuffix("[]")


def _call_address(site: Site) -> int | None:
    """The address of a binary-mode site's call instruction (its last listed line)."""
    if site.call is None or not site.call.asm:
        return None
    match = _ADDRESS_RE.match(site.call.asm[-1])
    return int(match.group(1), 16) if match else None
