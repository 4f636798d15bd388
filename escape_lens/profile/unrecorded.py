"""What a Go heap profile never records, from the runtime's sources; every output that
shows observed counts states it (docs/profiles.md, "What the runtime does not record")."""

from __future__ import annotations

UNRECORDED: tuple[str, ...] = (
    "a tiny allocation (no pointers, under 16 B) packed into an already open 16-byte block "
    "is not recorded; the one that opens a block is recorded as one 16 B object "
    "(runtime/malloc.go, tiny allocator)",
    "zero-size allocations allocate nothing (runtime.zerobase) and are not recorded",
    "allocations after the last completed GC cycle are not in the profile yet "
    "(runtime/mprof.go); go test -memprofile and /debug/pprof/heap?gc=1 run a GC first",
    "allocations made while a thread (M) is being set up, before it has a profiling stack, "
    "are dropped (runtime/mprof.go, mProf_Malloc)",
    "at a sampling rate above 1 (default 512 KiB) only sampled allocations are recorded and "
    "the values are the runtime's estimates (runtime/pprof/protomem.go, scaleHeapSample)",
    "memory that is not a heap object (goroutine stacks, the runtime's own off-heap "
    "structures) is never in a heap profile",
)
