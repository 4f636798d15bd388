"""Heap profiles joined to allocation sites: what really allocates, how often, how much.

`reader` reads Go heap profiles (pprof protobuf, via the generated `pprof_pb2`);
`join` matches their allocating frames to the sites of a report; `bench` runs a
package's benchmarks with every allocation recorded. The analysis orchestration
(`escape_lens.cli.analyze`, `escape_lens.check`) calls `attach_profiles`; reporters only
read `Site.observed` and `Report.profile`. docs/profiles.md is the user's account.
"""

from __future__ import annotations

from collections.abc import Sequence

from escape_lens.records import ProfileSample, Report

SAMPLES: tuple[ProfileSample, ...] = (
    "alloc_space",
    "alloc_objects",
    "inuse_space",
    "inuse_objects",
)
DEFAULT_SAMPLE: ProfileSample = "alloc_space"


def attach_profiles(
    report: Report,
    paths: Sequence[str],
    sample: ProfileSample = DEFAULT_SAMPLE,
    operations: int | None = None,
) -> Report:
    """`report` with the heap profiles in `paths` joined to its sites."""
    from escape_lens.profile.join import join_profile
    from escape_lens.profile.reader import read_profiles

    return join_profile(report, read_profiles(paths), sample, operations)
