"""Cross-check: source mode and binary mode must find the same allocations.

Both modes see the same compiler's output, one as `-S` listings, one as the linked
machine code, so every source-mode site that has an allocation call must be in the
binary, at the same place, calling the same runtime entry with the same type, size and
size class. A disagreement is a bug in one of the two readers (or the model).

Rules:
- Sites are compared per (package, function, file, line, entry), in order of appearance;
  columns are ignored (machine code has none), and files compare by path suffix (the
  two modes may be rooted differently). A key with more calls on one side than the other
  gives one "missing" disagreement per extra call.
- Only functions present in both reports are compared: the linker drops unreachable
  functions (a library function nobody calls, a standalone copy of an inlined helper),
  and binary mode sees other packages' code that source mode did not compile with flags.
- Type names compare with package paths shortened to package names: descriptors in a
  binary spell `shapes.Rect` where the compiler's symbols say `example.com/m/shapes.Rect`.
"""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from escape_lens.errors import UsageError
from escape_lens.records import GoToolchain, Report, Site

_PATH_QUALIFIER = re.compile(r"(?:[\w.~-]+/)+([\w-]+)\.")


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One site where the two modes differ; `str()` is one readable line."""

    file: str
    line: int
    function: str
    entry: str
    what: str  # missing-in-binary | missing-in-source | type | size | class
    source: str = ""
    binary: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line} {self.function} {self.entry}"
        if self.what == "missing-in-binary":
            return f"{where}: source mode has this allocation ({self.source}), the binary has not"
        if self.what == "missing-in-source":
            return f"{where}: the binary has this allocation ({self.binary}), source mode has not"
        return f"{where}: {self.what} differs: source {self.source}, binary {self.binary}"


def normalize_type_name(name: str) -> str:
    """`*example.com/m/shapes.Rect` -> `*shapes.Rect` (the runtime's own spelling)."""
    return _PATH_QUALIFIER.sub(r"\1.", name.removeprefix("noalg."))


def _describe(site: Site) -> str:
    parts = []
    if site.type is not None:
        parts.append(f"{normalize_type_name(site.type.name)} {site.type.size} B")
    if site.prediction is not None and site.prediction.path != "dynamic":
        parts.append(f"class {site.prediction.size_class}")
    return ", ".join(parts) or "no type"


_Key = tuple[str, str, str, int, str]


def _file_key(file: str) -> str:
    return file.rsplit("/", 1)[-1]


def _index(sites: Iterable[Site]) -> dict[_Key, list[Site]]:
    table: dict[_Key, list[Site]] = defaultdict(list)
    for site in sites:
        if site.call is None or not site.allocates:
            continue
        key = (
            site.package,
            site.function,
            _file_key(site.pos.file),
            site.pos.line,
            site.entry or "",
        )
        table[key].append(site)
    return table


def _same_file(a: str, b: str) -> bool:
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def cross_check(source: Report, binary: Report) -> list[Disagreement]:
    """Where the two reports of the same code disagree (empty when they agree)."""
    src = _index(source.sites)
    bin_ = _index(binary.sites)
    src_functions = {(k[0], k[1]) for k in src}
    bin_functions = {(s.package, s.function) for s in binary.sites}
    found: list[Disagreement] = []
    for key in sorted(set(src) | set(bin_), key=lambda k: (k[2], k[3], k[1], k[4])):
        function = (key[0], key[1])
        if function not in src_functions or function not in bin_functions:
            continue
        left, right = src.get(key, []), bin_.get(key, [])
        for a, b in zip(left, right, strict=False):
            if not _same_file(a.pos.file, b.pos.file):
                found.append(_make(a, "file", a.pos.file, b.pos.file))
            found.extend(_compare(a, b))
        for a in left[len(right) :]:
            found.append(_make(a, "missing-in-binary", _describe(a), ""))
        for b in right[len(left) :]:
            found.append(_make(b, "missing-in-source", "", _describe(b)))
    return found


def _make(site: Site, what: str, source: str, binary: str) -> Disagreement:
    return Disagreement(
        site.pos.file, site.pos.line, site.function, site.entry or "", what, source, binary
    )


def _compare(a: Site, b: Site) -> list[Disagreement]:
    found = []
    a_type = normalize_type_name(a.type.name) if a.type is not None else None
    b_type = normalize_type_name(b.type.name) if b.type is not None else None
    if a_type != b_type:
        found.append(_make(a, "type", str(a_type), str(b_type)))
    elif a.type is not None and b.type is not None and a.type.size != b.type.size:
        found.append(_make(a, "size", str(a.type.size), str(b.type.size)))
    a_class = a.prediction.size_class if a.prediction is not None else None
    b_class = b.prediction.size_class if b.prediction is not None else None
    if a_class != b_class:
        found.append(_make(a, "class", str(a_class), str(b_class)))
    return found


def build_and_cross_check(
    toolchain: GoToolchain,
    targets: Sequence[str],
    source: Report,
    *,
    cwd: str | None = None,
) -> list[Disagreement]:
    """Build the targets with `toolchain` into a temporary directory (their main packages,
    and a generated program linking every exported function of their other packages),
    read the binaries, and cross-check them against `source` (the source-mode report)."""
    from escape_lens.binary import analyze_binary
    from escape_lens.toolchain.link import LINK_ALL_NAME, build_linking_all

    with tempfile.TemporaryDirectory(prefix="escape-lens-xcheck-") as tmp:
        binaries = build_linking_all(toolchain, targets, tmp, cwd=cwd)
        if not binaries:
            raise UsageError("--cross-check: the targets contain no Go package to build")
        patterns = [*source.packages, "main"]
        sites: list[Site] = []
        for path in binaries:
            report = analyze_binary(path, patterns)
            # A main program also contains the libraries it imports; they are taken from
            # the program that links all of them, so that no site is counted twice.
            sites.extend(
                site
                for site in report.sites
                if site.package in source.packages
                and (path.name == LINK_ALL_NAME or _in_main_package(site))
            )
    merged = Report(
        tool_version=source.tool_version,
        toolchain=source.toolchain,
        packages=source.packages,
        sites=tuple(sites),
        origin="binary",
    )
    return cross_check(source, merged)


def _in_main_package(site: Site) -> bool:
    return site.call is not None and site.call.function.startswith("main.")
