"""Parsing and finishing the packages of a large build in several processes.

A cold `analyze std` spends most of its time parsing the compiler's output, one package
after another, on one core. Packages are independent but for one thing: the sizes of
types, which any package's listing may supply to any other's calls. So:

1. The parent finds each compile's block (`# pkg` header to the next) in the output.
2. Each worker (a forked process) asks for a package, parses its blocks with its own
   BuildParser, and asks again (the most output first); then it sends back each of its
   packages' `ListingSummary`.
3. The parent does what the serial path does with the summaries in the packages' order
   (`types_to_size`, typesizes, `final_types`), so the types are the same to the byte,
   and sends them to every worker.
4. Each worker makes its packages' outputs with those types, finishes them (the join,
   for analyze), sends back the kept results, then stores each in the result cache with
   its probes while the parent unpickles them, and says when it is done.

Results are those of the serial path (`test_parallel_parse.py` compares them); a worker
that fails or dies is an error of the run (ToolchainError), never a silently missing
package. Workers are forked: they share the parent's modules and need nothing pickled
but what they send back. The pipe carries pickles between this process and its own
children only, never anything read from disk. Records cross it as their class and
field values (`_send_records_quickly`): a slotted dataclass's own pickling asks
`dataclasses.fields` for every object, which was most of the time spent unpickling std's
results in the parent.
"""

from __future__ import annotations

import dataclasses
import gc
import mmap
import multiprocessing
import operator
import os
import re
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from multiprocessing import connection
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any, TypeVar

from escape_lens import progress, records
from escape_lens.errors import ToolchainError
from escape_lens.parsers.gobuild import BuildParser, ListingSummary, final_types, types_to_size
from escape_lens.parsers.positions import Positions
from escape_lens.records import GoToolchain, ListedPackage, PackageOutput, TypeInfo
from escape_lens.toolchain import resultcache
from escape_lens.toolchain.stream import read_batches
from escape_lens.vocab import counted

_Kept = TypeVar("_Kept")

# Below these a build is parsed in this process: forking and sending types back and
# forth costs more than it saves (net/http: one package, 22 MB of output).
MIN_PACKAGES = 8
MIN_OUTPUT_BYTES = 64 << 20
MAX_JOBS = 4
_HEADER = re.compile(rb"# (\S+)(?: \[(\S+)\])?")
_NEWLINE = ord("\n")
_WINDOW = 1 << 22  # (a multiple of the page size; what the search adds to the peak)


def _send_records_quickly() -> None:
    """Pickle the records sent through the pipes as `(cls, field values)`, rebuilt by
    their `__init__`: the same objects, without `dataclasses.fields` per object both
    ways. A class whose `__init__` does more than set its fields keeps its own pickling."""
    classes = [
        value
        for value in vars(records).values()
        if isinstance(value, type)
        and dataclasses.is_dataclass(value)
        and value.__module__ == records.__name__
    ]
    for cls in (*classes, ListingSummary):
        fields = dataclasses.fields(cls)
        plain = all(f.init and not f.kw_only for f in fields)
        if plain and len(fields) > 1 and not hasattr(cls, "__post_init__"):
            values = operator.attrgetter(*(f.name for f in fields))
            ForkingPickler.register(cls, _reducer(cls, values))


def _reducer(cls: type, values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], Any]:
    return lambda record: (cls, values(record))


_send_records_quickly()


def spare_core() -> bool:
    """Whether a second process may work beside this one (`ESCAPE_LENS_JOBS=1`: no)."""
    return jobs_for(MIN_PACKAGES, MIN_OUTPUT_BYTES) > 1


def jobs_for(packages: int, output_bytes: int) -> int:
    """How many processes to parse a build with (`ESCAPE_LENS_JOBS` caps it; 1: serial)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    limit = min(MAX_JOBS, cpus or 1)
    wanted = os.environ.get("ESCAPE_LENS_JOBS", "")
    if wanted.isdecimal() and int(wanted) > 0:
        limit = min(int(wanted), 64)  # a process per package of std is no use to anyone
    if packages < MIN_PACKAGES or output_bytes < MIN_OUTPUT_BYTES:
        return 1
    return max(1, min(limit, packages))


def parse(
    unparsed: Sequence[ListedPackage],
    archives: Mapping[str, str],
    output_path: str,
    known: Mapping[str, TypeInfo],
    finish: Callable[[GoToolchain, PackageOutput], _Kept],
    context: resultcache.Context,
    jobs: int,
    size_foreign: Callable[[list[str]], dict[str, TypeInfo]],
) -> dict[str, _Kept]:
    """`build._parse` in `jobs` processes: the same results, per package import path,
    stored in the result cache."""
    line = progress.current()
    line.set(f"finding the blocks of {counted(len(unparsed), 'package')}")
    blocks = _blocks(output_path, {p.import_path for p in unparsed})
    order = _heaviest_first(unparsed, blocks)
    workers = []
    done = False
    mp = multiprocessing.get_context("fork")
    try:
        for _ in range(min(jobs, len(unparsed))):
            ours, theirs = mp.Pipe()
            args = (theirs, unparsed, blocks, archives, output_path, context, finish)
            worker = mp.Process(target=_work, args=args, daemon=True)
            worker.start()
            theirs.close()
            workers.append((worker, ours))
        packages = counted(len(unparsed), "package")
        processes = counted(len(workers), "process", "processes")
        line.set(f"parsing {packages} in {processes}")
        summaries = _hand_out([conn for _, conn in workers], order)
        ordered = [summaries[p.import_path] for p in unparsed if p.import_path in summaries]
        missing = types_to_size(ordered, known)
        line.set(f"sizing {counted(len(missing), 'type')} of other packages")
        foreign = size_foreign(sorted(missing)) if missing else {}
        types = final_types({**known, **foreign}, ordered)
        for _, conn in workers:
            conn.send(types)
        line.set(f"finishing {packages} in {processes}")
        finished: dict[str, _Kept] = {}
        for kind, value in _each([conn for _, conn in workers]):
            if kind == "results":
                finished.update(value)
        # The results (std: millions of objects, and almost no cycles) live until the
        # report is written: the collector need not walk them at every collection of
        # the report's own objects. Python's default threshold (a library caller, the
        # benchmarks' child) made that ~1.5 s of std's report; the CLI's, less.
        gc.freeze()
        done = True
        return finished
    finally:
        for worker, conn in workers:
            conn.close()
            worker.join(timeout=5 if done else 0)  # done: each is exiting
            if worker.is_alive():
                worker.kill()
                worker.join()


def _hand_out(conns: list[Connection], order: list[int]) -> dict[str, Any]:
    """Give each parsing process the next package of `order` (indices of the packages)
    whenever it asks, until none is left; then their summaries, once all sent them.

    Handed out as the processes ask, the heaviest first, the processes finish together
    whatever each package costs per byte and however the machine shares its cores (a
    split decided beforehand by bytes left one idle for seconds on std)."""
    left = list(reversed(order))  # (popped from the end)
    summaries: dict[str, Any] = {}
    asking = list(conns)
    while asking:
        for ready in connection.wait(asking):
            assert isinstance(ready, Connection)
            kind, value = _message(ready)
            if kind == "next":
                ready.send(left.pop() if left else None)
            else:
                summaries.update(value)
                asking.remove(ready)
    return summaries


def _each(conns: list[Connection]) -> Iterator[tuple[str, Any]]:
    """Each process's messages until it says "stored" (its last), as they come."""
    waiting = list(conns)
    while waiting:
        for ready in connection.wait(waiting):
            assert isinstance(ready, Connection)
            kind, value = _message(ready)
            if kind == "stored":
                waiting.remove(ready)
            yield kind, value


def _message(conn: Connection) -> tuple[str, Any]:
    # Unpickling makes hundreds of thousands of records that all live on: the cycle
    # collector would walk the growing heap again and again for nothing meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        kind, value = conn.recv()
    except (EOFError, OSError) as exc:
        raise ToolchainError("a parsing process ended unexpectedly") from exc
    finally:
        if collecting:
            gc.enable()
    if kind == "error":
        raise ToolchainError(f"a parsing process failed: {value}")
    return kind, value


def _work(
    conn: Connection,
    packages: Sequence[ListedPackage],
    blocks: Mapping[str, list[tuple[int, int]]],
    archives: Mapping[str, str],
    output_path: str,
    context: resultcache.Context,
    finish: Callable[[GoToolchain, PackageOutput], Any],
) -> None:
    """A worker: parse the blocks of the packages it is handed (indices into `packages`)
    until it is handed None, send the summaries, get the types, store and send the
    results."""
    gc.freeze()  # what the parent had made stays: the collector need not walk it here
    # Nor what this process makes: records that all live until they are sent, and
    # nearly no reference cycles (a few dozen objects per package), which are freed when
    # the process exits. With the collector on, whatever threshold the parent set (the
    # CLI's, or Python's default for a library caller), it walks the growing heap again
    # and again: a sixth to a quarter of std's parsing CPU.
    gc.disable()
    try:
        parser = BuildParser(
            (),
            Positions(context.workdir, context.root, context.toolchain.goroot),
            tests=context.tests,
            archives=archives,
            goroot=context.toolchain.goroot,
            goarch=context.toolchain.goarch,
        )
        listed_as = {}
        while True:
            conn.send(("next", None))
            index = conn.recv()
            if index is None:
                break
            listed = packages[index]
            listed_as[listed.import_path] = listed
            parser.add(listed)
            for start, end in blocks.get(listed.import_path, ()):
                for batch in read_batches(output_path, start=start, end=end):
                    parser.feed_all(batch)
        conn.send(("summaries", parser.summaries()))
        types = conn.recv()
        results = {}
        for output in parser.outputs_with(types):
            results[output.import_path] = finish(context.toolchain, output)
        conn.send(("results", results))
        # Stored once sent: the parent unpickles the results meanwhile (it waits for
        # this before it returns, so every entry is written when the build is done).
        for path, kept in results.items():
            resultcache.store(context, listed_as[path], kept, parser.states[path].probes)
        conn.send(("stored", None))
    except (EOFError, BrokenPipeError):
        pass  # the parent gave up (an error, an interrupt): nothing to say
    except Exception:  # reported to the parent, which raises it
        conn.send(("error", traceback.format_exc().strip().splitlines()[-1]))
    finally:
        conn.close()


def _blocks(path: str, packages: set[str]) -> dict[str, list[tuple[int, int]]]:
    """Per target package, the byte ranges of the blocks whose header names it (a test
    variant's too: the worker's BuildParser decides which it keeps, as the serial one).

    The file is mapped and searched in place for the headers' `#`, a byte that is rare
    in the output (std: one in 30 000) and found with memchr: much faster than reading
    it and searching for `\n# `, whose newline starts every line (std's 824 MB: 1.15 s
    -> 0.10 s of CPU, which the workers wait for). Each window searched is dropped
    from this process's memory (`MADV_DONTNEED`: the pages stay in the page cache), so
    the mapping never counts more than one window in its peak."""
    starts: list[tuple[int, str]] = []
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size == 0:
            return {}
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if data[:2] == b"# ":
                starts += _header(data, 0)
            for window in range(0, size, _WINDOW):
                window_end = min(size, window + _WINDOW)
                at = data.find(b"#", max(1, window), window_end)
                while at >= 0:
                    if data[at - 1] == _NEWLINE and data[at + 1 : at + 2] == b" ":
                        starts += _header(data, at)
                    at = data.find(b"#", at + 1, window_end)
                data.madvise(mmap.MADV_DONTNEED, window, window_end - window)
    ranges: dict[str, list[tuple[int, int]]] = {}
    for index, (start, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else size
        if name in packages:
            ranges.setdefault(name, []).append((start, end))
    return ranges


def largest_block(path: str, packages: set[str]) -> tuple[int, int] | None:
    """The byte range of the largest block of `packages` (toolchain/halves.py)."""
    ranges = [r for found in _blocks(path, packages).values() for r in found]
    return max(ranges, key=lambda r: (r[1] - r[0], -r[0])) if ranges else None


def _header(data: mmap.mmap, at: int) -> list[tuple[int, str]]:
    """[(at, the package)] if the line at `at` is a block's header (a test variant's,
    `pkg_test [pkg.test]`, under `pkg`); an unfinished last line is none."""
    end = data.find(b"\n", at)
    header = _HEADER.fullmatch(data, at, end) if end >= 0 else None
    if header is None:
        return []
    name = header.group(1).decode("utf-8", "replace")
    return [(at, name.removesuffix("_test") if header.group(2) is not None else name)]


def _heaviest_first(
    packages: Sequence[ListedPackage], blocks: Mapping[str, list[tuple[int, int]]]
) -> list[int]:
    """The indices of `packages`, the most output first (ties in the given order): the
    largest are started first, so that no large one is left for the end."""
    weight = [sum(e - s for s, e in blocks.get(p.import_path, ())) for p in packages]
    return sorted(range(len(packages)), key=lambda index: -weight[index])
