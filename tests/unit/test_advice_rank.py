"""Cold paths from the source around a site, and positions that name no source file."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from escape_lens.advice.capacity import made_with_capacity
from escape_lens.advice.causes import cause_of
from escape_lens.advice.rank import cold_reason
from escape_lens.inputs import source_reader
from escape_lens.records import Site, SourcePos
from escape_lens.vocab import Construct

_SOURCE = """package p

var pool = sync.Pool{New: func() any { return new([4096]byte) }}

func Serve() {
	defer func() {
		if r := recover(); r != nil {
			buf := make([]byte, 100<<10)
			use(buf)
		}
	}()
	work := make([]byte, 100<<10)
	use(work)
}

func init() { table = make([]byte, 1<<20) }
"""


def _site(file: str, line: int, col: int, function: str) -> Site:
    return Site(
        SourcePos(file, line, col), "p", function, Construct.MAKE_SLICE, None, None, None,
        None, None,
    )  # fmt: skip


def test_cold_paths_are_read_from_the_source(tmp_path: Path) -> None:
    (tmp_path / "p.go").write_text(_SOURCE)
    source = source_reader(str(tmp_path))
    cases = {
        (3, 48, "init.func1"): "a sync.Pool's New (runs only when the pool is empty)",
        (8, 11, "Serve.func1"): "after recover(): the panic path",
        # In Serve itself, after the deferred literal that recovers: a hot path.
        (12, 10, "Serve"): "",
        (16, 23, "init.0"): "package initialisation",
    }
    for (line, col, function), expected in cases.items():
        site = _site("p.go", line, col, function)
        assert cold_reason(site, cause_of(site), source) == expected, function


def test_positions_naming_devices_or_fifos_are_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.go"
    os.mkfifo(fifo)
    source = source_reader(str(tmp_path))
    for file in ("/dev/zero", "fifo.go", "missing.go"):
        assert source(file) is None
        site = _site(file, 1, 1, "F")
        assert cold_reason(site, cause_of(site), source) == ""


def test_the_reader_keeps_only_the_last_few_files(tmp_path: Path) -> None:
    # std's sources held whole were 45 MB of its peak: files read earlier are dropped
    # (and read again if asked for), so a file changed since is seen changed.
    names = [f"f{n}.go" for n in range(8)]
    for name in names:
        (tmp_path / name).write_text(f"package p // {name}\n")
    source = source_reader(str(tmp_path))
    assert source(names[0]) == ["package p // f0.go"]
    (tmp_path / names[0]).write_text("package p // changed\n")
    for name in names[1:]:
        assert source(name) == [f"package p // {name}"]
    assert source(names[0]) == ["package p // changed"]
    assert source(names[-1]) == [f"package p // {names[-1]}"]


_APPENDS = """package p

func Field(b *buf, x byte) {
	b.data = make([]byte, 0, 64)
	b.data = append(b.data, x)
}

func Nested(n int) {
	fs := make([]func(a, b int), n)
	fs = append(fs, nil)
}

func Other(n int) {
	t := make([]int, 0, n)
	s := []int{}
	s = append(s, len(t))
}

func Later() {
	s = append(s, 1)
}

func Typed(n int) {
	var s []int = make([]int, 0, n)
	s = append(s, n)
}

func Names(n int) {
	xs := make([]int, 0); s := make([]int, 0, n)
	s = append(s, n)
}

func Selected(x *buf, n int) {
	s := []int{}
	x.s = make([]int, 0, n)
	s = append(s, n)
}
"""


def test_a_slice_made_with_a_capacity_is_read_at_the_append(tmp_path: Path) -> None:
    (tmp_path / "p.go").write_text(_APPENDS)
    source = source_reader(str(tmp_path))

    def append_at(line: int) -> Site:
        column = _APPENDS.splitlines()[line - 1].index("append(") + len("append") + 1
        return replace(_site("p.go", line, column, "F"), construct=Construct.APPEND)

    assert made_with_capacity(append_at(5), source)  # a field, made with a capacity
    assert not made_with_capacity(append_at(10), source)  # (a, b int) is one argument
    assert not made_with_capacity(append_at(16), source)  # another slice's capacity
    assert not made_with_capacity(append_at(20), source)  # not above, in another function
    assert not made_with_capacity(append_at(5), None)  # without the source, nothing known
    assert made_with_capacity(append_at(25), source)  # `var s T = make(...)`
    assert made_with_capacity(append_at(30), source)  # s's making, not xs's before it
    assert not made_with_capacity(append_at(36), source)  # x.s is another slice
