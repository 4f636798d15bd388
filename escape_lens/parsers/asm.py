"""Functions, allocation calls and type descriptors from the compiler's `-S` listing.

The listing loop: text symbols (`pkg.F STEXT size=...`) and their instructions, data
symbols (type descriptors, read by parsers/descriptors.py). The format, and what a
call's straight line is: docs/parsers.md#the-assembly-listing.

Invariants:
- The runtime entry points that allocate are data, in `escape_lens.entries` (shared
  with binary mode and the join); nothing else decides what an allocation call is.
- A call's type and count are what every path into it puts in the entry's argument
  registers (parsers/registers.py, parsers/straightline.py), interpreted when the
  function's listing ends (branch targets are known only then); a type loaded from a
  generic dictionary is None, never a guess.
- A call's `pos` is where `-S` puts the instruction (for inlined code, the callee's
  line); its `call_pos`, the call in the function that was inlined, comes from the
  compiler's inline trees: the archive's (`ArchiveInlineTables`, parsers/goobj.py; the
  column from the -m `inlining call to` line there), printed ones in captured output
  (`InlineTables`), else a guess (`InlinerGuess`, parsers/inltree.py). They are what
  the linker writes into `.gopclntab`, so source and binary mode agree.
- A function's span is its own file, from its TEXT line to that file's last instruction
  line before the next function declared after it in the file.
- Memory stays proportional to what is kept, not to the listing; where a batch of lines
  is cut does not change the result.
One incremental parser, longer than most modules: its hot loop and the state of the
function being listed belong together.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from escape_lens.entries import EntrySpec, alloc_entry
from escape_lens.gonames import is_closure, spells_container, without_inline_hash
from escape_lens.parsers import goobj
from escape_lens.parsers.boxedtype import AFTER_LINES, boxed_type
from escape_lens.parsers.descriptors import TYPE_PREFIXES, Descriptors
from escape_lens.parsers.escape import FuncDecl, InlineCall
from escape_lens.parsers.inltree import (
    ArchiveInlineTables,
    FunctionRef,
    InlinerGuess,
    InlineSource,
    InlineTables,
)
from escape_lens.parsers.positions import UNKNOWN_LINE, Positions
from escape_lens.parsers.registers import AMD64, Architecture
from escape_lens.parsers.staticboxes import placed
from escape_lens.parsers.straightline import (
    WINDOW,
    Window,
    jump_counts,
    jumps_through_register,
    static_boxes,
    static_data,
    straight_line,
)
from escape_lens.records import AllocCall, FunctionSpan, SourcePos, TypeInfo

# A symbol's header, `pkg.F STEXT size=120 args=...`, `type:T SRODATA ...`;
# `split_symbol` is this without trying the kind after each character of the name.
SYMBOL_RE = re.compile(r"^(?P<name>[^\t].*?) (?P<kind>S[A-Z]+)(?: |$)")
_KIND = re.compile(r"(S[A-Z]+)(?: |$)")
_SIZE = re.compile(r" size=(\d+)")
_COMMON_KINDS = frozenset({"STEXT", "SRODATA", "SDWARFABSFCN", "SDATA", "SNOPTRDATA", "SBSS"})
# An instruction line, `\t0x0013 00019 (/abs/main.go:14)\tLEAQ ...` (not a hex dump's).
_INSTRUCTION = re.compile(r"\t0x[0-9a-f]+ \d+ \(")
_WHERE_AT = len("\t0x0000 00000")  # the ` (` of an instruction below pc 0x10000


@lru_cache(maxsize=1 << 12)  # a package has thousands of CALLs to a few hundred functions
def _call_entry(operand: str) -> tuple[str, EntrySpec] | None:
    """What `alloc_entry` says about the function a CALL's operand (`f(SB)`) names."""
    return alloc_entry(operand[: -len("(SB)")]) if operand.endswith("(SB)") else None


_NO_PREFIX = "\n"  # no position starts with it


def _own_prefix(positions: Positions, where: str, own_file: str) -> tuple[str, int]:
    """(`name:`, epoch) for the function's own file from its TEXT instruction's `where`.

    While Positions keeps mapping that name the same (`stable_file`, same epoch), a
    position `name:123` is the own file's line 123 without asking Positions: exactly
    what `listing_line` would say, as `name:` has the last colon. Otherwise (a name it
    does not memoise, no file) no prefix.
    """
    name = where.rpartition(":")[0]
    if own_file and positions.stable_file(name) == own_file:
        return name + ":", positions.epoch
    return _NO_PREFIX, positions.epoch


def _text_instruction(function: _Function, pos: tuple[str, int], where: str, text: str) -> None:
    """The function's TEXT instruction, `TEXT\tpkg.F(SB), ABIInternal, $16-8`: its file,
    first line and ABI."""
    function.file, function.first_line = pos
    function.text_where = where
    function.abi = goobj.text_abi(text.partition(", ")[2].partition(",")[0])


@dataclass(slots=True)
class _PendingCall:
    pos: SourcePos
    entry: str
    spec: EntrySpec
    target: str  # the CALL's operand, `runtime.newobject(SB)`
    window: Window | None  # the instruction lines since the previous CALL, until settled
    own_lines: int  # how many own-file lines the function had run before this call
    pc: int  # the CALL's offset in the function, which the inlining tables are keyed by
    # Set when the function's listing is complete (`AsmParser._settle`):
    type_name: str | None = None
    count: int | None = None
    asm: tuple[str, ...] = ()
    static_boxes: int = 0
    hoisted_boxes: bool = False
    boxed: str | None = None
    after: list[str] = field(default_factory=list)  # convT calls: the next instructions


# The write barrier's entry points keep every register but their scratch one
# (runtime/asm_amd64.s gcWriteBarrier): the straight line before a call runs on past them.
_WRITE_BARRIER = "runtime.gcWriteBarrier"


@dataclass(slots=True)
class _Function:
    name: str
    file: str = ""
    first_line: int = 0
    text_where: str = ""  # `/abs/file.go:12` of the TEXT instruction, as printed
    abi: str = ""  # `ABIInternal` or `ABI0`, from the TEXT instruction
    size: int | None = None  # `STEXT size=`: tells go1.27's inlined closure copies apart
    lines: list[int] = field(default_factory=list)
    calls: list[_PendingCall] = field(default_factory=list)
    # The branches (`J...` lines), read for their targets only if a call needs them.
    jumps: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ListedFunctions:
    """What an AsmParser read of a listing from a symbol's header on: the functions, their
    calls interpreted, and the type descriptors; what another process reading part of
    the listing sends back (toolchain/halves.py, `AsmParser.adopt`)."""

    functions: list[_Function]
    text_symbols: int
    types: dict[str, TypeInfo]
    container_parts: dict[str, tuple[str | None, str | None]]
    struct_fields: dict[str, list[tuple[str, str]]]


class AsmParser:
    """Incremental parser for one package's `-S` lines (see the module docstring)."""

    def __init__(
        self,
        positions: Positions,
        package: str,
        symbol_package: str = "",
        architecture: Architecture = AMD64,
    ) -> None:
        self.positions = positions
        self.architecture = architecture
        self.package = package
        # What `""` in old symbol names stands for (`"".f`, before go1.20).
        self.symbol_package = symbol_package or package
        self.inline = InlineTables(positions, self.symbol_package)
        self.inline_source: InlineSource = self.inline
        # Whether the next tab-indented lines can matter: a function's instructions or a
        # type descriptor's first hex line (the build's line loop skips the others).
        self.wants_tab_lines = False
        self.descriptors = Descriptors()
        # (the descriptors' own dicts, which they fill in place)
        self.types: dict[str, TypeInfo] = self.descriptors.types
        self.container_parts = self.descriptors.container_parts
        self.text_symbols = 0
        self._functions: list[_Function] = []
        # convT calls whose next instructions a batch's end cut short (several when
        # two are within AFTER_LINES of the end): the next batch tops each up.
        self._short_after: list[_PendingCall] = []
        self._closed_spans: list[FunctionSpan] = []
        self._closed_calls: list[tuple[AllocCall, str | None]] = []
        self._function: _Function | None = None
        self._in_descriptor = False
        # Instructions since the last CALL (registers do not survive a call); bounded so a
        # long call-free stretch cannot grow it: argument set-up is right before a call.
        self._window: deque[str] = deque(maxlen=WINDOW)
        self._where_text = ""
        self._where: tuple[str, int] | None = None
        self._same_at = _WHERE_AT  # where the last instruction's ` (` was
        # `file:` of the function's TEXT instruction as printed, while Positions maps that
        # name as it did then (`_own_prefix`).
        self._own_prefix = _NO_PREFIX
        self._own_epoch = -1

    def feed(self, line: str) -> None:
        if line[:1] == "\t":
            self.feed_tab_lines([line], 0)
            return
        inline = self.inline
        if (line[:1] in "f-w" or inline.expects_lines) and inline.feed(line):
            return
        symbol = split_symbol(line)
        if symbol is None:
            return
        name = symbol[0]
        if '"".' in name:
            name = name.replace('"".', self.symbol_package + ".")
        self._short_after = []  # its instructions have ended
        if self._function is not None:  # its listing is complete
            self._settle()
            self._function.jumps = []
        self._function = None
        self._in_descriptor = False
        self.wants_tab_lines = False
        if symbol[1].startswith("STEXT"):  # STEXTFIPS in crypto/internal/fips140
            self.text_symbols += 1
            size = _SIZE.search(line)
            self._function = _Function(name, size=int(size.group(1)) if size else None)
            self._functions.append(self._function)
            self.wants_tab_lines = True
            self._window.clear()
            self._where_text = ""
            self._same_at = _WHERE_AT
            self._own_prefix = _NO_PREFIX
        elif name[:5] in TYPE_PREFIXES and name[5:6] != ".":  # (both prefixes have 5)
            self.descriptors.start(name[5:])
            self._in_descriptor = True
            self.wants_tab_lines = True

    def feed_tab_lines(self, lines: list[str], start: int) -> int:
        """`feed` for the tab-indented lines from `lines[start]` on; the index of the first
        line that does not start with a tab (not fed), `len(lines)` when they all do.

        One call per run of lines, and a function's instructions in one tight loop
        (`_instructions`): a large package has hundreds of thousands of them. Other tab
        lines (hex dumps, `rel` lines) are only skipped, but for a type descriptor's first.
        """
        index, end = start, len(lines)
        while index < end and lines[index][:1] == "\t":
            function = self._function
            if not self.wants_tab_lines:
                index = next_untabbed(lines, index + 1)
            elif function is not None:
                index = self._instructions(function, lines, index)
            else:
                if self._in_descriptor and not self.descriptors.feed(lines[index]):
                    self._end_descriptor()
                index += 1
        return index

    def _instructions(self, function: _Function, lines: list[str], start: int) -> int:
        """The instruction lines from `lines[start]` on; this is the hot path.

        `\t0x0013 00019 (/abs/main.go:14)\tLEAQ\ttype:main.T(SB), BX`. Most lines need
        nothing: consecutive instructions mostly share a position, and only a CALL or a
        branch (`J...`) is looked at. So a line is first checked with one `startswith`: if
        it has the previous instruction's `" (" + where + ")\t"` at the same offset, its
        position is the same (the compiler's `\t%#04x %05d ` before it has no ` (`, and
        where has no `)\t`), and then only its first letter is read. Any other line takes
        the full path, which is the one rule for all lines: `where` is the text between
        the first ` (` (within the first 32 characters) and the first `)\t` after it.

        A change of position is mostly to a line of the function's own file, which
        `_own_prefix` reads without asking Positions; others are memoised there.

        The instructions since the last CALL are not copied: a call that turns out to be
        an allocation (rare) keeps a `Window` onto `lines`, read when it is interpreted
        (`_settle`); what a run that goes on in the next batch of lines has since the last
        CALL is carried over in `self._window`. Branches are kept as text and read for
        their targets only by `_settle`, for a function with allocation calls.

        Stops after the first tab line that is not an instruction (the hex dump, which
        ends the instructions: `wants_tab_lines` turns off) and returns the index after
        it, or at the first line without a tab, whose index it returns.
        """
        if self._short_after:  # convT calls at the end of the last batch
            self._short_after = [
                call for call in self._short_after if self._top_up_after(call, lines, start)
            ]
        positions = self.positions
        listing_line = positions.listing_line
        known_line = positions.listing_memo.get
        function_lines = function.lines
        last_line = function_lines[-1] if function_lines else None
        own_file = function.file
        own_prefix, own_epoch = self._own_prefix, self._own_epoch
        if positions.epoch != own_epoch:
            own_prefix = _NO_PREFIX
        jumps = function.jumps
        # First letters of branches besides `J`: arm64's `BEQ`, `BLS`, `TBZ` ("" on amd64);
        # its `CBZ`/`CBNZ` are told from CALL below.
        branch_letters = self.architecture.branch_letters
        carried = self._window
        where_text = self._where_text
        pos = self._where  # (file, line) of where_text
        at = self._same_at
        same = " (" + where_text + ")\t"
        op_at = at + len(same)
        since_call = start  # the first line of this batch after the last CALL
        stop = len(lines)  # where the loop stopped: the first line it did not take
        for index in range(start, len(lines)):
            line = lines[index]
            if line.startswith(same, at):  # the previous instruction's position
                try:
                    op = line[op_at]
                except IndexError:  # an empty instruction
                    continue
                if op != "C" and op != "J" and op not in branch_letters:
                    continue
            else:
                if line[:1] != "\t":
                    stop = index
                    break
                open_paren = line.find(" (", 7, 32)
                if open_paren < 0:  # the function's hex dump and relocations
                    self.wants_tab_lines = False
                    stop = index + 1
                    break
                close_paren = line.find(")\t", open_paren)
                if close_paren < 0:
                    continue
                at, op_at = open_paren, close_paren + 2
                same = line[at:op_at]
                where = line[at + 2 : close_paren]
                if where != where_text:
                    where_text = where
                    if (
                        where.startswith(own_prefix)
                        and (number := where[len(own_prefix) :]).isdigit()
                    ):  # a line of the function's own file, the commonest
                        pos = (own_file, int(number))
                        if pos[1] != last_line:
                            last_line = pos[1]
                            function_lines.append(last_line)
                    else:
                        pos = known_line(where, UNKNOWN_LINE)
                        if pos is UNKNOWN_LINE:
                            pos = listing_line(where)
                            if positions.epoch != own_epoch:  # (names map anew)
                                own_prefix = _NO_PREFIX
                        if pos is not None:
                            if not own_file and line.startswith("TEXT\t", op_at):
                                _text_instruction(function, pos, where, line[op_at:])
                                own_file = function.file
                                own_prefix, own_epoch = _own_prefix(positions, where, own_file)
                            if pos[0] == own_file and pos[1] != last_line:
                                last_line = pos[1]
                                function_lines.append(last_line)
                op = line[op_at : op_at + 1]
            if op == "C":
                if line.startswith("CALL\t", op_at):
                    operand = line[op_at + len("CALL\t") :]
                    found = _call_entry(operand)
                    if found is not None and pos is not None:
                        window = Window(tuple(carried), lines, since_call, index)
                        self._alloc_call(found, operand, SourcePos(*pos), line[1:at], window)
                        if found[0].startswith("convT"):
                            self._after_call(lines, index)
                    if not operand.startswith(_WRITE_BARRIER):
                        if carried:
                            carried.clear()
                        since_call = index + 1
                elif branch_letters and line.startswith("CB", op_at):
                    jumps.append(line[op_at:])
            elif op == "J" or op in branch_letters:  # `JGT\t66` (a pc in decimal), `JMP\tAX`
                jumps.append(line[op_at:])
        if self.wants_tab_lines:  # the run may go on: keep what the next CALL may need
            carried.extend(Window((), lines, since_call, stop).oldest_first())
        self._where_text, self._where, self._same_at = where_text, pos, at
        self._own_prefix, self._own_epoch = own_prefix, own_epoch
        return stop

    @property
    def function_count(self) -> int:
        """How many functions were read so far (`listed_since` takes the ones after)."""
        return len(self._functions)

    def listed_since(self, functions: int, text_symbols: int) -> ListedFunctions:
        """The functions read after the first `functions` (the listing has ended: the last
        one is interpreted) and the descriptors; `text_symbols` were counted before."""
        self._short_after = []
        self._settle()
        if self._function is not None:
            self._function.jumps = []
        return ListedFunctions(
            self._functions[functions:],
            self.text_symbols - text_symbols,
            self.types,
            self.container_parts,
            self.descriptors.struct_fields,
        )

    def adopt(self, listed: ListedFunctions) -> None:
        """Take what another parser read of this listing from the symbol header where this
        one's lines stopped, as if it had read those lines itself: the function being
        listed ends there (the header would end it) and the other's follow."""
        self._short_after = []
        self._settle()
        if self._function is not None:
            self._function.jumps = []
        self._function = None
        self._in_descriptor = False
        self.wants_tab_lines = False
        self._functions.extend(listed.functions)
        self.text_symbols += listed.text_symbols
        self.types.update(listed.types)
        self.container_parts.update(listed.container_parts)
        self.descriptors.struct_fields.update(listed.struct_fields)

    def type_refs(self) -> set[str]:
        """The names of all types passed to allocation calls in this listing."""
        self._settle()
        names = {name for _, name in self._closed_calls if name is not None}
        names.update(
            call.type_name
            for function in self._functions
            for call in function.calls
            if call.type_name is not None
        )
        return names

    def defined_container_refs(self) -> set[str]:
        """Defined map and channel types passed to makemap/makechan (`net/http.Header`):
        their names do not spell their key and element, which typesizes reads."""
        self._settle()
        pending = (
            (call.entry, call.type_name) for function in self._functions for call in function.calls
        )
        closed = ((call.entry, name) for call, name in self._closed_calls)
        return {
            name
            for entry, name in (*closed, *pending)
            if name is not None
            and entry.startswith(("makemap", "makechan"))
            and not spells_container(name)
        }

    def close(
        self, decls: Sequence[FuncDecl] = (), inline_calls: Sequence[InlineCall] = ()
    ) -> None:
        """Turn the functions read so far into spans and calls and drop their instructions.

        The build calls this at the end of each block, so a package's instruction lines
        are not kept while the rest of the output is read; `resolved` finishes the calls
        once types from elsewhere are known.
        """
        self._short_after = []  # the block's lines have ended
        self._settle()
        spans, calls = self.finish(decls, inline_calls)
        names = [
            pending.type_name
            for function in self._functions
            if function.file
            for pending in function.calls
        ]
        self._closed_spans.extend(spans)
        self._closed_calls.extend(zip(calls, names, strict=True))
        self._functions = []
        self.inline = InlineTables(self.positions, self.symbol_package)  # the block's own
        self.inline_source = self.inline

    def use_archive(self, archive: str, goroot: str) -> None:
        """Read the inlining trees of the block that follows from its compiled archive."""
        self.inline_source = ArchiveInlineTables(self.positions, archive, goroot)

    def container_types(self, types: dict[str, TypeInfo]) -> dict[str, TypeInfo]:
        """This listing's defined map and channel types with their key and element."""
        return self.descriptors.container_types(types)

    def container_part_refs(self) -> set[str]:
        """The key and element type names of this listing's defined containers."""
        return self.descriptors.container_part_refs()

    def resolved(self, types: dict[str, TypeInfo]) -> tuple[list[FunctionSpan], list[AllocCall]]:
        """The closed spans and calls, with types of other packages filled in, and
        defined maps and channels with their parts (`types` has them, see BuildParser)."""
        calls = [
            replace(call, type=types[name])
            if name is not None
            and name in types
            # The listing's own descriptor of a defined map/chan type lacks its parts, and
            # of a defined struct its sized fields.
            and (
                call.type is None
                or types[name].key is not None
                or types[name].elem is not None
                or bool(types[name].fields)
            )
            else call
            for call, name in self._closed_calls
        ]
        return list(self._closed_spans), calls

    def _end_descriptor(self) -> None:
        self._in_descriptor = False
        self.wants_tab_lines = False

    def _after_call(self, lines: list[str], index: int) -> None:
        """Keep the instructions right after a convT call (its interface type word);
        when the batch of lines ends first, the next batches top them up."""
        call = self._function.calls[-1] if self._function is not None else None
        if call is None:
            return
        call.after = []
        if self._top_up_after(call, lines, index + 1):
            self._short_after.append(call)

    @staticmethod
    def _top_up_after(call: _PendingCall, lines: list[str], start: int) -> bool:
        """Add `lines[start:]`'s instructions to `call.after`; whether it is still short
        only because the batch ended (the next batch's first lines follow)."""
        wanted = AFTER_LINES - len(call.after)
        more = lines[start : start + wanted]
        ended = next((i for i, line in enumerate(more) if not _INSTRUCTION.match(line)), None)
        call.after.extend(more if ended is None else more[:ended])
        return ended is None and len(call.after) < AFTER_LINES

    def _alloc_call(
        self,
        found: tuple[str, EntrySpec],
        operand: str,
        pos: SourcePos,
        offsets: str,
        window: Window,
    ) -> None:
        """A CALL of an allocation entry (`found`); `offsets` is the line's `0x0024 00036`
        (pc in hex and decimal)."""
        function = self._function
        assert function is not None
        entry, spec = found
        function.calls.append(
            _PendingCall(
                pos,
                entry,
                spec,
                operand,
                window,
                len(function.lines),
                int(offsets.split()[0], 16),
            )
        )

    def _settle(self) -> None:
        """Interpret the calls of the function just listed (see the module docstring).

        The registers at a call are read over its window, paths meeting at branch
        targets (`arguments_reaching`), or, where a jump table hides ways in, from the
        straight line found walking the window back from the call (to a JMP or RET,
        after it, or to a branch target, from it); the `asm` shown is the last few
        instructions, whatever the paths.
        """
        function = self._function
        if function is None:
            return
        for call in function.calls:
            # A convT call's next instructions may still be to come (`type_refs` settles
            # mid-listing): its boxed type waits for them.
            if call.after and not any(call is short for short in self._short_after):
                call.boxed = boxed_type(call.after, self.architecture)
                call.after = []
        targets = None
        jumps: Counter[int] = Counter()
        tabled = False
        boxes = self._static_boxes(function.calls)
        for call in function.calls:
            if call.window is None:
                continue
            if targets is None:
                jumps = jump_counts(function.jumps)
                targets = set(jumps)
                tabled = jumps_through_register(function.jumps)
            straight, shown = straight_line(call.window, targets, jumps)
            if tabled:  # a jump table's targets are ways in that `jumps` does not count
                call.type_name, call.count = self.architecture.arguments(straight, call.spec)
            else:
                call.type_name, call.count = self.architecture.arguments_reaching(
                    call.window, jumps, call.spec
                )
            call.asm = (*shown, f"CALL\t{call.target}")
            call.static_boxes, call.hoisted_boxes = boxes.get(id(call), (0, False))
            call.window = None  # the instructions are not kept

    def _static_boxes(self, calls: list[_PendingCall]) -> dict[int, tuple[int, bool]]:
        """id(call) -> (boxings without a call before it, whether that count is not
        placed): where the data words put them (parsers/staticboxes.py), else the
        references to `runtime.staticuint64s` in each call's window (go1.21 may have
        hoisted them; zero-size values and constants are not counted)."""
        counted = {id(c): static_boxes(c.window) for c in calls if c.window is not None}
        if not any(counted.values()) and not any(
            c.window is not None and static_data(c.window) for c in calls
        ):
            return {}
        windows = [c.window for c in calls if c.window is not None]
        where = None
        if self.architecture is AMD64:
            where = placed([_instructions_of(w) for w in windows])
        if where is not None:
            ids = [id(c) for c in calls if c.window is not None]
            return {key: (count, False) for key, count in zip(ids, where, strict=True)}
        return {key: (count, count > 0) for key, count in counted.items()}

    def finish(
        self,
        decls: Sequence[FuncDecl] = (),
        inline_calls: Sequence[InlineCall] = (),
        types: dict[str, TypeInfo] | None = None,
    ) -> tuple[list[FunctionSpan], list[AllocCall]]:
        """The package's function spans and allocation calls, types resolved.

        `decls` and `inline_calls` are the -m inliner lines (for spans and call_pos);
        `types` adds descriptors found elsewhere (other target packages, the type-size
        helper) to the ones dumped in this listing.
        """
        self._short_after = []  # the listing has ended
        self._settle()
        known = dict(types or {})
        known.update(self.types)
        starts = _declaration_starts(self._functions, decls)
        inlined = InlinerGuess(decls, inline_calls)
        spans: list[FunctionSpan] = []
        calls: list[AllocCall] = []
        for function in self._functions:
            if not function.file:
                continue
            span = _span(function, starts.get(function.file, []), self.package)
            spans.append(span)
            if function.calls:
                ref = FunctionRef(function.name, function.text_where, function.abi, function.size)
                for pending in function.calls:
                    calls.append(
                        _alloc_call(
                            function, ref, span, pending, known, inlined, self.inline_source
                        )
                    )
        return spans, calls


def _instructions_of(window: Window) -> list[tuple[str, str]]:
    """(op, operands) of a window's instructions, oldest first."""
    pairs = []
    for _, text in window.newest_first():
        op, _, operands = text.partition("\t")
        pairs.append((op, operands))
    pairs.reverse()
    return pairs


def next_untabbed(lines: list[str], start: int) -> int:
    """The index of the first line from `start` on without a leading tab, or the end."""
    index = start
    try:
        for index in range(start, len(lines)):
            if lines[index][0] != "\t":  # (by index: faster than `[:1]`, a hot loop)
                return index
    except IndexError:  # the empty line
        return index
    return len(lines)


def split_symbol(line: str) -> tuple[str, str] | None:
    """(name, kind) of a symbol's header (a line, no newline in it), else None:
    SYMBOL_RE's groups. Its lazy name ends at the first ` S` that a kind follows."""
    if line[:1] in ("", "\t"):
        return None
    space = line.find(" S", 1)
    if space >= 0:  # mostly a common kind, which needs no pattern
        end = line.find(" ", space + 1)
        word = line[space + 1 : end] if end >= 0 else line[space + 1 :]
        if word in _COMMON_KINDS:
            return line[:space], word
    while space >= 0:
        kind = _KIND.match(line, space + 1)
        if kind is not None:
            return line[:space], kind.group(1)
        space = line.find(" S", space + 1)
    return None


def _declaration_starts(
    functions: Sequence[_Function], decls: Sequence[FuncDecl]
) -> dict[str, list[int]]:
    """Per file, the sorted lines where a named (non-closure) function starts."""
    starts: dict[str, set[int]] = {}
    for function in functions:
        if function.file and not is_closure(function.name):
            starts.setdefault(function.file, set()).add(function.first_line)
    for decl in decls:
        if not is_closure(decl.name):
            starts.setdefault(decl.pos.file, set()).add(decl.pos.line)
    return {file: sorted(lines) for file, lines in starts.items()}


def _span(function: _Function, starts: list[int], package: str) -> FunctionSpan:
    following = bisect.bisect_right(starts, function.first_line)
    limit = starts[following] if following < len(starts) else None
    last = function.first_line
    for line in function.lines:
        if line > last and (limit is None or line < limit):
            last = line
    # A closure copy made for an inlined caller is `F.func1#<hash>#` (its own closures:
    # `F.func1#<hash>#.1`); it is named as the original, like obj.TrimInlineHash does.
    name = without_inline_hash(function.name)
    return FunctionSpan(name, package, function.file, function.first_line, last)


def _alloc_call(
    function: _Function,
    ref: FunctionRef,
    span: FunctionSpan,
    pending: _PendingCall,
    types: dict[str, TypeInfo],
    inlined: InlinerGuess,
    tables: InlineSource,
) -> AllocCall:
    type_info = None
    if pending.type_name is not None:
        # A type no descriptor was found for stays None: its size is never guessed.
        type_info = types.get(pending.type_name)
    call_pos = None
    inside = pending.pos.file == span.file and span.first_line <= pending.pos.line <= span.last_line
    if tables.has(ref):
        call_pos = tables.call_pos(ref, pending.pc)
        if call_pos is not None and call_pos.col == 0:
            call_pos = inlined.with_column(call_pos, pending.pos)
    elif not inside:
        lines = function.lines
        caller_line = next(
            (
                lines[index]
                for index in range(pending.own_lines - 1, -1, -1)  # (no copy of the lines)
                if span.first_line <= lines[index] <= span.last_line
            ),
            None,
        )
        if caller_line is not None:
            call_pos = inlined.call_pos(span, pending.pos, caller_line)
    return AllocCall(
        pos=pending.pos,
        function=span.name,
        entry=pending.entry,
        type=type_info,
        const_count=pending.count,
        call_pos=call_pos,
        asm=pending.asm,
        static_boxes=pending.static_boxes,
        hoisted_boxes=pending.hoisted_boxes,
        boxed=pending.boxed,
    )


def iter_alloc_calls(
    lines: Iterable[str], positions: Positions, package: str
) -> Iterator[AllocCall]:
    """The allocation calls of one package's `-S` listing (types from its own descriptors)."""
    parser = AsmParser(positions, package)
    for line in lines:
        parser.feed(line)
    yield from parser.finish()[1]


def iter_functions(
    lines: Iterable[str], positions: Positions, package: str
) -> Iterator[FunctionSpan]:
    """The text symbols of one package's `-S` listing as function spans."""
    parser = AsmParser(positions, package)
    for line in lines:
        parser.feed(line)
    yield from parser.finish()[0]


def iter_types(lines: Iterable[str]) -> Iterator[TypeInfo]:
    """The type descriptors dumped in a `-S` listing, in listing order."""
    parser = AsmParser(Positions("/", ""), "")
    seen = 0
    for line in lines:
        parser.feed(line)
        if len(parser.types) > seen:
            seen = len(parser.types)
            yield next(reversed(parser.types.values()))
