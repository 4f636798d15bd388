"""Predictions in words: one short line a Go programmer learns from."""

from __future__ import annotations

from escape_lens.model.rules import AllocRules
from escape_lens.model.sizeclass import HEADERLESS_MAX, TINY_SIZE, tiny_share
from escape_lens.records import Prediction
from escape_lens.vocab import AllocPath


def _pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def _span(p: Prediction) -> str:
    return f"{p.span_pages}-page span holds {p.objects_per_span}"


def explain(p: Prediction, pointers: bool, rules: AllocRules) -> str:
    """E.g. "33 B, no pointers → small path, size class 5 (48 B), 15 B (31%) wasted ..."."""
    size = p.requested_bytes
    kind = "pointers" if pointers else "no pointers"
    if p.path == AllocPath.NONE:
        return f"0 B, {kind} → no allocation: mallocgc returns &runtime.zerobase"
    if p.path == AllocPath.TINY:
        share = tiny_share(size)
        sharing = (
            f"{share} such objects share a block, {TINY_SIZE / share:.3g} B each"
            if share > 1
            else "each takes a whole block"
        )
        return (
            f"{size} B, {kind} → tiny path: packed into a shared {TINY_SIZE}-byte block "
            f"(size class {p.size_class}, span class {p.span_class}); {sharing}, "
            f"~{p.waste_bytes} B wasted per object in a loop of this size, {_span(p)} blocks"
        )
    scan = "noscan" if p.span_class & 1 else "scan"
    if p.path == AllocPath.LARGE:
        limit = (
            f" (over the {rules.max_small_size}-byte small-object limit)" if size <= 32768 else ""
        )
        return (
            f"{size} B, {kind} → large path{limit}: its own {p.span_pages}-page span "
            f"({p.class_bytes} B), {p.waste_bytes} B ({_pct(p.waste_bytes, p.class_bytes)}) "
            f"wasted, span class {p.span_class} ({scan}, size class 0)"
        )
    header = ""
    if p.header_bytes:
        header = (
            f" with an {p.header_bytes}-byte malloc header (pointerful, over {HEADERLESS_MAX} B)"
        )
    of_it = f", {p.header_bytes} B of it the header" if p.header_bytes else ""
    return (
        f"{size} B, {kind} → small path{header}, size class {p.size_class} "
        f"({p.class_bytes} B), {p.waste_bytes} B ({_pct(p.waste_bytes, p.class_bytes)}) "
        f"wasted per object{of_it}, span class {p.span_class} ({scan}), {_span(p)}"
    )
