"""Columns of sites no `-m` line places (a `go` statement's newproc, a defer's
deferproc, a channel's makechan, the concatenation of `s += x`), read from the source
line where it has exactly one place the compiler puts such a statement or call (as
`-gcflags=-W` shows them after walk); else the column stays unknown (0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.records import GoToolchain, Site

pytestmark = pytest.mark.slow

SOURCE = """package p

import "fmt"

func work(c chan int) { c <- 1 }

func Run(n int) {
	c := make(chan int, 3)
	go work(c) // note: go on, in a comment, is no statement
	for i := 0; i < n; i++ {
		defer fmt.Println(i)
	}
	a, b := make(chan int), make(chan string)
	go func() { a <- 1; b <- "go " }()
	if n > 2 { go work(a) }
	d := make(chan int, n); fmt.Println("make(chan int)", d)
	s := fmt.Sprint(n)
	s += "/"
	fmt.Println(s + "+=", s)
}
"""


def _chosen(sites: list[Site], line: int, entry: str) -> Site:
    (site,) = [s for s in sites if s.pos.line == line and s.entry == entry]
    return site


def test_columns_of_sites_no_diagnostic_places(
    tmp_path: Path, pinned_toolchain: GoToolchain
) -> None:
    (tmp_path / "go.mod").write_text("module example.com/p\n\ngo 1.21\n")
    (tmp_path / "p.go").write_text(SOURCE)
    report = analyze_targets(["."], go=pinned_toolchain.path, cwd=str(tmp_path))
    sites = list(report.sites)
    lines = SOURCE.splitlines()

    def column(line: int, text: str, occurrence: int = 0) -> int:
        """1-based byte column of `text` on source line `line`."""
        at = -1
        for _ in range(occurrence + 1):
            at = lines[line - 1].index(text, at + 1)
        return at + 1

    assert _chosen(sites, 8, "makechan").pos.col == column(8, "(")  # at make's parenthesis
    assert _chosen(sites, 9, "newproc").pos.col == column(9, "go")  # the comment is no code
    assert _chosen(sites, 11, "deferproc").pos.col == column(11, "defer")
    assert _chosen(sites, 14, "newproc").pos.col == column(14, "go")  # the string is none
    assert _chosen(sites, 15, "newproc").pos.col == column(15, "go")  # after `{`
    # The string's `make(chan int)` is no call: the one call is `d`'s.
    assert _chosen(sites, 16, "makechan").pos.col == column(16, "(")
    # `s += "/"`: walk makes the concatenation, after escape analysis, at the operator.
    assert _chosen(sites, 18, "concatstring2").pos.col == column(18, "+=")
    # Two channels made on one line: which is which the line does not say.
    line_13 = [s for s in sites if s.pos.line == 13 and s.entry == "makechan"]
    assert len(line_13) == 2
    assert all(s.pos.col == 0 for s in line_13)
    # The compiler puts the closure wrapping `go work(c)` at the same keyword.
    wrapper = [s for s in sites if s.pos.line == 9 and s.entry != "newproc"]
    assert [s.pos.col for s in wrapper] == [column(9, "go")], [str(s.pos) for s in wrapper]
