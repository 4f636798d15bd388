"""The parts of a fingerprint that must not depend on incidental spelling."""

from __future__ import annotations

import pytest

from escape_lens.fingerprint import normalise_expr, stable_function


@pytest.mark.parametrize(
    ("name", "stable"),
    [
        ("F", "F"),
        ("(*T).M", "(*T).M"),
        ("F.func1", "F.func"),
        ("F.func12", "F.func"),
        ("F.func1.2", "F.func.func"),
        ("F.gowrap3", "F.func"),
        ("Stack[go.shape.int].Push", "Stack[go.shape.int].Push"),
        ("Stack[go.shape.int].Push.func2", "Stack[go.shape.int].Push.func"),
    ],
)
def test_stable_function(name: str, stable: str) -> None:
    assert stable_function(name) == stable


@pytest.mark.parametrize(
    ("expr", "normal"),
    [
        ("window", "_"),
        ("make([]byte, n)", "make([]byte,_)"),
        ("&Record{...}", "&Record{...}"),
        ("&record{ID: id}", "&record{ID:_}"),
        ("e.buf", "_.buf"),
        ("new([4]uint64)", "new([4]uint64)"),
        ("make(map[string]int, size)", "make(map[string]int,_)"),
    ],
)
def test_normalise_expr(expr: str, normal: str) -> None:
    assert normalise_expr(expr) == normal
