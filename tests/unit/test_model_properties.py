"""Invariants of the allocator model, for every version and experiment, by hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from escape_lens.model import (
    growslice_request,
    next_slice_cap,
    predict,
    predict_dynamic,
    roundupsize,
    rules_for,
)
from escape_lens.model.rules import AllocRules
from escape_lens.records import GoVersion

CONFIGS = [
    rules_for(GoVersion(1, minor), experiments)
    for minor in range(21, 28)
    for experiments in [(), ("noallocheaders",), ("greenteagc",), ("nogreenteagc",)]
] + [rules_for(GoVersion(1, 26), ("sizespecializedmalloc",)), rules_for(GoVersion(1, 40))]

rules_st = st.sampled_from(CONFIGS)
sizes = st.one_of(
    st.integers(min_value=1, max_value=40_000),
    st.integers(min_value=1, max_value=1 << 30),
)
PAGE = 8192


@settings(max_examples=400)
@given(sizes, st.booleans(), rules_st)
def test_prediction_invariants(size: int, pointers: bool, rules: AllocRules) -> None:
    p = predict(size, pointers, rules)
    assert p.requested_bytes == size
    assert p.class_bytes >= size
    assert 0 <= p.waste_bytes < p.class_bytes
    assert p.span_class & 1 == (not pointers)
    assert p.span_class >> 1 == p.size_class
    assert p.objects_per_span * p.class_bytes <= p.span_pages * PAGE
    assert p.objects_per_span >= 1
    if p.path == "small":
        assert p.class_bytes - p.header_bytes >= size
        assert p.waste_bytes == p.class_bytes - size
        assert size <= rules.max_small_size
    if p.path == "large":
        assert size > rules.max_small_size
        assert (p.size_class, p.objects_per_span, p.header_bytes) == (0, 1, 0)
        assert p.class_bytes % PAGE == 0
        assert p.class_bytes - size < PAGE
    if p.path == "tiny":
        assert not pointers
        assert size < 16
    if p.header_bytes:
        assert pointers
        assert size > 512
        assert rules.alloc_headers


@given(sizes, st.booleans(), rules_st)
def test_class_bytes_monotonic_in_size(size: int, pointers: bool, rules: AllocRules) -> None:
    a, b = predict(size, pointers, rules), predict(size + 1, pointers, rules)
    assert b.class_bytes >= a.class_bytes
    assert b.size_class >= a.size_class or b.path == "large"


@given(sizes, st.booleans(), rules_st)
def test_roundupsize_is_usable_and_tight(size: int, pointers: bool, rules: AllocRules) -> None:
    usable = roundupsize(size, not pointers, rules)
    assert usable >= size
    p = predict(usable, pointers, rules)
    if p.path == "small":
        # Asking for the usable size lands in the same class: nothing more fits there.
        assert p.class_bytes == predict(size, pointers, rules).class_bytes or size < 16
        assert usable + p.header_bytes == p.class_bytes


@given(
    st.integers(min_value=1, max_value=1 << 20),
    st.integers(min_value=0, max_value=1 << 20),
    st.integers(min_value=1, max_value=4096),
    st.booleans(),
    rules_st,
)
def test_growslice_fits_and_grows(
    extra: int, old_cap: int, elem: int, pointers: bool, rules: AllocRules
) -> None:
    new_len = old_cap + extra
    assert next_slice_cap(new_len, old_cap) >= new_len
    request = growslice_request(new_len, old_cap, elem, pointers, rules)
    assert request % elem == 0
    assert request // elem >= new_len
    p = predict(request, pointers, rules)
    assert p.class_bytes >= request


@given(st.integers(min_value=1, max_value=100_000), st.booleans(), rules_st)
def test_dynamic_thresholds_match_predict(elem: int, pointers: bool, rules: AllocRules) -> None:
    d = predict_dynamic(elem, pointers, rules)
    assert d.path == "dynamic"
    assert d.elem_bytes == elem
    assert d.tiny_max_count is not None
    assert d.small_max_count is not None
    if d.tiny_max_count:
        assert predict(d.tiny_max_count * elem, pointers, rules).path == "tiny"
    assert predict((d.tiny_max_count + 1) * elem, pointers, rules).path != "tiny"
    if d.small_max_count:
        assert predict(d.small_max_count * elem, pointers, rules).path in ("tiny", "small")
    assert predict((d.small_max_count + 1) * elem, pointers, rules).path == "large"
