"""One spelling for every file name the compiler prints.

The compiler names files two ways in one build: `-m` lines use the go command's short
form (relative to the directory go ran in, e.g. `./main.go`, `a/a.go`), `-S` lines the
absolute path. Records compare positions with `==`, so both must come out the same:
relative to the report root when the file is inside it, else absolute. Results are
memoised because a large package repeats the same few file names hundreds of thousands
of times.
"""

from __future__ import annotations

import os
import re

from escape_lens.records import SourcePos

# `file.go:12:5` or `file.go:12` (assembly has no column). The file part may contain
# spaces and colons on odd systems, so anchor on the trailing numbers.
_POS_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")


class Positions:
    """Maps compiler file names to report file names (see the module docstring)."""

    def __init__(self, cwd: str, root: str) -> None:
        self.cwd = os.path.abspath(cwd)
        self.root = os.path.abspath(root) if root else ""
        self._files: dict[str, str] = {}
        # Flow steps repeat the same positions many times; one object each keeps a large
        # package's diagnostics small.
        self._positions: dict[str, SourcePos | None] = {}

    def file(self, name: str) -> str:
        cached = self._files.get(name)
        if cached is not None:
            return cached
        absolute = os.path.normpath(os.path.join(self.cwd, name))
        result = absolute
        if self.root:
            inside = os.path.commonpath([absolute, self.root]) == self.root
            if inside:
                result = os.path.relpath(absolute, self.root)
        self._files[name] = result
        return result

    def pos(self, text: str) -> SourcePos | None:
        """`./main.go:14:9` -> SourcePos('main.go', 14, 9); None when it is not a position."""
        if text in self._positions:
            return self._positions[text]
        match = _POS_RE.match(text.strip())
        pos = None
        if match is not None:
            col = int(match.group("col") or 0)
            pos = SourcePos(self.file(match.group("file")), int(match.group("line")), col)
        self._positions[text] = pos
        return pos
