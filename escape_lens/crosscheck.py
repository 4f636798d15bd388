"""Cross-check: source mode and binary mode must find the same allocations.

Both modes see the same compiler's output, one as `-S` listings, one as the linked
machine code, so every source-mode site that has an allocation call must be in the
binary, at the same place, calling the same runtime entry with the same type, size and
size class. A disagreement is a bug in one of the two readers (or the model).

Rules:
- Sites are compared per (package, function, file name, line, entry); columns are
  ignored (machine code has none), and files compare by name (the two modes may be
  rooted differently). Within a key, identical sites pair first; what is left pairs in
  order and each difference is a disagreement, and a key with more calls on one side
  gives one "missing" disagreement per extra call.
- Only functions present in both reports are compared: the linker drops unreachable
  functions (a library function nobody calls, a standalone copy of an inlined helper),
  and binary mode sees other packages' code that source mode did not compile with flags.
- Types (and so classes) compare only where both calls pass a type descriptor, or both
  modes read which type a `convT64`, `convTstring` ... call boxes from the code after it
  (parsers/boxedtype.py, in binary mode on the code spelled as a listing): a type source
  mode took from an escape line cannot be checked against machine code.
- Type names compare without package qualifiers: descriptors in a binary spell a type
  with its package's *name* (`json.SemanticError`), the compiler's symbols with its import
  path (`encoding/json/v2.SemanticError`), and a name need not be its path's last element.
"""

from __future__ import annotations

import posixpath
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from escape_lens.binary_report import analyze_binary
from escape_lens.errors import UsageError
from escape_lens.records import GoToolchain, Report, Site
from escape_lens.toolchain.link import LINK_ALL_NAME, build_linking_all
from escape_lens.vocab import AllocPath

# A package qualifier before an identifier: `main.`, `example.com/m/shapes.`, `yaml.v3.`,
# `go.shape.`.
_QUALIFIER = re.compile(r"(?<![\w.])(?:[\w.~%-]+/)*[\w%-]+(?:\.[\w%-]+)*\.(?=[A-Za-z_])")


_LOCAL_NUMBER = re.compile(r"·\d+")


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One site where the two modes differ; `str()` is one readable line."""

    file: str
    line: int
    function: str
    entry: str
    what: str  # missing-in-binary | missing-in-source | type | size | count | class
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
    """A type name without package qualifiers: `*example.com/m/shapes.Rect` -> `*Rect`.

    The compiler numbers types declared inside functions (`dedupKey·1`); descriptors
    do not, so the number goes too. cgo's types are `C.struct_x` to the compiler and
    `_Ctype_struct_x` in descriptors."""
    bare = _QUALIFIER.sub("", name.removeprefix("noalg.")).replace("_Ctype_", "")
    return _LOCAL_NUMBER.sub("", bare)


def _describe(site: Site) -> str:
    parts = []
    if site.type is not None:
        parts.append(f"{normalize_type_name(site.type.name)} {site.type.size} B")
    if site.prediction is not None and site.prediction.path != AllocPath.DYNAMIC:
        parts.append(f"class {site.prediction.size_class}")
    return ", ".join(parts) or "no type"


_Key = tuple[str, str, str, int, str]


def _file_key(file: str) -> str:
    return file.rsplit("/", 1)[-1]


def code_line(site: Site) -> int:
    """The line the site's code is listed at, which is all a binary's line table has: a
    source site stands at its statement, which for a map literal's key or value written
    on a line of its own is not where the literal makes it (sites.py `in_map_literal`)."""
    call = site.call
    if call is not None and call.call_pos is None and call.pos.file == site.pos.file:
        return call.pos.line
    return site.pos.line


def _index(sites: Iterable[Site]) -> dict[_Key, list[Site]]:
    table: dict[_Key, list[Site]] = defaultdict(list)
    for site in sites:
        if site.call is None or not site.allocates:
            continue
        key = (
            site.package,
            site.function,
            _file_key(site.pos.file),
            code_line(site),
            site.entry or "",
        )
        table[key].append(site)
    return table


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
        left, right = _pair_identical(src.get(key, []), bin_.get(key, []))
        for a, b in zip(left, right, strict=False):
            found.extend(_compare(a, b))
        for a in left[len(right) :]:
            found.append(_make(a, "missing-in-binary", _describe(a), ""))
        for b in right[len(left) :]:
            found.append(_make(b, "missing-in-source", "", _describe(b)))
    return found


def _identity(site: Site) -> tuple[str | None, int | None, int | None]:
    return (
        normalize_type_name(site.type.name) if site.type is not None else None,
        site.type.size if site.type is not None else None,
        site.prediction.size_class if site.prediction is not None else None,
    )


def _pair_identical(left: list[Site], right: list[Site]) -> tuple[list[Site], list[Site]]:
    """The sites of one key that found no identical partner on the other side, in order.

    Several calls on one line have no column in machine code, and the two modes list
    them in different orders (source by column, binary by address): pairing by identity
    first keeps that from looking like a disagreement."""
    unmatched = list(right)
    rest = []
    for site in left:
        identity = _identity(site)
        for index, other in enumerate(unmatched):
            if _identity(other) == identity:
                del unmatched[index]
                break
        else:
            rest.append(site)
    return rest, unmatched


def _make(site: Site, what: str, source: str, binary: str) -> Disagreement:
    return Disagreement(
        site.pos.file, site.pos.line, site.function, site.entry or "", what, source, binary
    )


def _passes_type(site: Site) -> bool:
    call = site.call
    return call is not None and (call.type is not None or call.boxed is not None)


def _compare(a: Site, b: Site) -> list[Disagreement]:
    if not (_passes_type(a) and _passes_type(b)):
        # The call passes no type descriptor (`make([]T, len(s)); copy(...)` compiles to a
        # bare mallocgc): source mode may still know the type from the escape line, but
        # the machine code cannot confirm or refute it, so there is nothing to compare.
        return [] if a.count == b.count else [_make(a, "count", _count(a), _count(b))]
    found = []
    a_type = normalize_type_name(a.type.name) if a.type is not None else None
    b_type = normalize_type_name(b.type.name) if b.type is not None else None
    if a_type != b_type:
        found.append(_make(a, "type", str(a_type), str(b_type)))
    elif a.type is not None and b.type is not None and a.type.size != b.type.size:
        found.append(_make(a, "size", str(a.type.size), str(b.type.size)))
    if a.count != b.count:
        # One mode saw a constant length the other did not: the classes then differ too.
        found.append(_make(a, "count", _count(a), _count(b)))
        return found
    a_class = a.prediction.size_class if a.prediction is not None else None
    b_class = b.prediction.size_class if b.prediction is not None else None
    if a_class != b_class:
        found.append(_make(a, "class", str(a_class), str(b_class)))
    return found


def _count(site: Site) -> str:
    return "not constant" if site.count is None else str(site.count)


def build_and_cross_check(
    toolchain: GoToolchain,
    targets: Sequence[str],
    source: Report,
    *,
    cwd: str | None = None,
) -> list[Disagreement]:
    """Build the targets with `toolchain` into a temporary directory (their main packages,
    and a generated program linking every exported function of their other packages),
    read the binaries, and cross-check them against `source` (the source-mode report).
    The build has the source build's tags, and its compiler flags for the target
    packages (GOFLAGS reaches go from the environment, as for the source build)."""
    with tempfile.TemporaryDirectory(prefix="escape-lens-xcheck-") as tmp:
        flags = _build_flags(source)
        # GOFLAGS as the source build had it (without -cover, -trimpath: toolchain/buildflags.py)
        env = {"GOFLAGS": " ".join(source.build.goflags)}
        binaries = build_linking_all(toolchain, targets, tmp, cwd=cwd, flags=flags, env=env)
        if not binaries:
            raise UsageError("--cross-check: the targets contain no Go package to build")
        patterns = [*source.packages, "main"]
        sites: list[Site] = []
        for path in binaries:
            report = analyze_binary(path, patterns)
            # A main program also contains the libraries it imports; they are taken from
            # the program that links all of them, so that no site is counted twice.
            sites.extend(
                _rooted(site, report.root, source.root)
                for site in report.sites
                if site.package in source.packages
                and (path.name.startswith(LINK_ALL_NAME) or _in_main_package(site))
            )
    merged = replace(source, sites=tuple(sites), skipped=(), origin="binary")
    return cross_check(source, merged)


def _build_flags(source: Report) -> list[str]:
    flags = [f"-tags={','.join(source.build.tags)}"] if source.build.tags else []
    if source.build.gcflags:
        gcflags = " ".join(source.build.gcflags)
        flags += [f"-gcflags={package}={gcflags}" for package in source.packages]
    return flags


def _rooted(site: Site, binary_root: str, source_root: str) -> Site:
    """The site with its file relative to the source report's root, as source mode has
    it (each binary's own root is its main module's, not necessarily the user's)."""
    file = site.pos.file
    if binary_root and not posixpath.isabs(file):
        file = posixpath.join(binary_root, file)
    prefix = source_root.rstrip("/") + "/"
    if source_root and file.startswith(prefix):
        file = file[len(prefix) :]
    return replace(site, pos=replace(site.pos, file=file))


def _in_main_package(site: Site) -> bool:
    return site.call is not None and site.call.function.startswith("main.")
