"""One large package's listing read in two processes.

A build of one large package (a cold `analyze net/http`: 22 MB of `-m=2 -S`) is parsed
after go has finished, on one core while the other idles: parsing is most of what the
run adds to the build. So the serial path (toolchain/build.py) reads the output as
always up to the largest target block's listing, then forks: the child reads the second
part of that listing, from a function's header on, while this process reads the first;
this process then takes the child's functions and type descriptors
(`AsmParser.adopt`) and reads on after the block.

Invariants:
- The result is the serial parse's. The child is this process at the fork: the same
  parsers, the `-m` lines read, the file names known; a listing's functions are read
  independently of each other (each from its header to its hex dump). What the first
  part could teach the second is a moved directory (parsers/positions.py): when this
  process learns one there, the child's work is dropped and the second part read here.
  So is it when the child meets anything but listing lines (an `-m` or inlining-table
  line after the cut), fails, or dies: a slower run, never another report.
- The fork comes once the `-m` lines are read, so the cut is the text symbol header
  nearest the middle of the listing: both processes finish together. A listing too
  small for a fork to pay is not cut (`MIN_LISTING_BYTES`), nor is any when
  `ESCAPE_LENS_JOBS=1` or there is one core.
- What the file system was asked in the second part (`probes`, for the result cache) is
  added to the block's, but what the first part had asked already.
"""

from __future__ import annotations

import contextlib
import gc
import mmap
import multiprocessing
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from escape_lens.parsers.gobuild import BuildParser, ListingPart
from escape_lens.toolchain.parallel import largest_block, spare_core
from escape_lens.toolchain.stream import read_batches

# Below this a listing is read in one process: forking and sending the functions back
# cost more than the second core saves (~10 ms).
MIN_LISTING_BYTES = 6 << 20
_TEXT = b" STEXT"
_BATCH = 1 << 16
# Per byte, against a byte of instructions (net/http, go1.27: -m lines 16 ms/MB,
# instructions 11 ms/MB); what forking and sending back cost, in instruction bytes.
# (Measured totals are flat around these: a tenth either way moves them by 2-3 ms.)
_ESCAPE_COST = 1.45
_DATA_COST = 0.5
_CHILD_COST = 1 << 20


@dataclass(frozen=True, slots=True)
class Cut:
    """A block cut in two: the first byte after its header line (where the fork comes),
    the start of the text symbol's header the child reads from, the block's end."""

    fork: int
    second: int
    end: int


def feed_output(
    parser: BuildParser,
    path: str,
    packages: Iterable[str],
    on_batch: Callable[[int], None] = lambda _: None,
) -> None:
    """Feed `parser` the whole output file at `path`, the largest target block in two
    processes when it pays (see above). `on_batch` is told the offset reached."""
    cut = find_cut(path, set(packages)) if spare_core() else None
    if cut is None:
        _feed(parser, path, 0, None, on_batch)
        return
    _feed(parser, path, 0, cut.fork, on_batch)
    part = _read_beside(parser, path, cut, on_batch)
    if part is None:
        _feed(parser, path, cut.second, cut.end, on_batch)
    else:
        parser.adopt_listing(part)
    _feed(parser, path, cut.end, None, on_batch)


def _feed(
    parser: BuildParser, path: str, start: int, end: int | None, on_batch: Callable[[int], None]
) -> None:
    for index, batch in enumerate(read_batches(path, _BATCH, start=start, end=end)):
        on_batch(start + index * _BATCH)
        parser.feed_all(batch)


def find_cut(path: str, packages: set[str]) -> Cut | None:
    """The cut of the largest block of `packages` in the output at `path`, if its
    listing is large enough to be read in two processes."""
    block = largest_block(path, packages)
    if block is None or block[1] - block[0] < MIN_LISTING_BYTES:
        return None
    start, end = block
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        fork = data.find(b"\n", start, end) + 1
        listing = _header_at_or_after(data, fork, end) if fork > 0 else None
        if listing is None or end - listing < MIN_LISTING_BYTES:
            return None
        # Each process's share, in instruction bytes: the -m lines cost more per byte,
        # the data symbols after the functions (mostly hex dumps, skipped) less, and
        # the child pays for the fork and for sending its functions back.
        last_text = data.rfind(_TEXT, listing, end)
        text_end = data.find(b"\n", last_text, end) if last_text >= 0 else end
        escape, text, rest = listing - fork, text_end - listing, end - text_end
        total = escape * _ESCAPE_COST + text + rest * _DATA_COST + _CHILD_COST
        first = int(total / 2 - escape * _ESCAPE_COST)
        if first <= 0 or first >= text:
            return None
        second = _header_at_or_after(data, listing + first, text_end)
        return None if second is None else Cut(fork, second, end)


def _header_at_or_after(data: mmap.mmap | bytes, at: int, end: int) -> int | None:
    """The offset of the first text symbol's header line (`pkg.F STEXT size=...`) that
    starts at or after `at` and before `end`."""
    found = data.find(_TEXT, at, end)
    while found >= 0:
        line = data.rfind(b"\n", 0, found) + 1
        if line >= at and data[line : line + 1] not in (b"\t", b" ", b"#"):
            tail = data[found + len(_TEXT) : found + len(_TEXT) + 1]
            if tail in (b" ", b"\n"):
                return line
        found = data.find(_TEXT, found + 1, end)
    return None


def _read_beside(
    parser: BuildParser, path: str, cut: Cut, on_batch: Callable[[int], None]
) -> ListingPart | None:
    """Fork; read the block's first part here, the second in the child; the child's
    part, or None when this process must read the second part itself."""
    mark = parser.listing_mark()
    if mark is None:  # (not a block that is kept: nothing to read in two)
        return None
    mp = multiprocessing.get_context("fork")
    ours, theirs = mp.Pipe(duplex=False)
    child = mp.Process(target=_child, args=(theirs, parser, path, cut), daemon=True)
    try:
        child.start()
    except OSError:
        return None
    theirs.close()
    try:
        _feed(parser, path, cut.fork, cut.second, on_batch)
        part = _receive(ours)
    finally:
        ours.close()
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
            child.join()
    if part is None or parser.listing_moved_since(mark):
        return None
    return part


def _receive(conn: Connection) -> ListingPart | None:
    collecting = gc.isenabled()
    gc.disable()  # (the functions received all live on)
    try:
        message: Any = conn.recv()
    except (EOFError, OSError):
        return None  # the child died: read here
    finally:
        if collecting:
            gc.enable()
    return message if isinstance(message, ListingPart) else None


def _child(conn: Connection, parser: BuildParser, path: str, cut: Cut) -> None:
    """The second process: read the listing from `cut.second` to the block's end and send
    what it found (None when those lines were not the listing's alone, or on failure)."""
    gc.freeze()
    gc.disable()  # (as the parsing workers, toolchain/parallel.py)
    try:
        mark = parser.listing_mark()
        if mark is None:
            raise ValueError("no block")
        parser.refuse_all_but_listing()
        for batch in read_batches(path, _BATCH, start=cut.second, end=cut.end):
            parser.feed_all(batch)
        conn.send(parser.listing_part(mark))
    except Exception:  # the parent reads the part itself
        with contextlib.suppress(OSError):
            conn.send(None)
    finally:
        conn.close()
        os._exit(0)  # (no atexit handlers of the parent's, no flushing its buffers)
