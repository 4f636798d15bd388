"""The fast JSON writer writes exactly the bytes of `json.dumps(indent=2, ensure_ascii=False)`."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from escape_lens.reporters.json_text import dumps, indented
from escape_lens.vocab import AllocPath, Construct

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),  # control characters, quotes, backslashes, non-ASCII, surrogates
    st.sampled_from([*Construct, *AllocPath]),  # str enums, as sites hold them
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
        st.dictionaries(st.integers(), inner, max_size=2),  # keys json.dumps turns to text
        st.dictionaries(st.sampled_from(list(Construct)), inner, max_size=2),
    ),
    max_leaves=30,
)


@settings(max_examples=400)
@given(_VALUES)
def test_the_same_bytes_as_the_standard_library(value: Any) -> None:
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False) + "\n"


@given(_VALUES, st.integers(min_value=0, max_value=6))
def test_nested_values_are_indented_as_inside_their_parent(value: Any, depth: int) -> None:
    nested: Any = value
    for _ in range(depth):
        nested = [nested]
    text = indented(value, "\n" + "  " * depth)
    for level in reversed(range(depth)):
        outer = "\n" + "  " * level
        text = "[" + outer + "  " + text + outer + "]"
    assert text == json.dumps(nested, indent=2, ensure_ascii=False)
