"""The named results advice/namedresults.py reads from a declaration's text: the forms a
result list takes in Go (unnamed lists, `chan T`, func-typed parameters, type parameters,
a receiver), which the advice fixture does not all spell."""

from __future__ import annotations

import pytest

from escape_lens.advice.namedresults import _declaration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("func F() (r []byte) {", ("F", ("r",))),
        ("func F() (int, error) {", ("F", ())),
        ("func F() (chan int) {", ("F", ())),
        ("func F() (map[string]int, *T) {", ("F", ())),
        ("func F() error {", ("F", ())),
        ("func F[T any, U comparable](x T) (y T, err error) {", ("F", ("y", "err"))),
        ("func (s *Set[T]) M(a, b int) (x, y []int) {", ("M", ("x", "y"))),
        ("func F(f func() (int, error)) (n int) {", ("F", ("n",))),
        ("func F(a int, (b int) {", None),  # never closes: not read
    ],
)
def test_result_names_of_a_declaration(
    text: str, expected: tuple[str, tuple[str, ...]] | None
) -> None:
    assert _declaration(text) == expected
