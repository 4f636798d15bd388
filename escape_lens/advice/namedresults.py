"""Whether a site's flow chain ends at a named result of its function or at a variable
kept past the object's scope, read from the source.

`func F() (out []T) { out = make([]T, n); return }`: the compiler's chain ends at `out`
(`flow: out ← &{storage for make(...)}`) with no `return` edge, as a bare return (or
`return out`) returns the named result where it is. An unnamed result ends the chain at
`~r0` after a `return` edge (advice/causes.py). The chain alone cannot tell the named
result from a variable declared outside the loop the allocation is in (`var l *T; for
{ l = new(T) }` ends at `l` in the same way): only the function's declaration can.
A chain ends at a variable only when the compiler finds that it outlives the object
(cmd/compile/internal/escape `outlives`): a result, one declared outside the object's
loop or closure, or one itself on the heap; the declaration tells the first from the
others (`chain_variable`).
Invariants:
- The declaration is the nearest line above the site that starts with `func ` and names
  the chain's function, within _MAX_SCAN lines; it is read up to the `{` of its body.
- An inlined site is read at its position in the function it is inlined into, whose
  chain it is; a callee's variable that ends the chain under the name of one of that
  function's results would be taken for it (a variable kept past the callee's loop).
- A closure's site, or one with no readable source: neither (the cause stays as the
  chain alone has it: a closure's results are not read).
"""

from __future__ import annotations

import re

from escape_lens.gonames import is_closure
from escape_lens.inputs import SourceLines
from escape_lens.records import FlowStepKind, Site

# How far above the site its function's declaration is looked for.
_MAX_SCAN = 2000
# How many lines a declaration's signature may span.
_MAX_SIGNATURE_LINES = 40
_IDENTIFIER = re.compile(r"[^\W\d]\w*")
# A variable a chain may end at: `last`, or an inlined callee's `sync.d`.
_VARIABLE = re.compile(r"(?:[^\W\d]\w*\.)?[^\W\d]\w*")
# A named result: a name, then its type (`chan T` is the one unnamed type spelled so).
_NAMED = re.compile(r"^(?P<name>[^\W\d]\w*)\s+\S")
_OPENING = {"(": ")", "[": "]", "{": "}"}


def chain_variable(site: Site, source: SourceLines | None) -> tuple[str, bool] | None:
    """(the variable the chain ends at, whether it is a named result of the site's
    function); None when the chain ends at no variable or the declaration is not read.
    Any other variable the compiler ends a chain at outlives the object (escape's
    `outlives`): declared outside the loop or the closure that makes it, or itself on
    the heap; a callee's variable inlined here (`sync.d`) is one too."""
    root = chain_root(site)
    if not _VARIABLE.fullmatch(root):
        return None
    results = named_results(site, source)
    return None if results is None else (root, root in results)


def chain_root(site: Site) -> str:
    """The variable the chain ends at (its last hop's destination; "" without a chain)."""
    if site.diagnostic is None:
        return ""
    hops = [step for step in site.diagnostic.flow if step.kind == FlowStepKind.HOP]
    return hops[-1].destination if hops else ""


def named_results(site: Site, source: SourceLines | None) -> tuple[str, ...] | None:
    """The named results of the function whose chain `site` has (empty when unnamed);
    None when its declaration is not read: a closure, no chain, no source, none found."""
    diagnostic = site.diagnostic
    if diagnostic is None:
        return None
    function = diagnostic.function or site.function
    if not function or is_closure(function):
        return None
    if function == "init":  # (a package's variable initialisers too): no results
        return ()
    lines = source(site.pos.file) if source is not None else None
    if not lines or not 0 < site.pos.line <= len(lines):
        return None
    name = re.sub(r"\[.*\]", "", function).rsplit(".", 1)[-1]
    for index in range(site.pos.line - 1, max(-1, site.pos.line - 1 - _MAX_SCAN), -1):
        if lines[index].startswith("func "):
            text = " ".join(_code(line) for line in lines[index : index + _MAX_SIGNATURE_LINES])
            declared = _declaration(text)
            return declared[1] if declared is not None and declared[0] == name else None
    return None


def _code(line: str) -> str:
    """A line without its `//` comment (a signature holds no string with `//`)."""
    return line.split("//", 1)[0]


def _declaration(text: str) -> tuple[str, tuple[str, ...]] | None:
    """The name a `func ...` declaration declares and the names of its results (empty when
    they are unnamed); None when the text is no declaration this reads."""
    at = _skip_space(text, len("func"))
    if text.startswith("(", at):  # a method's receiver
        at = _past_group(text, at)
        if at < 0:
            return None
        at = _skip_space(text, at)
    found = _IDENTIFIER.match(text, at)
    if found is None:
        return None
    at = found.end()
    if text.startswith("[", at):  # type parameters
        at = _past_group(text, at)
    if at < 0 or not text.startswith("(", at):
        return None
    at = _past_group(text, at)
    if at < 0:
        return None
    at = _skip_space(text, at)
    if not text.startswith("(", at):
        return found.group(), ()  # no result, or one unnamed
    end = _past_group(text, at)
    if end < 0:
        return None
    parts = [part.strip() for part in _top_level_split(text[at + 1 : end - 1])]
    named = [_NAMED.match(part) for part in parts]
    if not any(m is not None and m["name"] != "chan" for m in named):
        return found.group(), ()
    names = (_IDENTIFIER.match(part) for part in parts)
    return found.group(), tuple(n.group() for n in names if n is not None)


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _past_group(text: str, at: int) -> int:
    """The index past the bracket that closes the one at `at` (-1 when it never closes)."""
    depth: list[str] = []
    for index in range(at, len(text)):
        char = text[index]
        if char in _OPENING:
            depth.append(_OPENING[char])
        elif depth and char == depth[-1]:
            depth.pop()
            if not depth:
                return index + 1
    return -1


def _top_level_split(text: str) -> list[str]:
    parts: list[str] = []
    depth, start = 0, 0
    for index, char in enumerate(text):
        if char in _OPENING:
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts
