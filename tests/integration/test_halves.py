"""One package's listing read in two processes (toolchain/halves.py) gives the serial
parse, to the byte: wherever the listing is cut, and when the second process's part must
be read again here (an `-m` line after the cut, a relative file name, a moved directory,
a dead child). And the result cache entries the CLI has stored beside the report
(`store_beside`) are the ones stored inline, found by the next load; a library call
stores its own before it returns."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.parsers.gobuild import BuildParser, ListingPart, NotListing
from escape_lens.parsers.positions import Positions
from escape_lens.records import GoToolchain, ListedPackage, PackageOutput
from escape_lens.toolchain import halves, parallel, resultcache
from escape_lens.toolchain.build import OUTPUTS, build_targets
from escape_lens.toolchain.stream import read_batches

PACKAGE = "strconv"
Probes = list[tuple[str, tuple[str, ...], object]]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, pinned_toolchain: GoToolchain) -> Path:
    """The real output of a compile of strconv with `-m=2 -S`, as go writes it."""
    work = tmp_path_factory.mktemp("halves")
    # A private go cache: a shared one replays the text of a compile under another
    # GOROOT, whose names read as a moved directory (and rightly refuse the child's part).
    env = {**os.environ, "GOFLAGS": "", "GOTOOLCHAIN": "local", "GOCACHE": str(work / "gocache")}
    build = subprocess.run(
        [pinned_toolchain.path, "build", "-o", os.devnull, f"-gcflags={PACKAGE}=-m=2 -S", PACKAGE],
        cwd=work,
        env=env,
        capture_output=True,
        check=True,
    )
    assert build.stderr.startswith(f"# {PACKAGE}\n".encode()), build.stderr[:80]
    output = work / "output.txt"
    output.write_bytes(build.stderr)
    return output


@pytest.fixture
def spare(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Any listing cut, a core spare (the machine's count aside); the adoptions."""
    monkeypatch.setattr(halves, "MIN_LISTING_BYTES", 0)
    monkeypatch.setattr(halves, "_CHILD_COST", 0)  # (strconv's listing is small)
    monkeypatch.setattr(halves, "spare_core", lambda: True)
    return _calls(monkeypatch, "adopt_listing")


def _calls(monkeypatch: pytest.MonkeyPatch, method: str) -> list[tuple[object, ...]]:
    """The arguments of each call of BuildParser's `method` in this process, from now on
    (a live list)."""
    calls: list[tuple[object, ...]] = []
    called = getattr(BuildParser, method)

    def spy(self: BuildParser, *args: object) -> object:
        calls.append(args)
        return called(self, *args)

    monkeypatch.setattr(BuildParser, method, spy)
    return calls


def _parse(
    path: Path, toolchain: GoToolchain, *, halved: bool
) -> tuple[list[PackageOutput], Probes]:
    directory = os.path.join(toolchain.goroot, "src", PACKAGE)
    listed = ListedPackage(PACKAGE, directory, PACKAGE, standard=True)
    positions = Positions(str(path.parent), str(path.parent), toolchain.goroot)
    parser = BuildParser([listed], positions, goroot=toolchain.goroot, goarch=toolchain.goarch)
    if halved:
        halves.feed_output(parser, str(path), [PACKAGE])
    else:
        for batch in read_batches(str(path)):
            parser.feed_all(batch)
    return parser.outputs(), list(parser.states[PACKAGE].probes)


def _headers(path: Path) -> list[int]:
    """The offsets of the listing's text symbol headers."""
    data = path.read_bytes()
    found: list[int] = []
    at = halves._header_at_or_after(data, 0, len(data))
    while at is not None:
        found.append(at)
        at = halves._header_at_or_after(data, at + 1, len(data))
    return found


def test_the_cut_falls_inside_the_listing_near_its_middle(
    built: Path, spare: list[tuple[object, ...]]
) -> None:
    cut = halves.find_cut(str(built), {PACKAGE})
    assert cut is not None
    headers = _headers(built)
    assert cut.second in headers
    assert headers[0] < cut.second < headers[-1]
    assert cut.end == built.stat().st_size  # the one block
    halves.MIN_LISTING_BYTES = cut.end  # (monkeypatched) too small a listing: no cut
    assert halves.find_cut(str(built), {PACKAGE}) is None


@pytest.mark.parametrize("where", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_a_listing_read_in_two_is_the_serial_parse_wherever_cut(
    built: Path,
    spare: list[tuple[object, ...]],
    monkeypatch: pytest.MonkeyPatch,
    pinned_toolchain: GoToolchain,
    where: float,
) -> None:
    serial = _parse(built, pinned_toolchain, halved=False)
    cut = halves.find_cut(str(built), {PACKAGE})
    assert cut is not None
    headers = [h for h in _headers(built) if h > cut.fork]
    second = headers[min(len(headers) - 1, int(where * len(headers)))]
    monkeypatch.setattr(halves, "find_cut", lambda *_: halves.Cut(cut.fork, second, cut.end))
    assert _parse(built, pinned_toolchain, halved=True) == serial
    assert len(spare) == 1  # read beside, then adopted
    (part,) = spare[0]
    assert isinstance(part, ListingPart)
    beside = {function.name for function in part.listed.functions}
    assert beside  # (at 1.0 the last: an equality function, no allocation)
    assert where == 1.0 or beside & {call.function for call in serial[0][0].calls}


def _edited_after_cut(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: Callable[[bytes], bytes]
) -> Path:
    """`built` with the part after its cut edited, and cut there still."""
    cut = halves.find_cut(str(built), {PACKAGE})
    assert cut is not None
    data = built.read_bytes()
    second = edit(data[cut.second :])
    assert second != data[cut.second :]
    edited = tmp_path / "output.txt"
    edited.write_bytes(data[: cut.second] + second)
    moved = halves.Cut(cut.fork, cut.second, cut.second + len(second))
    monkeypatch.setattr(halves, "find_cut", lambda *_: moved)
    return edited


def _second_part_read_as_the_child_does(path: Path, toolchain: GoToolchain) -> ListingPart:
    """What the child of `halves.feed_output` sends, read in this process."""
    cut = halves.find_cut(str(path), {PACKAGE})
    assert cut is not None
    directory = os.path.join(toolchain.goroot, "src", PACKAGE)
    listed = ListedPackage(PACKAGE, directory, PACKAGE, standard=True)
    positions = Positions(str(path.parent), str(path.parent), toolchain.goroot)
    parser = BuildParser([listed], positions, goroot=toolchain.goroot, goarch=toolchain.goarch)
    for batch in read_batches(str(path), end=cut.fork):
        parser.feed_all(batch)
    mark = parser.listing_mark()
    assert mark is not None
    parser.refuse_all_but_listing()
    for batch in read_batches(str(path), start=cut.second, end=cut.end):
        parser.feed_all(batch)
    return parser.listing_part(mark)


def _assert_read_here(
    edited: Path, toolchain: GoToolchain, spare: list[tuple[object, ...]], reason: str
) -> None:
    """The serial parse of `edited`, its second part refused by the child for `reason`."""
    serial = _parse(edited, toolchain, halved=False)
    assert _parse(edited, toolchain, halved=True) == serial
    assert spare == []
    with pytest.raises(NotListing, match=reason):
        _second_part_read_as_the_child_does(edited, toolchain)


def test_an_escape_line_after_the_cut_is_read_here(
    built: Path,
    spare: list[tuple[object, ...]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pinned_toolchain: GoToolchain,
) -> None:
    data = built.read_text()
    line = next(line for line in data.splitlines() if "escapes to heap" in line)
    edited = _edited_after_cut(built, tmp_path, monkeypatch, lambda b: f"{line}\n".encode() + b)
    _assert_read_here(edited, pinned_toolchain, spare, re.escape(line[:60]))


def test_the_child_refuses_an_escape_line(built: Path, pinned_toolchain: GoToolchain) -> None:
    directory = os.path.join(pinned_toolchain.goroot, "src", PACKAGE)
    listed = ListedPackage(PACKAGE, directory, PACKAGE, standard=True)
    parser = BuildParser([listed], Positions(directory, directory, pinned_toolchain.goroot))
    parser.feed(f"# {PACKAGE}")
    mark = parser.listing_mark()
    assert mark is not None
    assert mark.package == PACKAGE
    parser.refuse_all_but_listing()
    with pytest.raises(NotListing):
        parser.feed(f"{directory}/atoi.go:12:6: can inline f")


def test_a_relative_file_name_after_the_cut_is_read_here(
    built: Path,
    spare: list[tuple[object, ...]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pinned_toolchain: GoToolchain,
) -> None:
    absolute = f"({pinned_toolchain.goroot}/src/{PACKAGE}/".encode()
    edited = _edited_after_cut(
        built, tmp_path, monkeypatch, lambda second: second.replace(absolute, b"(./")
    )
    _assert_read_here(edited, pinned_toolchain, spare, "relative file name")
    assert _second_part_read_as_the_child_does(built, pinned_toolchain).listed.functions


def test_a_move_learnt_in_the_first_part_drops_the_childs(
    built: Path,
    spare: list[tuple[object, ...]],
    monkeypatch: pytest.MonkeyPatch,
    pinned_toolchain: GoToolchain,
) -> None:
    serial = _parse(built, pinned_toolchain, halved=False)
    feed = BuildParser.feed_all
    calls: list[int] = []
    moved: list[int] = []

    def learn_a_move(self: BuildParser, lines: list[str]) -> None:
        # Stands for a moved directory learnt in the first part (positions.py), after
        # the fork (the first batch, the block's header line, came before it): the file
        # names of the second part would have been read otherwise.
        feed(self, lines)
        calls.append(len(lines))
        if len(calls) == 2 and os.getpid() == parent:
            moved.append(self.positions.epoch)
            self.positions.epoch += 1

    parent = os.getpid()

    monkeypatch.setattr(BuildParser, "feed_all", learn_a_move)
    assert _parse(built, pinned_toolchain, halved=True) == serial
    assert moved
    assert spare == []


def _die(*_: object) -> None:
    os._exit(3)


def test_a_dead_child_leaves_its_part_to_this_process(
    built: Path,
    spare: list[tuple[object, ...]],
    monkeypatch: pytest.MonkeyPatch,
    pinned_toolchain: GoToolchain,
) -> None:
    serial = _parse(built, pinned_toolchain, halved=False)
    monkeypatch.setattr(halves, "_child", _die)
    assert _parse(built, pinned_toolchain, halved=True) == serial
    assert spare == []


def _entries(cache: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(cache)): path.read_bytes()
        for path in sorted((cache / "results").glob("*/*"))
    }


def test_a_run_reading_beside_and_storing_beside_is_the_serial_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned_toolchain: GoToolchain
) -> None:
    monkeypatch.setattr(halves, "MIN_LISTING_BYTES", 0)
    monkeypatch.setattr(halves, "_CHILD_COST", 0)  # (strconv's listing is small)
    adopted = _calls(monkeypatch, "adopt_listing")
    monkeypatch.setenv("GOCACHE", str(tmp_path / "gocache"))  # (see `built`)
    runs = {}
    for beside in (False, True):
        # (ESCAPE_LENS_JOBS=1 reads and stores in this process; a machine's one core too)
        monkeypatch.setattr(halves, "spare_core", lambda beside=beside: beside)
        monkeypatch.setattr(parallel, "spare_core", lambda beside=beside: beside)
        monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / f"cache-{beside}"))
        report = analyze_targets(
            [PACKAGE], go=pinned_toolchain.path, cwd=str(tmp_path), store_beside=True
        )
        storing = list(resultcache._storing)
        resultcache.settle()
        outputs = build_targets(
            pinned_toolchain, [PACKAGE], OUTPUTS, cwd=str(tmp_path), store_beside=True
        )
        resultcache.settle()
        runs[beside] = (report, outputs.results, _entries(tmp_path / f"cache-{beside}"), storing)
    (report, results, entries, storing), serial = runs[True], runs[False]
    assert serial[3] == []
    assert len(storing) == 1
    assert len(adopted) == 2  # each parse of the second run read half beside
    assert report == serial[0]
    assert results == serial[1]
    assert entries == serial[2]
    assert len(entries) == 2
    assert any(s.call is not None for s in report.sites)


def test_entries_stored_beside_are_found_by_the_next_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned_toolchain: GoToolchain
) -> None:
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(parallel, "spare_core", lambda: True)
    first = build_targets(
        pinned_toolchain, [PACKAGE], OUTPUTS, cwd=str(tmp_path), store_beside=True
    )
    assert resultcache._storing  # no settle: the next build's load waits for it
    parses = _calls(monkeypatch, "feed_all")
    again = build_targets(pinned_toolchain, [PACKAGE], OUTPUTS, cwd=str(tmp_path))
    assert not resultcache._storing
    assert parses == []
    assert again.results == first.results


def test_a_library_call_stores_before_it_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned_toolchain: GoToolchain
) -> None:
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(parallel, "spare_core", lambda: True)
    build_targets(pinned_toolchain, [PACKAGE], OUTPUTS, cwd=str(tmp_path))
    assert not resultcache._storing
    assert len(_entries(tmp_path / "cache")) == 1
