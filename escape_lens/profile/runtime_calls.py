"""What a call into a runtime function allocates, for the reasons of profile samples
without a site (docs/profiles.md, "Allocations without a static site")."""

from __future__ import annotations

# What a call into these runtime functions allocates when it allocates at all.
_KNOWN = (
    (("runtime.mapassign", "internal/runtime/maps."), "a map assignment growing the map"),
    (("runtime.growslice",), "an append growing a slice"),
    (
        ("runtime.chansend", "runtime.chanrecv", "runtime.selectgo", "runtime.semacquire"),
        "the runtime's waiting record (sudog) of a blocking channel or sync operation",
    ),
    (("runtime.newproc",), "a new goroutine's descriptor"),
    (("runtime.GC", "runtime.gcStart"), "the garbage collector's own work"),
    (("reflect.",), "reflection"),
)


def describe_callee(name: str) -> str:
    for prefixes, what in _KNOWN:
        if name.startswith(prefixes):
            return f"a call to {name}: {what}"
    return f"a call to {name}"
