"""A Go program read from its ELF file: the pieces put together, and its allocation calls.

`GoProgram.load` checks, in this order, that the file is ELF (elf.py), of a supported
architecture, a Go program (build info, `.gopclntab`), and that the runtime's moduledata
can be found; each failure is one `BinaryFormatError` line. After that, work is lazy:
`iter_functions` walks pclntab names only, `iter_alloc_calls` disassembles only the
selected functions that contain a call to an allocation entry point.

Positions: the pclntab stores file names as the compiler saw them (absolute, or
module-relative with -trimpath). `root` is the main module's directory, derived from the
file of `main.main` and the main package's import path; files under it are reported
relative to it, like source mode does, so the two modes' positions compare equal.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from escape_lens import gonames
from escape_lens.binary.buildinfo import BuildInfo, read_buildinfo
from escape_lens.binary.disasm import Disassembler, RawCall, asm_lines
from escape_lens.binary.elf import GoELF, open_elf
from escape_lens.binary.entries import EntrySpec, entry_spec
from escape_lens.binary.goasm import boxed_address, listing_lines
from escape_lens.binary.moduledata import ModuleData, find_moduledata
from escape_lens.binary.pclntab import Func, PcLnTab
from escape_lens.binary.typedesc import KIND_INTERFACE, TypeReader
from escape_lens.errors import BinaryFormatError
from escape_lens.gotypes import with_parts
from escape_lens.parsers.boxedtype import AFTER_LINES, boxed_type
from escape_lens.parsers.registers import for_goarch
from escape_lens.records import AllocCall, FunctionSpan, SourcePos, TypeInfo

# Compiler-generated symbols that belong to no package (equality functions, build id):
# `type:.eq.T`, `go:buildid` since Go 1.20; `type..eq.T` before. (Not `go.`: that starts
# real import paths such as go.uber.org/zap.)
_GENERATED_PREFIXES = ("type:", "go:", "type..")


def package_of(symbol: str) -> str:
    """The import path of a function symbol, "" for compiler-generated ones (`type:.eq.T`).

    The linker escapes dots (and other specials) in a path's last element as `%xx`
    (`gopkg.in/yaml%2ev3.Unmarshal`, cmd/internal/objabi.PathToPrefix); they are undone.
    """
    if symbol.startswith(_GENERATED_PREFIXES):
        return ""
    return gonames.unescaped(gonames.package_of(symbol))


def package_matcher(patterns: Sequence[str]) -> re.Pattern[str]:
    """A regex for Go package patterns: `...` matches any string, and `x/...` matches x."""
    parts = []
    for pattern in patterns:
        regex = re.escape(pattern).replace(r"\.\.\.", ".*")
        if pattern.endswith("/..."):
            regex = regex[: -len("/.*")] + "(?:/.*)?"
        parts.append(regex)
    return re.compile("(?:" + "|".join(parts) + r")\Z")


@dataclass(frozen=True, slots=True)
class FunctionCalls:
    """One function's allocation calls; `types` are the element and key types the chan
    and map descriptors among them point to (the join sizes buffers and buckets by them)."""

    span: FunctionSpan
    calls: tuple[AllocCall, ...]
    types: tuple[TypeInfo, ...] = ()


# The highest `abi.Kind` (UnsafePointer); 0 is Invalid.
_KINDS = 26
# Conversions whose entry says the size but not the type: which type they box is read
# from the code after the call.
FIXED_BOXINGS = frozenset({"convT16", "convT32", "convT64", "convTstring", "convTslice"})


class GoProgram:
    def __init__(self, elf: GoELF, build: BuildInfo, pcln: PcLnTab, module: ModuleData) -> None:
        self.elf = elf
        self.build = build
        self.pcln = pcln
        self.module = module
        self.types = TypeReader(elf, module.types, module.etypes)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> GoProgram:
        elf = open_elf(path)
        # Position-independent builds of older Go put it in `.data.rel.ro.gopclntab`.
        section = elf.section(".gopclntab") or elf.section(".data.rel.ro.gopclntab")
        if section is None:
            raise BinaryFormatError(
                f"{elf.path}: not a Go program (no .gopclntab section; binary mode reads "
                "programs built by the Go toolchain)"
            )
        build = read_buildinfo(elf)
        pcln = PcLnTab(elf.section_bytes(section), section.addr, elf.path)
        module = find_moduledata(elf, pcln)
        pcln.text_base = module.text
        pcln.read_gofunc = lambda offset, size: elf.read(module.gofunc + offset, size)
        return cls(elf, build, pcln, module)

    @cached_property
    def functions(self) -> list[Func]:
        """Every function of the pclntab, decoded once (names and addresses only)."""
        return list(self.pcln.iter_functions())

    @property
    def goarch(self) -> str:
        return self.elf.goarch or ""

    @property
    def main_module(self) -> str:
        """The main module's path ("" for a program built from files outside a module)."""
        if not self.build.module and self.build.path.startswith("cmd/"):
            return "cmd"  # the Go distribution's commands: module `cmd`, no `mod` line
        return self.build.module

    def default_patterns(self) -> list[str]:
        """The main module's packages: `main` plus the module path and everything under it,
        and the external tests of its root package (`m_test`, in a test binary)."""
        module = self.main_module
        return ["main", module, module + "_test", module + "/..."] if module else ["main"]

    def iter_functions(self, patterns: Sequence[str] | None = None) -> Iterator[Func]:
        """Functions whose package matches one of `patterns` (all when None). The main
        package matches both as `main` (its symbols' prefix) and by its import path."""
        matcher = package_matcher(patterns) if patterns else None
        main_matches = matcher is None or bool(matcher.match(self.build.path or "main"))
        for func in self.functions:
            package = package_of(func.name)
            if package == "main":
                if main_matches or (matcher is not None and matcher.match(package)):
                    yield func
            elif matcher is None or matcher.match(package):
                yield func

    @cached_property
    def entry_points(self) -> dict[int, tuple[str, EntrySpec]]:
        """Address -> allocation entry point, from pclntab names (works when stripped)."""
        found = {}
        for func in self.functions:
            spec = entry_spec(func.name)
            if spec is not None:
                found[func.entry] = spec
        return found

    @cached_property
    def root(self) -> str:
        """The main module's directory as the pclntab spells it ("" if unknown)."""
        main_pkg = self.build.path
        for func in self.functions:
            if func.name == "main.main":
                lines = self.pcln.lines(func)
                file = self.pcln.filename(func, lines.file_index(func.entry))
                directory = posixpath.dirname(file)
                module = self.main_module
                if module and (main_pkg == module or main_pkg.startswith(module + "/")):
                    rel = main_pkg[len(module) :].strip("/")
                    if rel and directory.endswith("/" + rel):
                        return directory[: -len(rel) - 1]
                    if rel:
                        return ""
                return directory
        return ""

    def relative(self, file: str) -> str:
        root = self.root
        if root and file.startswith(root + "/"):
            return file[len(root) + 1 :]
        return file

    def _boxed(self, disasm: Disassembler, code: bytes, entry: int, raw: RawCall) -> str | None:
        """The type a `convT64`, `convTstring` ... call boxes: the interface's type word
        paired with the data word after the call, read by source mode's rules
        (parsers/boxedtype.py) from the code spelled as a listing (binary/goasm.py)."""
        following = disasm.following(code, entry, raw.pc, AFTER_LINES)
        goarch = self.goarch
        functions = self._function_names.get
        lines = listing_lines(following, entry, functions, self._type_word, goarch)
        address = boxed_address(boxed_type(lines, for_goarch(goarch)))
        if address is None:
            return None
        return self.types.read(address).info.name

    @cached_property
    def _function_names(self) -> dict[int, str]:
        return {func.entry: func.name for func in self.functions}

    def _type_word(self, address: int) -> int | None:
        """For an address code loads as an interface's type word: the descriptor of the
        concrete type (an itab's second word, when its first is an interface type's
        descriptor; the address itself for a type descriptor), else None."""
        try:
            words = self.elf.read(address, 16)
        except BinaryFormatError:
            return None
        interface = int.from_bytes(words[:8], "little")
        concrete = int.from_bytes(words[8:], "little")
        if self._descriptor(interface, KIND_INTERFACE) and self._descriptor(concrete):
            return concrete
        return address if self._descriptor(address) else None

    def _descriptor(self, address: int, kind: int | None = None) -> bool:
        """Whether a type descriptor starts at `address` (of `kind`): inside the types,
        of a kind there is, named in printable text. An address inside a descriptor (a
        field's) reads as none of these, whatever the types' range says."""
        if not self.types.is_type(address):
            return False
        try:
            descriptor = self.types.read(address)
        except BinaryFormatError:
            return False
        name = descriptor.info.name
        return (
            (descriptor.kind == kind if kind is not None else 0 < descriptor.kind <= _KINDS)
            and bool(name)
            and name.isprintable()
        )

    def iter_alloc_calls(self, functions: Iterable[Func]) -> Iterator[FunctionCalls]:
        """The allocation calls of each function that has any, in address order."""
        if not self.goarch:
            raise BinaryFormatError(f"{self.elf.path}: unsupported architecture")
        disasm = Disassembler(self.goarch, self.entry_points)
        entries = self.entry_points
        text = self.elf.section(".text")
        if text is None:
            raise BinaryFormatError(f"{self.elf.path}: no .text section")
        code = self.elf.section_bytes(text)
        for func in functions:
            if func.entry in entries or not text.contains(func.entry):
                continue  # the allocator's own calls are not allocation sites
            start = func.entry - text.addr
            chunk = code[start : start + (func.end - func.entry)].tobytes()
            raw_calls = list(disasm.iter_calls(chunk, func.entry))
            if not raw_calls:
                continue
            lines = self.pcln.lines(func)
            calls = []
            related: list[TypeInfo] = []
            for raw in raw_calls:
                where = self.pcln.position(lines, raw.pc)
                pos = SourcePos(self.relative(where.file), where.line)
                call_pos = (
                    SourcePos(self.relative(where.call_file), where.call_line)
                    if where.inlined
                    else None
                )
                type_info = None
                if raw.type_addr is not None and self.types.is_type(raw.type_addr):
                    desc = self.types.read(raw.type_addr)
                    type_info = desc.info
                    related += [self.types.read(a).info for a in (desc.key, desc.elem) if a]
                    if desc.elem and not gonames.spells_container(type_info.name):
                        key = self.types.read(desc.key).info if desc.key else None
                        elem = self.types.read(desc.elem).info
                        type_info = with_parts(type_info, key, elem)
                boxed = None
                if raw.entry in FIXED_BOXINGS:
                    boxed = self._boxed(disasm, chunk, func.entry, raw)
                calls.append(
                    AllocCall(
                        pos=pos,
                        function=func.name,
                        entry=raw.entry,
                        type=type_info,
                        const_count=raw.count,
                        call_pos=call_pos,
                        asm=asm_lines(raw),
                        boxed=boxed,
                    )
                )
            first = self.pcln.position(lines, func.entry)
            last_line = max((c.pos.line for c in calls if c.call_pos is None), default=first.line)
            span = FunctionSpan(
                name=func.name,
                package=package_of(func.name),
                file=self.relative(first.file),
                first_line=first.line,
                last_line=max(last_line, first.line),
            )
            yield FunctionCalls(span, tuple(calls), tuple(related))
