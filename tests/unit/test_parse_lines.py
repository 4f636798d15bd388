"""The string-method line splitters agree with the regular expressions they stand in for.

The parsers split the hundreds of thousands of lines of a large package with `str.find`
and friends; the regular expressions stay as their specification. Lines are drawn from
the pieces that matter to them (`.go:`, numbers, colons, ` at `, every kind of
whitespace, non-ASCII digits), so near misses are common.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from escape_lens.parsers.asm import SYMBOL_RE, split_symbol
from escape_lens.parsers.escape import _FROM, POS_LINE_RE, from_step, split_pos_line
from escape_lens.parsers.gobuild import BuildParser, ListedPackage
from escape_lens.parsers.positions import POS_RE, Positions, split_position
from tests.unit.parse_captured import CAPTURE_DIR, CAPTURED, VERSIONS, captured_lines

PIECES = (
    ":",
    ": ",
    "1",
    "\u0661",  # ARABIC-INDIC DIGIT ONE: \\d, isdecimal
    "\u00b2",  # SUPERSCRIPT TWO: isdigit, not \\d
    " ",
    "\t",
    "\r",
    "\x0b",
    "\x1c",
    "\xa0",
    "\u2028",
    "\n",
    " at ",
    "at",
    "from ",
    "a",
    "/x",
    "(",
    ")",
)
noise = st.lists(st.sampled_from(PIECES), max_size=3).map("".join)
number = st.sampled_from(["1", "42", "7", "\u0661", "\u00b2", "", "4x"])
# `name.go:12:5` and near misses of it.
position = st.tuples(
    st.one_of(st.sampled_from(["a/b", "\t", "\xa0", "a\x0bb", "a b", "\u2028"]), noise),
    st.sampled_from([".go:", ".go:", ".go", "go:", ".go:.go:"]),
    number,
    st.sampled_from([":", ":", ""]),
    number,
    st.one_of(st.just(""), noise),
).map("".join)
texts = st.lists(st.one_of(noise, position), max_size=5).map("".join)
pos_lines = st.tuples(position, st.sampled_from([": ", ": ", ":", " "]), texts).map("".join)
flow_lines = st.tuples(
    st.sampled_from(["   ", " \t", "\u2028", "", " "]),
    st.sampled_from(["from ", "from ", "from", "flow: "]),
    texts,
    st.sampled_from([" at ", " at ", " at", "at "]),
    position,
).map("".join)


def _line(text: str) -> str:
    return text.replace("\n", "\u2028")  # lines have no newline, other breaks they may


@settings(max_examples=1000)
@given(st.one_of(pos_lines, texts).map(_line))
def test_pos_lines_split_as_the_pattern_says(line: str) -> None:
    match = POS_LINE_RE.match(line)
    expected = None if match is None else (match.group("pos"), match.group("msg"))
    assert split_pos_line(line) == expected


@settings(max_examples=1000)
@given(st.one_of(flow_lines, texts).map(_line))
def test_from_steps_split_as_the_pattern_says(msg: str) -> None:
    match = _FROM.match(msg)
    expected = None if match is None else (match.group("text"), match.group("pos"))
    assert from_step(msg) == expected


@settings(max_examples=1000)
@given(st.one_of(position, texts))
def test_positions_split_as_the_pattern_says(text: str) -> None:
    stripped = text.strip()  # what Positions.pos gives it
    match = POS_RE.match(stripped)
    expected = None
    if match is not None:
        file, line, col = match.group("file", "line", "col")
        expected = (file, int(line), int(col or 0))
    assert split_position(stripped) == expected


@settings(max_examples=1000)
@given(
    st.tuples(
        st.sampled_from(["", " ", "\t ", "/a b/"]),
        noise,
        st.sampled_from([".go:"]),
        st.sampled_from(["1", "42", "\u0661"]),
        st.just(":"),
        st.sampled_from(["1", "7", "\u0661"]),
    )
    .map("".join)
    .map(_line)
)
def test_go_positions_are_positions(text: str) -> None:
    """`go_pos` (for texts of a line that end with `.go:LINE:COLUMN`) answers as `pos`."""
    assert Positions("/tmp", "/tmp").go_pos(text) == Positions("/tmp", "/tmp").pos(text)


symbols = st.lists(
    st.one_of(
        noise,
        st.sampled_from(
            ["pkg.F", " S", " STEXT", " SRODATA ", " SBSS", " SX", " Sx", "S", "\tS", " S "]
        ),
    ),
    max_size=6,
).map("".join)


@settings(max_examples=1000)
@given(st.one_of(symbols, texts).map(_line))
def test_symbols_split_as_the_pattern_says(line: str) -> None:
    match = SYMBOL_RE.match(line)
    expected = None if match is None else (match.group("name"), match.group("kind"))
    assert split_symbol(line) == expected


def test_batches_may_split_anywhere() -> None:
    """A function's instructions, its calls' windows and the inlining tables may run
    across the batches the build hands the parser."""
    for version in VERSIONS:
        for name in ("kinds", "inlining"):
            if not (CAPTURED / version / f"{name}.txt").exists():
                continue
            lines = captured_lines(version, name)
            listed = ListedPackage("command-line-arguments", f"{CAPTURE_DIR}/{name}", "main")
            whole = BuildParser([listed], Positions(listed.dir, listed.dir))
            whole.feed_all(lines)
            expected = whole.outputs()
            assert expected[0].calls
            for size in (1, 2, 3, 7, 64, 501):
                parser = BuildParser([listed], Positions(listed.dir, listed.dir))
                for start in range(0, len(lines), size):
                    parser.feed_all(lines[start : start + size])
                assert parser.outputs() == expected, (version, name, size)
