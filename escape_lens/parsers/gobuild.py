"""The compiler output of one `go list -export -gcflags='-m=2 -S'`, split per package.

The go command prints each compile's output as one block after a header line
`# import/path` (`# import/path [pkg.test]` for a test variant, `# pkg_test [pkg.test]`
for external tests); lines before the first header are the go command's own. A block is
routed to the parsers of its target package: `file.go:L:C: ...` lines to the escape
parser, everything else to the assembly parser. Compile errors are not parsed from here:
go list reports them per package in its listing (toolchain/build.py).

Where inlined code was called from comes from the compiled archive of the block's
package (`archives`, parsers/goobj.py), or from `-d=pctab=pctoinline` tables in the
output itself (captured fixtures), or, lacking both, from the `-m` inliner lines.

`BuildParser` holds no process: `toolchain.build` feeds it the build's output, the unit
tests feed it captured output, and both get the same PackageOutputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from escape_lens.gonames import component_types
from escape_lens.parsers.asm import AsmParser, ListedFunctions, next_untabbed
from escape_lens.parsers.descriptors import Descriptors
from escape_lens.parsers.escape import (
    UNPLACED_FILE,
    UNPLACED_STARTS,
    EscapeParser,
    split_pos_line,
)
from escape_lens.parsers.positions import Positions, Probe
from escape_lens.parsers.registers import for_goarch
from escape_lens.records import (
    AllocCall,
    EscapeDiagnostic,
    FunctionSpan,
    ListedPackage,
    PackageOutput,
    SourcePos,
    TypeInfo,
)

# A statement that makes a type of its own package by its name: `make(Fields, 6)`,
# `Set{}`, `Set{...}` (a defined map's, or a struct's boxed).
_DEFINED_MAKE = re.compile(
    r"^(?:make\((?P<made>[A-Za-z_]\w*)(?:, [^()]+)?\)|(?P<literal>[A-Za-z_]\w*)\{(?:\.\.\.)?\})$"
)
HEADER_RE = re.compile(r"^# (?P<path>\S+)(?: \[(?P<variant>\S+)\])?$")
# How the lines of the inlining tables start (`funcpctab`, ` pc value`, `wrote`, tree
# nodes `0 | -1 | ...`, `-- inlining tree`, `--`); `-m` lines mostly start with `.` or `/`.
_TABLES_FIRST = frozenset(" -fw0123456789")
# Lines that may be something else than `-m` lines at a position: tables, headers, the
# listing's tab lines and the empty line.
_NOT_ESCAPE_FIRST = _TABLES_FIRST | {"#", "", "\t"}


@dataclass(slots=True)
class _PackageState:
    """The parsers of one target package while its output is read."""

    listed: ListedPackage
    escape: EscapeParser
    asm: AsmParser
    diagnostics: list[EscapeDiagnostic] = field(default_factory=list)
    seen: bool = False
    # What the file system was asked while this package's blocks were read (positions.py).
    probes: list[Probe] = field(default_factory=list)

    def sized_types(self) -> set[str]:
        """Types the calls need sizes for: the ones passed, and map/chan components."""
        names = self.asm.type_refs() | self.asm.container_part_refs()
        return names | {part for name in names for part in component_types(name)}

    def container_refs(self) -> set[str]:
        """Defined map and channel types whose key and element the calls need: the ones
        makemap/makechan are passed, and this package's types that a statement makes by
        name (`make(Fields, 6)`, `Set{}`: makemap_small is passed no type)."""
        prefix = self.listed.symbol_prefix
        named = (_DEFINED_MAKE.match(diagnostic.subject) for diagnostic in self.diagnostics)
        return self.asm.defined_container_refs() | {
            f"{prefix}.{found['made'] or found['literal']}" for found in named if found
        }


class BuildParser:
    """Routes a build's output lines to per-package parsers; see the module docstring."""

    def __init__(
        self,
        packages: Sequence[ListedPackage],
        positions: Positions,
        *,
        tests: bool = False,
        archives: Mapping[str, str] | None = None,
        goroot: str = "",
        goarch: str = "amd64",
    ) -> None:
        self.tests = tests
        self.positions = positions
        self.archives = dict(archives or {})
        self.goroot = goroot
        self.goarch = goarch
        self.states: dict[str, _PackageState] = {}
        for package in packages:
            self.add(package)
        self._current: _PackageState | None = None

    def add(self, package: ListedPackage) -> None:
        """Parse the blocks of `package` too (a parsing process is handed its packages
        one at a time, toolchain/parallel.py); a package that failed has none."""
        if package.error is None:
            self.states[package.import_path] = _PackageState(
                package,
                EscapeParser(self.positions),
                AsmParser(
                    self.positions,
                    package.import_path,
                    package.symbol_prefix,
                    for_goarch(self.goarch),
                ),
            )

    def feed(self, line: str) -> None:
        current = self._current
        if current is not None and line[:1] == "\t":
            current.asm.feed(line)  # the bulk of the output: instructions and hex dumps
            return
        header = HEADER_RE.match(line) if line[:2] == "# " else None
        if header is not None:
            self._close_block()
            self._current = self._route(header)
            return
        if current is None:
            return  # go's own lines (read by toolchain/build.py), or another package's
        if line[:1] not in _TABLES_FIRST or not current.asm.inline.feed(line):
            _feed_block_line(current, line)

    def _close_block(self) -> None:
        """End of a package's block: finish what can be finished, drop the instructions."""
        state = self._current
        if state is not None:
            state.asm.close(*state.escape.take_inliner_lines())
            state.diagnostics.extend(state.escape.finish())
            state.probes.extend(self.positions.probes)
            self._current = None

    def feed_all(self, lines: Iterable[str]) -> None:
        """`feed` for many lines, the bulk kinds in runs without a call per line:
        instructions and hex dumps (tab), the inlining tables' instruction lines (space),
        a block's `-m` lines, and the blocks of packages that are not targets (up to the
        next `# ` header). A symbol's header and the hex dump it is not read for are one
        step."""
        batch = lines if isinstance(lines, list) else list(lines)
        feed = self.feed
        index, end = 0, len(batch)
        while index < end:
            line = batch[index]
            current = self._current  # only `feed` changes blocks, at a `# ` line
            if current is None or line[:2] == "# ":
                if current is None and line[:2] != "# ":
                    index = _next_header(batch, index + 1)  # `feed` would drop them all
                else:
                    feed(line)
                    index += 1
                continue
            first = line[:1]
            asm = current.asm
            if first == "\t":  # instructions, or hex dumps and relocations to skip
                if asm.wants_tab_lines:
                    index = asm.feed_tab_lines(batch, index)
                else:
                    index = next_untabbed(batch, index + 1)
            elif first == " " and asm.inline.in_table:
                index = asm.inline.feed_table_lines(batch, index)
            elif first in _NOT_ESCAPE_FIRST:  # the tables', or as `feed` does
                if first not in _TABLES_FIRST or not asm.inline.feed(line):
                    _feed_block_line(current, line)
                index += 1
            elif line.startswith(UNPLACED_STARTS) or " capturing by ref: #" in line:
                _feed_block_line(current, line)
                index += 1
            elif ".go:" not in line:  # not at a position: the listing's, mostly a header
                asm.feed(line)
                index = index + 1 if asm.wants_tab_lines else next_untabbed(batch, index + 1)
            else:  # a run of -m lines
                taken = current.escape.feed_lines(
                    batch, index, current.diagnostics, _NOT_ESCAPE_FIRST
                )
                if taken == index:  # (not at a position after all: `_feed_block_line`)
                    asm.feed(line)
                    taken += 1
                index = taken

    # Reading a block's listing in two processes (toolchain/halves.py).

    def listing_mark(self) -> ListingMark | None:
        """Where this parser stands in the block being read; None outside a target's."""
        state = self._current
        if state is None:
            return None
        asm = state.asm
        return ListingMark(
            state.listed.import_path,
            self.positions.epoch,
            len(self.positions.probes),
            asm.function_count,
            asm.text_symbols,
            asm.inline.is_empty(),
            self.positions.relative_names,
        )

    def refuse_all_but_listing(self) -> None:
        """From now on, an `-m` line in the block raises NotListing (the process reading
        part of a listing sends back functions and descriptors, nothing else)."""
        if self._current is not None:
            self._current.escape = _ListingOnly(self.positions)

    def listing_part(self, mark: ListingMark) -> ListingPart:
        """What was read of the block's listing since `mark` (the block has ended)."""
        state = self._current
        if state is None or state.listed.import_path != mark.package:
            raise NotListing("another block")
        if not mark.no_tables or not state.asm.inline.is_empty():
            raise NotListing("inlining tables")
        if self.positions.relative_names != mark.relative_names:
            # (what a relative name resolves to depends on lines read elsewhere)
            raise NotListing("a relative file name")
        listed = state.asm.listed_since(mark.functions, mark.text_symbols)
        return ListingPart(mark.package, listed, self.positions.probes[mark.probes :])

    def listing_moved_since(self, mark: ListingMark) -> bool:
        """Whether file names map otherwise than at `mark`: a moved directory learnt,
        which the lines after it would have been read with."""
        return self.positions.epoch != mark.epoch

    def adopt_listing(self, part: ListingPart) -> None:
        """Take `part`, read elsewhere from a symbol header on, as the rest of the block
        being read (whose lines stopped right before that header)."""
        state = self._current
        if state is None or state.listed.import_path != part.package:
            raise ValueError(f"no block of {part.package} to adopt a listing into")
        state.asm.adopt(part.listed)
        asked = {(question, paths) for question, paths, _ in self.positions.probes}
        self.positions.probes.extend(p for p in part.probes if (p[0], p[1]) not in asked)

    def _route(self, header: re.Match[str]) -> _PackageState | None:
        """Which package's parsers the block after a `# pkg` header goes to, if any.

        With --tests a package with internal tests is compiled as `pkg [pkg.test]` (with
        them), external tests as `pkg_test [pkg.test]`; a package may also be compiled
        plainly or as a variant for another package's test when a target imports it. Only
        the block that has the package's own test files is kept (the plain one when it
        has no internal tests), so nothing is counted twice. The generated
        test main (`# pkg.test`) is nobody's.
        """
        path, variant = header.group("path"), header.group("variant")
        external = bool(variant) and path.endswith("_test")
        package = path.removesuffix("_test") if external else path
        state = self.states.get(package)
        if state is None:
            return None
        own_variant = f"{package}.test"
        if external:
            wanted = self.tests and variant == own_variant
        elif self.tests and state.listed.has_tests:
            wanted = variant == own_variant  # the package compiled with its _test.go files
        else:
            wanted = variant is None
        if not wanted:
            return None
        state.seen = True
        self.positions.enter_package(state.listed.dir)
        archive = self.archives.get(header.group(0)[2:])
        if archive is not None:
            state.asm.use_archive(archive, self.goroot)
        prefix = state.listed.symbol_prefix
        state.escape.function_prefix = prefix + "_test" if external else prefix
        return state

    def listing_types(self) -> dict[str, TypeInfo]:
        """Every type descriptor the target packages' listings dumped."""
        known: dict[str, TypeInfo] = {}
        for state in self.states.values():
            known.update(state.asm.types)
        return known

    def sized_types(self) -> set[str]:
        """Every type name some allocation call needs a size for."""
        return {name for state in self.states.values() for name in state.sized_types()}

    def defined_containers(self) -> set[str]:
        """Defined map/channel types made by some call whose key and element no listing
        names (types of other packages; see AsmParser): typesizes reads them."""
        explained = {name for s in self.states.values() for name in s.asm.container_parts}
        return {
            name
            for s in self.states.values()
            for name in s.container_refs()
            if name not in explained
        }

    def outputs(self, types: Mapping[str, TypeInfo] | None = None) -> list[PackageOutput]:
        """One PackageOutput per package parsed, sorted by import path.

        `types` adds sizes found outside the listings (see toolchain/typesizes.py), and
        the key and element of defined map and channel types, which listings lack.
        """
        return self.outputs_with(final_types(types or {}, list(self.summaries().values())))

    def summaries(self) -> dict[str, ListingSummary]:
        """Per package (in the order given), what its listing says about types."""
        self._close_block()
        return {
            path: ListingSummary(
                dict(state.asm.types),
                dict(state.asm.container_parts),
                frozenset(state.sized_types()),
                frozenset(state.container_refs()),
                dict(state.asm.descriptors.struct_fields),
            )
            for path, state in self.states.items()
        }

    def outputs_with(self, known: Mapping[str, TypeInfo]) -> list[PackageOutput]:
        """`outputs`, given the types of the whole build (`final_types`): the packages of
        one build may be parsed by several BuildParsers (toolchain/parallel.py)."""
        self._close_block()
        outputs = [_package_output(state, dict(known)) for state in self.states.values()]
        return sorted(outputs, key=lambda o: o.import_path)


@dataclass(frozen=True, slots=True)
class ListingSummary:
    """What one package's listing says about types: all that sizing the calls of a build
    needs from it (a parsing process sends it to the one that sizes, parallel.py)."""

    types: dict[str, TypeInfo]
    container_parts: dict[str, tuple[str | None, str | None]]
    sized: frozenset[str]
    container_refs: frozenset[str]
    struct_fields: dict[str, list[tuple[str, str]]]

    def container_types(self, known: dict[str, TypeInfo]) -> dict[str, TypeInfo]:
        # The listing's own method, on the two fields it reads.
        return Descriptors.container_types(self, known)  # type: ignore[arg-type]

    def struct_types(self, known: dict[str, TypeInfo]) -> dict[str, TypeInfo]:
        # The listing's own method, on the two fields it reads.
        return Descriptors.struct_types(self, known)  # type: ignore[arg-type]


class NotListing(Exception):
    """A line other than the listing's where only the listing's were expected."""


@dataclass(frozen=True, slots=True)
class ListingMark:
    """BuildParser.listing_mark: the block's package, Positions' epoch and probes, the
    listing's functions and text symbols so far, whether no inlining table was read,
    how many relative names Positions resolved."""

    package: str
    epoch: int
    probes: int
    functions: int
    text_symbols: int
    no_tables: bool
    relative_names: int


@dataclass(frozen=True, slots=True)
class ListingPart:
    """What a process read of a block's listing, and asked the file system meanwhile."""

    package: str
    listed: ListedFunctions
    probes: list[Probe]


class _ListingOnly(EscapeParser):
    """The escape parser of a block whose listing alone is being read: a line at a
    position, or one the `-m` output has without, is NotListing."""

    def feed_line(self, line: str) -> list[EscapeDiagnostic] | None:
        if split_pos_line(line) is None:
            return None  # (the listing's: the build's loop hands it on to the parser)
        raise NotListing(line[:80])

    def feed_lines(
        self, lines: list[str], start: int, found: list[EscapeDiagnostic], stop: frozenset[str]
    ) -> int:
        self.feed_line(lines[start])
        return start

    def unplaced(self, line: str) -> list[EscapeDiagnostic]:
        raise NotListing(line[:80])

    def captured(self, line: str) -> bool:
        raise NotListing(line[:80])


def final_types(
    types: Mapping[str, TypeInfo], summaries: Sequence[ListingSummary]
) -> dict[str, TypeInfo]:
    """The sizes every call of a build is resolved with: `types` (from outside the
    listings), every listing's descriptors, defined maps and channels with their parts.
    Order matters and is the packages': a package may make another's defined map."""
    known = dict(types)
    for summary in summaries:
        known.update(summary.types)
    known.update((n, t) for n, t in types.items() if t.key or t.elem)
    for summary in summaries:
        known.update(summary.container_types(known))
    for summary in summaries:
        known.update(summary.struct_types(known))
    return known


def types_to_size(summaries: Sequence[ListingSummary], known: Mapping[str, TypeInfo]) -> set[str]:
    """The types some call needs that no listing sized and `known` lacks, and the defined
    containers whose parts no listing names: what typesizes is asked for."""
    listed = {name for summary in summaries for name in summary.types}
    missing = {name for s in summaries for name in s.sized} - listed - set(known)
    explained = {name for summary in summaries for name in summary.container_parts}
    return missing | {name for s in summaries for name in s.container_refs if name not in explained}


def _feed_block_line(state: _PackageState, line: str) -> None:
    """A line of a target's block that is neither a header, an instruction nor a line of
    the inlining tables: `-m` (at a position) or the listing's."""
    if line.startswith(UNPLACED_STARTS):
        state.diagnostics.extend(state.escape.unplaced(line))
        return
    if " capturing by ref: #" in line and state.escape.captured(line):
        return
    found = state.escape.feed_line(line)
    if found is None:
        state.asm.feed(line)
    elif found:
        state.diagnostics.extend(found)


def _next_header(lines: list[str], start: int) -> int:
    """The index of the first line from `start` on that may be a block's header."""
    for index in range(start, len(lines)):
        if lines[index][:2] == "# ":
            return index
    return len(lines)


def _package_output(state: _PackageState, known: dict[str, TypeInfo]) -> PackageOutput:
    spans, calls = state.asm.resolved(known)
    by_file: dict[str, list[FunctionSpan]] = {}
    for span in spans:
        by_file.setdefault(span.file, []).append(span)
    firsts = {span.name: SourcePos(span.file, span.first_line, 0) for span in spans}
    diagnostics = [
        _with_function(d, by_file.get(d.pos.file, ())) for d in _placed(state.diagnostics, firsts)
    ]
    types = dict(state.asm.types)
    types.update(
        (name, known[name]) for name in state.asm.descriptors.struct_fields if name in known
    )
    for name in state.sized_types() | state.container_refs():
        if name in known and (name not in types or known[name].key or known[name].elem):
            types[name] = known[name]
    types.update((name, known[name]) for name in state.asm.container_parts if name in known)
    return PackageOutput(
        import_path=state.listed.import_path,
        dir=state.listed.dir,
        diagnostics=tuple(sorted(diagnostics, key=_diagnostic_key)),
        calls=tuple(sorted(calls, key=_call_key)),
        functions=tuple(sorted(spans, key=lambda f: (f.file, f.first_line, f.name))),
        types=tuple(sorted(types.values(), key=lambda t: t.name)),
    )


def _placed(
    diagnostics: Iterable[EscapeDiagnostic], firsts: dict[str, SourcePos]
) -> list[EscapeDiagnostic]:
    """The diagnostics, those without a position at their function's first line (col
    0); one whose function has no code here is dropped, as the compiler gave no place."""
    placed = []
    for d in diagnostics:
        if d.pos.file == UNPLACED_FILE:
            first = firsts.get(d.function)
            if first is None:
                continue
            d = replace(d, pos=first)
        placed.append(d)
    return placed


def _made_around(subject: str) -> bool:
    return subject == "func literal" or subject.startswith("#state")


def _with_function(diagnostic: EscapeDiagnostic, spans: Sequence[FunctionSpan]) -> EscapeDiagnostic:
    """The innermost of `spans` (those of the diagnostic's file) that holds it, if unsaid."""
    if diagnostic.function:
        return diagnostic
    pos = diagnostic.pos
    holding = [
        span
        for span in spans
        if span.first_line <= pos.line <= span.last_line
        # A func literal is made by the function around it, not by the closure itself;
        # so is a range-over-func loop's state, at the loop body's (go1.24 names no
        # function for it).
        and not (_made_around(diagnostic.subject) and span.first_line == pos.line)
    ]
    best = min(holding, key=lambda s: (s.last_line - s.first_line, s.name), default=None)
    if best is None:
        return diagnostic
    return EscapeDiagnostic(
        pos, diagnostic.kind, diagnostic.subject, diagnostic.message, diagnostic.flow, best.name
    )


# Sort keys with a position's fields in its place: the same order as with the SourcePos
# (which orders by them), without a call of its `__lt__` per comparison.


def _diagnostic_key(d: EscapeDiagnostic) -> tuple[object, ...]:
    pos = d.pos
    return (pos.file, pos.line, pos.col, d.kind, d.subject, d.message, d.function)


def _call_key(c: AllocCall) -> tuple[object, ...]:
    pos = c.pos
    return (pos.file, pos.line, pos.col, c.function)
