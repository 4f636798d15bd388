"""`//escape-lens:` directives in Go source: hot functions and accepted allocation sites.

Invariants:
- `//escape-lens:hot` marks the function declared directly below it (the comment may
  stand anywhere in the comment block that ends on the line above `func`).
- `//escape-lens:allow <reason>` accepts the allocation sites on its own line (a comment
  after code) or, when it stands on a line of its own, on the next line that is not a
  comment. The reason is required: a directive without one accepts nothing and is
  reported (EL006), so every accepted allocation says why in the code.
- Directives are read with a line scanner, not a Go parser: they must start with `//`
  at the start of a comment, without a space (Go's directive convention), so prose that
  mentions `escape-lens:allow` inside a sentence is not a directive.
- Paths are relative to the report root (the module root), as site positions are.
- The gate scans exactly the files the build compiled (`scan_files`, from go list):
  a file a build constraint excludes declares nothing and marks nothing hot.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from escape_lens.errors import ConfigError
from escape_lens.inputs import MiB, read_regular
from escape_lens.records import Report

MAX_SOURCE_BYTES = 64 * MiB

_HOT_RE = re.compile(r"^\s*//escape-lens:hot(?:\s.*)?$")
_ALLOW_RE = re.compile(r"//escape-lens:allow(?=\s|$)(.*)$")
_COMMENT_LINE = re.compile(r"^\s*//")
_FUNC_RE = re.compile(
    r"^func\s*"
    r"(?:\(\s*(?:\w+\s+)?(?P<star>\*)?\s*(?P<recv>\w+)(?:\s*\[[^\]]*\])?\s*\)\s*)?"
    r"(?P<name>\w+)"
)
_MODULE_RE = re.compile(r"^module\s+(\S+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Suppression:
    """An `allow` directive: at `line` of `file`, accepting sites on `target_line`."""

    file: str
    line: int
    col: int
    target_line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Directives:
    """hot_functions: marked `//escape-lens:hot`; declared: every function declared in the
    scanned files (full names), so that a pattern matching none of them can be noticed."""

    hot_functions: frozenset[str]
    suppressions: tuple[Suppression, ...]
    declared: frozenset[str] = frozenset()

    def suppression_for(self, file: str, line: int) -> Suppression | None:
        for suppression in self.suppressions:
            if suppression.file == file and suppression.target_line == line:
                return suppression
        return None


def scan_source(text: str, file: str, package: str) -> Directives:
    """The directives of one Go file of `package` (its import path)."""
    lines = text.splitlines()
    hot: set[str] = set()
    declared: set[str] = set()
    suppressions: list[Suppression] = []
    for index, line in enumerate(lines):
        match = _FUNC_RE.match(line)
        if match:
            receiver = match.group("recv")
            if receiver:
                receiver = f"(*{receiver})" if match.group("star") else receiver
                full = f"{package}.{receiver}.{match.group('name')}"
            else:
                full = f"{package}.{match.group('name')}"
            declared.add(full)
            if _marked_hot(lines, index):
                hot.add(full)
        allow = _ALLOW_RE.search(line)
        if allow is None or not _starts_comment(line, allow.start()):
            continue
        target = index
        if _COMMENT_LINE.match(line):
            # Stacked comment lines may follow; a blank line ends the directive's reach.
            target = index + 1
            while target < len(lines) and _COMMENT_LINE.match(lines[target]):
                target += 1
        suppressions.append(
            Suppression(
                file=file,
                line=index + 1,
                col=allow.start() + 1,
                target_line=target + 1,
                reason=allow.group(1).strip(),
            )
        )
    return Directives(frozenset(hot), tuple(suppressions), frozenset(declared))


def _starts_comment(line: str, offset: int) -> bool:
    """True if the `//` at `offset` opens a comment (is not inside a string literal)."""
    before = line[:offset]
    return before.count('"') % 2 == 0 and before.count("`") % 2 == 0 and "//" not in before


def _marked_hot(lines: list[str], func_index: int) -> bool:
    index = func_index - 1
    while index >= 0 and _COMMENT_LINE.match(lines[index]):
        if _HOT_RE.match(lines[index]):
            return True
        index -= 1
    return False


def merge(parts: Iterable[Directives]) -> Directives:
    hot: set[str] = set()
    declared: set[str] = set()
    suppressions: list[Suppression] = []
    for part in parts:
        hot |= part.hot_functions
        declared |= part.declared
        suppressions.extend(part.suppressions)
    suppressions.sort(key=lambda s: (s.file, s.line))
    return Directives(frozenset(hot), tuple(suppressions), frozenset(declared))


def package_dirs(report: Report) -> dict[str, str]:
    """Directory (relative to the report root) -> import path, for the report's packages.

    From the sites' files, and from go.mod's module path for packages with no site.
    """
    dirs: dict[str, str] = {}
    for site in report.sites:
        directory = os.path.dirname(site.pos.file)
        # Only the module's own files: never scan (or report on) GOROOT or the module cache.
        if not os.path.isabs(directory) and not directory.startswith(".."):
            dirs.setdefault(directory, site.package)
    if report.root:
        module = _module_path(report.root)
        for package in report.packages:
            if module and (package == module or package.startswith(module + "/")):
                relative = package[len(module) + 1 :] if package != module else ""
                dirs.setdefault(relative, package)
    return dirs


def _module_path(root: str) -> str | None:
    try:
        text = Path(root, "go.mod").read_text(encoding="utf-8")
    except OSError:
        return None
    match = _MODULE_RE.search(text)
    return match.group(1) if match else None


def scan_report(report: Report, *, tests: bool = False) -> Directives:
    """The directives in every Go file of the report's packages."""
    return scan_dirs(report.root, package_dirs(report), tests=tests)


def _read_source(path: str) -> str | None:
    """A Go file's text; None for what is not a regular file of a sane size (a FIFO or a
    link to /dev/zero must not hang the scan)."""
    try:
        data = read_regular(path, limit=MAX_SOURCE_BYTES, what="Go source", error=ConfigError)
    except ConfigError:
        return None
    return data.decode("utf-8", "replace")


def scan_files(root: str, files: Mapping[str, Sequence[str]]) -> Directives:
    """The directives of exactly `files` (import path -> absolute paths of the files the
    build compiled): a file excluded by a build constraint declares nothing, and a
    file is read only if it is a regular one, up to a size no Go source reaches."""
    parts = []
    for package, paths in sorted(files.items()):
        for path in paths:
            text = _read_source(path)
            if text is None:
                continue  # go compiled it a moment ago; gone or replaced since
            parts.append(scan_source(text, os.path.relpath(path, root), package))
    return merge(parts)


def scan_dirs(root: str, dirs: Mapping[str, str], *, tests: bool = False) -> Directives:
    parts = []
    for directory, package in sorted(dirs.items()):
        absolute = os.path.join(root, directory)
        try:
            names = sorted(os.listdir(absolute))
        except OSError:
            continue
        for name in names:
            if not name.endswith(".go") or (name.endswith("_test.go") and not tests):
                continue
            path = os.path.join(absolute, name)
            text = _read_source(path)
            if text is None:
                continue
            parts.append(scan_source(text, os.path.join(directory, name), package))
    return merge(parts)
