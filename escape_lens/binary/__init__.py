"""Allocation calls from a compiled Go ELF binary (pyelftools + capstone).

`read_binary` reads the program (`program.GoProgram`: ELF sections, build info,
pclntab, moduledata, type descriptors) and finds the allocation calls of the selected
functions (`disasm`), with the Go version and GOEXPERIMENT the binary was built with.
It only reads: the calls go to the same join and model as source mode's
(escape_lens/binary_report.py). One module per input format; this one only puts them
together.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import capstone

from escape_lens import gonames, progress
from escape_lens.binary.program import GoProgram, package_of
from escape_lens.errors import BinaryFormatError, UsageError
from escape_lens.records import AllocCall, FunctionSpan, GoToolchain, TypeInfo
from escape_lens.vocab import counted

__all__ = ["BinaryCalls", "import_path", "read_binary"]


@dataclass(frozen=True, slots=True)
class BinaryCalls:
    """What a binary holds for the join: its allocation calls, the spans of the functions
    read, the types they name; `packages` are the import paths of those functions and
    `main_path` the main package's import path (its symbols say `main`)."""

    toolchain: GoToolchain
    calls: tuple[AllocCall, ...]
    spans: tuple[FunctionSpan, ...]
    types: tuple[TypeInfo, ...]
    packages: tuple[str, ...]
    main_path: str
    root: str


def read_binary(path: str | os.PathLike[str], packages: Sequence[str] | None = None) -> BinaryCalls:
    """Every allocation call in the functions of `packages` (Go package patterns; default:
    the main module's packages)."""
    try:
        return _read(path, packages)
    except (struct.error, IndexError, ValueError, OverflowError, capstone.CsError) as exc:
        # The readers check what they rely on; this is the net under what they missed,
        # so that a corrupt file is still one line, never a traceback.
        raise BinaryFormatError(f"{os.fspath(path)}: corrupt Go binary ({exc})") from exc


def _read(path: str | os.PathLike[str], packages: Sequence[str] | None) -> BinaryCalls:
    program = GoProgram.load(path)
    build = program.build
    try:
        version = build.version
    except ValueError as exc:
        raise BinaryFormatError(
            f"{program.elf.path}: unreadable Go version {build.go_version!r}"
        ) from exc
    if packages and not all(pattern.strip() for pattern in packages):
        # `--package ''` (an unset variable in a script) would match only the linker's
        # own symbols, which have no package: an empty report that looks like a result.
        raise UsageError(f"{program.elf.path}: an empty package pattern names no package")
    patterns = list(packages) if packages else program.default_patterns()
    calls: list[AllocCall] = []
    spans: list[FunctionSpan] = []
    types: dict[str, TypeInfo] = {}
    functions = list(program.iter_functions(patterns))
    if not functions:
        raise UsageError(
            f"{program.elf.path}: no function of the binary belongs to {' '.join(patterns)}"
        )
    line = progress.current()
    some_functions = counted(len(functions), "function")
    for index, found in enumerate(program.iter_alloc_calls(functions)):
        line.set(f"disassembling {some_functions}: {index + 1} allocate so far")
        calls.extend(found.calls)
        spans.append(found.span)
        for info in found.types:
            types.setdefault(info.name, info)
    # Symbols of the main package are `main.*` whatever its import path; source mode
    # names the package by its path, and so do we.
    main_path = build.path or "main"
    scanned = {import_path(package_of(f.name), main_path) for f in functions} - {""}
    toolchain = GoToolchain(
        path="",
        version=version,
        goos=build.setting("GOOS") or "linux",
        goarch=program.goarch,
        goexperiment=build.goexperiment,
    )
    return BinaryCalls(
        toolchain=toolchain,
        calls=tuple(calls),
        spans=tuple(spans),
        types=tuple(types.values()),
        packages=tuple(sorted(scanned)),
        main_path=main_path,
        root=program.root,
    )


def import_path(package: str, main_path: str) -> str:
    """A package as its symbols name it, as source mode names it (by import path)."""
    return main_path if package == "main" else gonames.unescaped(package)
