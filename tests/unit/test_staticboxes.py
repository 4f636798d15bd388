"""Boxings without a call, placed by their data words (parsers/staticboxes.py), on
go1.21.13 listings where the table's address is hoisted to the statement's start
(fixtures/captured/go1.21.13/staticboxes.txt, from fixtures/exact)."""

from __future__ import annotations

from escape_lens.parsers.staticboxes import placed
from tests.conftest import FIXTURES


def _functions() -> dict[str, list[list[tuple[str, str]]]]:
    """name -> the windows (instructions since the previous CALL) of each CALL and the
    rest, oldest first; each window ends with its CALL's operand as ("CALL", target)."""
    text = (FIXTURES / "captured" / "go1.21.13" / "staticboxes.txt").read_text()
    functions: dict[str, list[list[tuple[str, str]]]] = {}
    windows: list[list[tuple[str, str]]] = []
    for line in text.splitlines()[1:]:
        if " STEXT " in line:
            windows = functions.setdefault(line.split(" ", 1)[0], [[]])
            continue
        op, _, operands = line.partition("\t")
        windows[-1].append((op, operands))
        if op == "CALL":
            windows.append([])
    return functions


def _calls_and_boxes(name: str) -> list[tuple[str, int]]:
    windows = _functions()[name]
    counts = placed(windows)
    assert counts is not None
    return [(w[-1][1], n) for w, n in zip(windows, counts, strict=False) if w[-1][0] == "CALL"]


def test_hoisted_one_byte_boxings_are_placed_where_their_data_word_is_stored() -> None:
    # fmt.Fprintln(w, i8, i16, u32, f32, f64, c, b, r, by): the table's address is
    # taken before the first call; i8 is boxed before convT16, b before the last convT32,
    # by after it (before Fprintln).
    assert _calls_and_boxes("M.Printall") == [
        ("runtime.convT16(SB)", 1),
        ("runtime.convT32(SB)", 0),
        ("runtime.convT32(SB)", 0),
        ("runtime.convT64(SB)", 0),
        ("runtime.convTnoptr(SB)", 0),
        ("runtime.convT32(SB)", 1),
        ("fmt.Fprintln(SB)", 1),
    ]


def test_zero_size_values_and_constants_are_placed_too() -> None:
    # fmt.Sprint(n, e, s, b, len(s), k, limit, f, n+1): e (zerobase) before convTstring,
    # b before len(s)'s convT64, k and the constant `limit` (read-only data) before f's.
    counts = [n for _, n in _calls_and_boxes("M.Between")]
    assert counts == [0, 1, 1, 2, 0, 0]


def test_a_table_pointer_never_stored_as_a_data_word_leaves_the_place_unknown() -> None:
    windows = _functions()["M.Printall"]
    # Drop the stores of the interface slots' data words after the table's address.
    cut = [[(op, a) for op, a in w if not a.endswith(("+88(SP)", "+184(SP)"))] for w in windows]
    assert placed(cut) is None
