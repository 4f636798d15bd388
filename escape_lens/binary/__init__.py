"""Allocation sites from a compiled Go ELF binary (pyelftools + capstone).

`analyze_binary` reads the program (`program.GoProgram`: ELF sections, build info,
pclntab, moduledata, type descriptors), finds the allocation calls of the selected
functions (`disasm`), and hands them to the same join and model as source mode
(`escape_lens.sites.join_sites` with calls only, origin "binary"), with the Go version
and GOEXPERIMENT the binary was built with. One module per input format; this one only
puts them together.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import unquote

import capstone

from escape_lens import __version__, model, progress
from escape_lens.analyze import sort_sites
from escape_lens.binary.program import GoProgram, package_of
from escape_lens.errors import BinaryFormatError, UsageError
from escape_lens.fingerprint import assign_fingerprints
from escape_lens.records import AllocCall, FunctionSpan, GoToolchain, Report, Site, TypeInfo
from escape_lens.sites import join_sites

__all__ = ["analyze_binary"]


def analyze_binary(path: str | os.PathLike[str], packages: Sequence[str] | None = None) -> Report:
    """Every allocation call in the functions of `packages` (Go package patterns; default:
    the main module's packages), as sites with the model's predictions."""
    try:
        return _analyze(path, packages)
    except (struct.error, IndexError, ValueError, OverflowError, capstone.CsError) as exc:
        # The readers check what they rely on; this is the net under what they missed,
        # so that a corrupt file is still one line, never a traceback.
        raise BinaryFormatError(f"{os.fspath(path)}: corrupt Go binary ({exc})") from exc


def _analyze(path: str | os.PathLike[str], packages: Sequence[str] | None) -> Report:
    program = GoProgram.load(path)
    build = program.build
    try:
        version = build.version
    except ValueError as exc:
        raise BinaryFormatError(
            f"{program.elf.path}: unreadable Go version {build.go_version!r}"
        ) from exc
    rules = model.rules_for(version, build.goexperiment)
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
    for index, found in enumerate(program.iter_alloc_calls(functions)):
        line.set(f"disassembling {len(functions)} functions: {index + 1} allocate so far")
        calls.extend(found.calls)
        spans.append(found.span)
        for info in found.types:
            types.setdefault(info.name, info)
    # Symbols of the main package are `main.*` whatever its import path; source mode
    # names the package by its path, and so do we.
    main_path = build.path or "main"
    scanned = {_import_path(package_of(f.name), main_path) for f in functions} - {""}
    sites: list[Site] = [
        replace(site, package=_import_path(site.package, main_path))
        for site in join_sites(
            calls, (), rules, functions=spans, types=types.values(), origin="binary"
        )
    ]
    toolchain = GoToolchain(
        path="",
        version=version,
        goos=build.setting("GOOS") or "linux",
        goarch=program.goarch,
        goexperiment=build.goexperiment,
    )
    return Report(
        tool_version=__version__,
        toolchain=toolchain,
        packages=tuple(sorted(scanned)),
        sites=tuple(assign_fingerprints(sort_sites(sites))),
        root=program.root,
        origin="binary",
    )


def _import_path(package: str, main_path: str) -> str:
    return main_path if package == "main" else unquote(package)
