"""Which allocator rules a Go version (and its GOEXPERIMENT setting) runs with.

The size-class table itself never changed between go1.21 and go1.27 (docs/allocator.md
§3); everything that did change is a flag here, decided once from the version and the
experiments (docs/allocator.md §1), so the model code never compares versions itself.

Experiments only count where the version has them: `noallocheaders` only on 1.22,
`greenteagc` from 1.25, `sizespecializedmalloc` from 1.26, `noswissmap` on 1.24-1.25.
A modifier the version does not know is ignored and said so in `AllocRules.note`.
Versions newer than the newest known one get the newest rules, with a note. Notes are
plain strings (never `warnings.warn`) so the CLI prints them once, on stderr.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from escape_lens.records import GoVersion

NEWEST_KNOWN = GoVersion(1, 27, 3)
OLDEST_KNOWN = GoVersion(1, 21, 0)

MALLOC_HEADER_BYTES = 8

# experiment (without "no") -> the (first, last) minor versions where GOEXPERIMENT can set
# it; None = still settable in the newest known version.
_SETTABLE: dict[str, tuple[int, int | None]] = {
    "allocheaders": (22, 22),
    "swissmap": (24, 25),
    "greenteagc": (25, None),
    "sizespecializedmalloc": (26, None),
}


@dataclass(frozen=True, slots=True)
class AllocRules:
    """The allocator behaviour of one Go version with its experiments applied.

    version: the version asked for (unknown newer versions keep their number).
    goexperiment: the GOEXPERIMENT modifiers given, as given (normalised to lower case).
    alloc_headers: 8-byte malloc header for pointerful objects > 512 B, small limit 32760,
        pointer bitmap at the end of scan spans of objects <= 512 B (1.22+).
    green_tea: Green Tea GC's 128-byte inline mark bits in spans of 16..512-byte objects.
    size_specialized: the compiler calls mallocgc*SC* entries for new(T) of small sizes.
    specialized_max: the largest size those entries cover (1.26: 512, 1.27: 80).
    swiss_maps: maps are Swiss tables (internal/runtime/maps), not hmap buckets.
    map_load_factor: classic maps' average bucket load that `makemap` sizes for.
    hchan_bytes: unsafe.Sizeof(hchan{}) rounded to 8, the channel header.
    note: why these rules may not be exact for the version asked for ("" when they are).
    """

    version: GoVersion
    goexperiment: tuple[str, ...] = ()
    alloc_headers: bool = True
    green_tea: bool = True
    size_specialized: bool = True
    specialized_max: int = 80
    swiss_maps: bool = True
    map_load_factor: float = 6.5
    hchan_bytes: int = 112
    note: str = ""

    @property
    def header_bytes(self) -> int:
        """Bytes of the malloc header a pointerful object over 512 B carries."""
        return MALLOC_HEADER_BYTES if self.alloc_headers else 0

    @property
    def max_small_size(self) -> int:
        """The largest request that is still a small object (for every object, 1.22+)."""
        return 32768 - self.header_bytes

    @property
    def span_bitmap(self) -> bool:
        """Whether scan spans of objects <= 512 B keep their pointer bitmap in the span."""
        return self.alloc_headers


def _experiments(goexperiment: Sequence[str]) -> dict[str, bool]:
    """GOEXPERIMENT items -> {name: enabled}; later items win, as in Go."""
    settings: dict[str, bool] = {}
    for item in goexperiment:
        for raw in item.split(","):
            name = raw.strip().lower()
            if not name or name in ("none", "off"):
                continue
            enabled = not name.startswith("no")
            settings[name.removeprefix("no") if not enabled else name] = enabled
    return settings


def rules_for(version: GoVersion, goexperiment: Sequence[str] = ()) -> AllocRules:
    """The rules of `version` (patch releases share them) with GOEXPERIMENT applied."""
    notes: list[str] = []
    minor = version.minor if version.major == 1 else 99
    if version.minor_version > NEWEST_KNOWN.minor_version:
        notes.append(
            f"{version} is newer than the newest version the model knows "
            f"(go{NEWEST_KNOWN.major}.{NEWEST_KNOWN.minor}); using its rules"
        )
        minor = NEWEST_KNOWN.minor
    elif version < OLDEST_KNOWN:
        notes.append(f"{version} is older than go1.21; using the go1.21 rules")
        minor = OLDEST_KNOWN.minor

    settings = _experiments(goexperiment)
    for name, enabled in sorted(settings.items()):
        span = _SETTABLE.get(name)
        if span is None:
            continue  # experiments that do not change allocation sizes
        first, last = span
        if minor < first or (last is not None and minor > last):
            spelled = name if enabled else f"no{name}"
            notes.append(f"GOEXPERIMENT={spelled} does not exist in go1.{minor}; ignored")
            del settings[name]

    def setting(name: str, default: bool) -> bool:
        return settings.get(name, default)

    specialized = minor >= 26 and setting("sizespecializedmalloc", minor >= 27)
    return AllocRules(
        version=version,
        goexperiment=tuple(
            raw.strip().lower() for item in goexperiment for raw in item.split(",") if raw.strip()
        ),
        alloc_headers=minor >= 23 or (minor == 22 and setting("allocheaders", True)),
        green_tea=minor >= 25 and setting("greenteagc", minor >= 26),
        size_specialized=specialized,
        specialized_max=(512 if minor == 26 else 80) if specialized else 0,
        swiss_maps=minor >= 26 or (minor >= 24 and setting("swissmap", True)),
        map_load_factor=6.0 if minor == 21 else 6.5,
        hchan_bytes=96 if minor <= 22 else 104 if minor <= 24 else 112,
        note="; ".join(notes),
    )
