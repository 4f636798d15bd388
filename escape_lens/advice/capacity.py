"""Whether the slice an append grows was made with a capacity, read from the source.

`s := make([]T, 0, n)` then `s = append(s, ...)`: preallocating is done already, and the
append grows the slice only past the capacity; "preallocate" is then no advice
(hints.py). The compiler's output cannot tell: the make's diagnostic, when there is one
at all (none for a make that stays on the stack), does not name the variable.
Invariants:
- The append is read at the site's own position, its `(` (`append(s, ...)`, a variable
  or a field path as operand); the slice's making is the nearest `s := make(...)`, `s = make(...)`
  or `var s [T] = make(...)` above it in the same top-level function, within _MAX_SCAN
  lines. Three arguments at the make's top level are a capacity.
- Without the source line, an inlined append (the names are the callee's) or a site
  with no column, the answer is False: the hint stays as the site alone would have it.
"""

from __future__ import annotations

import re

from escape_lens.inputs import SourceLines
from escape_lens.records import Site

# How far above the append the making of its slice is looked for.
_MAX_SCAN = 400
_OPERAND = re.compile(r"\(\s*(?P<slice>[\w.]+)\s*,")  # append's first, a variable or field


def made_with_capacity(site: Site, source: SourceLines | None) -> bool:
    """Whether the slice the append at `site` grows was made with a capacity (see above)."""
    lines = source(site.pos.file) if source is not None else None
    if not lines or site.inlined_from is not None or not site.pos.col:
        return False
    if not 0 < site.pos.line <= len(lines):
        return False
    here = site.pos.line - 1
    # Columns count bytes; a call's is its `(` (cmd/compile's syntax.CallExpr).
    raw = lines[here].encode("utf-8")
    if not raw[: site.pos.col - 1].endswith(b"append"):
        return False
    operand = _OPERAND.match(raw[site.pos.col - 1 :].decode("utf-8", "replace"))
    if operand is None:
        return False
    name = operand["slice"]
    for index in range(here - 1, max(-1, here - _MAX_SCAN), -1):
        line = lines[index]
        # (most lines name neither: the pattern is tried only on those that name both)
        arguments = _making(line, name) if "make(" in line and name in line else None
        if arguments is not None:
            return _top_level_arguments(arguments) >= 3
        if line.startswith("func "):
            break
    return False


# What follows the slice's name where it is made: `:= make(`, `= make(`, ` T = make(`.
_MADE = re.compile(r"(?:\s+[^=:]+)?\s*:?=\s*make\((?P<arguments>.*)")
_NAME_GOES_ON = re.compile(r"[\w.]")  # a character before a name that makes it another


def _making(line: str, name: str) -> str | None:
    """The text after `make(` of the first `name := make(...)`, `name = make(...)` or
    `var name T = make(...)` in `line`: the first place `name` starts a word there
    (not inside `xname` nor `x.name`) that is followed by such an assignment. One
    pattern for every name: a pattern per name was compiled for each of std's ~700."""
    at = line.find(name)
    while at >= 0:
        if at == 0 or not _NAME_GOES_ON.match(line, at - 1):
            made = _MADE.match(line, at + len(name))
            if made is not None:
                return made["arguments"]
        at = line.find(name, at + 1)
    return None


def _top_level_arguments(text: str) -> int:
    """How many arguments the call whose `(` `text` follows has (its `)` on this line)."""
    depth, count = 0, 1
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return count
            depth -= 1
        elif char == "," and depth == 0:
            count += 1
    return 0  # the call goes on past the line: not read
