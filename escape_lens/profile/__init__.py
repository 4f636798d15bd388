"""Heap profiles joined to allocation sites: what really allocates, how often, how much.

`reader` reads Go heap profiles (pprof protobuf, via the generated `pprof_pb2`);
`join` matches their allocating frames to the sites of a report; `bench` runs a
package's benchmarks with every allocation recorded; `callees` names the runtime
function a program called where no site is. The CLI and the gate (gate/profile_hot.py)
call them; reporters only read `Site.observed` and `Report.profile` (and `unrecorded`).
docs/profiles.md is the user's account.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from escape_lens.vocab import ProfileSample

if TYPE_CHECKING:
    from escape_lens.records import Report

DEFAULT_SAMPLE = ProfileSample.ALLOC_SPACE


def attach_profiles(
    report: Report,
    paths: Sequence[str],
    sample: ProfileSample = DEFAULT_SAMPLE,
    operations: int | None = None,
) -> Report:
    """`report` with the heap profiles in `paths` joined to its sites."""
    # Imported here: protobuf takes ~50 ms to load, and every report that merely names
    # the unrecorded allocations (escape_lens.profile.unrecorded) would pay it.
    from escape_lens.profile.join import join_profile
    from escape_lens.profile.reader import read_profiles

    return join_profile(report, read_profiles(paths), sample, operations)
