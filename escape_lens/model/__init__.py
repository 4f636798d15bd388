"""The allocator model: what the Go runtime does with one heap allocation, per Go version.

`rules_for` turns a Go version and its GOEXPERIMENT setting into `AllocRules`; `predict`
applies them to one request (docs/allocator.md §2-7); the construct helpers say which
requests a construct makes (docs/allocator.md §8-11). The size-class tables are generated
(`_tables.py`).
"""

from escape_lens.model.constructs import (
    chan_objects,
    class_of_specialized_entry,
    first_insert_objects,
    growslice_request,
    hchan_size,
    map_objects,
    next_slice_cap,
    specialized_entry,
)
from escape_lens.model.rules import AllocRules, rules_for
from escape_lens.model.sizeclass import predict, predict_dynamic, roundupsize

__all__ = [
    "AllocRules",
    "chan_objects",
    "class_of_specialized_entry",
    "first_insert_objects",
    "growslice_request",
    "hchan_size",
    "map_objects",
    "next_slice_cap",
    "predict",
    "predict_dynamic",
    "roundupsize",
    "rules_for",
    "specialized_entry",
]
