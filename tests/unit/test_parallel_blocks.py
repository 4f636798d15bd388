"""Where each package's blocks lie in the build's output (toolchain/parallel.py
`_blocks`): the byte ranges the parsing processes read, found by the headers' `#`."""

from __future__ import annotations

import mmap
from pathlib import Path

import pytest

from escape_lens.toolchain import parallel

_OUTPUT = (
    b"# a\n"  # a header on the very first line
    b"a.go:1:2: x escapes to heap\n"
    b"\t0x0000 00000 (a.go:1)\tTEXT\ta.F(SB), ABIInternal, $0-0 # a comment\n"
    b"#not a header\n"
    b" # nor this\n"
    b"# b [b.test]\n"
    b"\trel 3+4 t=R_CALL runtime.f#1#+0\n"
    b"# b_test [b.test]\n"
    b"##\n"
    b"# c\n"
    b"c.go:3:4: y does not escape\n"
    b"# a\n"
    b"a.go:9:1: z\n"
    b"# d"  # an unfinished last line is no header
)


def _ranges_by_reading_lines(data: bytes, packages: set[str]) -> dict[str, list[tuple[int, int]]]:
    """The same ranges, line by line: what `_blocks` must find however it searches."""
    starts, offset = [], 0
    for line in data.splitlines(keepends=True):
        match = parallel._HEADER.fullmatch(line.rstrip(b"\n")) if line.endswith(b"\n") else None
        if match is not None:
            name = match.group(1).decode()
            starts.append((offset, name.removesuffix("_test") if match.group(2) else name))
        offset += len(line)
    ranges: dict[str, list[tuple[int, int]]] = {}
    for index, (start, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(data)
        if name in packages:
            ranges.setdefault(name, []).append((start, end))
    return ranges


def test_blocks_are_the_ranges_between_header_lines(tmp_path: Path) -> None:
    path = tmp_path / "output"
    path.write_bytes(_OUTPUT)
    found = parallel._blocks(str(path), {"a", "b", "c"})
    assert found == _ranges_by_reading_lines(_OUTPUT, {"a", "b", "c"})
    assert [_OUTPUT[s:e].split(b"\n")[0] for s, e in found["a"]] == [b"# a", b"# a"]
    assert [_OUTPUT[s:e].split(b"\n")[0] for s, e in found["b"]] == [
        b"# b [b.test]",
        b"# b_test [b.test]",
    ]
    assert found["c"] == [(_OUTPUT.index(b"# c\n"), _OUTPUT.index(b"# a\na.go:9"))]
    assert found["a"][-1][1] == len(_OUTPUT)  # to the end, the unfinished line with it


def test_output_without_a_header_at_its_start_or_at_all(tmp_path: Path) -> None:
    path = tmp_path / "output"
    path.write_bytes(b"go: warning\n" + _OUTPUT)
    shifted = parallel._blocks(str(path), {"a", "c"})
    assert shifted["a"][0][0] == len(b"go: warning\n")
    assert shifted == _ranges_by_reading_lines(b"go: warning\n" + _OUTPUT, {"a", "c"})
    path.write_bytes(b"")
    assert parallel._blocks(str(path), {"a"}) == {}
    path.write_bytes(b"#\n# \n#a\n")
    assert parallel._blocks(str(path), {"a"}) == {}


def test_headers_across_the_windows_searched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows of one page: headers start, and end, on both sides of their edges.
    monkeypatch.setattr(parallel, "_WINDOW", mmap.PAGESIZE)
    filler = b"\t0x0000 00000 (a.go:1)\tNOP # x\n"
    data = b"".join(
        b"# p%d\n" % n + filler * (n * 7 % 300) + b"x" * (n % 31) + b"\n" for n in range(400)
    )
    path = tmp_path / "output"
    path.write_bytes(data)
    wanted = {f"p{n}" for n in range(0, 400, 3)}
    found = parallel._blocks(str(path), wanted)
    assert found == _ranges_by_reading_lines(data, wanted)
    assert len(found) == len(wanted)
