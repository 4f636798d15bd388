"""Site fingerprints: an identity for a site that survives edits elsewhere in the file.

A fingerprint hashes (package, function, construct, type, normalised expression,
ordinal). It deliberately leaves out the line and column, so blank lines, comments and
reordered functions do not change it; it masks local identifiers in the expression, so
renaming a local variable does not either; and it drops the numbers of closures
(`F.func2` is `F.func`), so adding a closure does not change the sites of the closures
after it. The ordinal tells apart sites that agree on everything else (two `new(T)` in
one function, or in two closures of one function), numbered in source order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import replace

from escape_lens.gonames import enclosing_function
from escape_lens.records import Site

# Identifiers that carry meaning in an allocating expression and are never local names.
_KEEP = frozenset(
    {
        "append",
        "cap",
        "chan",
        "clear",
        "complex",
        "copy",
        "func",
        "imag",
        "interface",
        "len",
        "make",
        "map",
        "max",
        "min",
        "new",
        "real",
        "struct",
        "string",
        "byte",
        "rune",
        "bool",
        "error",
        "any",
        "int",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "uintptr",
        "float32",
        "float64",
        "complex64",
        "complex128",
        "nil",
        "true",
        "false",
        "literal",
    }
)
_IDENT = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(?!\w)")


def normalise_expr(expr: str) -> str:
    """Whitespace dropped; local (lower-case, unqualified) identifiers become `_`.

    Exported names, selectors after a dot (`s.field`, `pkg.Type`) and composite literal
    types (`smallStruct{`) are kept: they name what is allocated, not where it is stored.
    """
    compact = re.sub(r"\s+", "", expr)

    def mask(match: re.Match[str]) -> str:
        name = match.group(1)
        end = match.end(1)
        follows_brace = end < len(compact) and compact[end] in "{["
        if name in _KEEP or name[0].isupper() or follows_brace:
            return name
        return "_"

    return _IDENT.sub(mask, compact)


def stable_function(function: str) -> str:
    """The function a site belongs to, for identity: closures (`F.func2`, `F.func1.3`,
    `F.gowrap1`) are numbered by their order in `F`, so adding a closure renumbers the
    ones after it; they are identified by `F` plus `.func`, and told apart by the ordinal.
    Type arguments (`Stack[go.shape.int].Push`) are kept: each instantiation is a site.
    """
    depth = 0
    while (parent := enclosing_function(function)) is not None:
        function, depth = parent, depth + 1
    return function + ".func" * depth


def _key(site: Site) -> tuple[str, str, str, str, str]:
    type_name = site.type.name if site.type is not None else ""
    return (
        site.package,
        stable_function(site.function),
        site.construct,
        type_name,
        normalise_expr(site.expr),
    )


def assign_fingerprints(sites: Iterable[Site]) -> list[Site]:
    """The sites (in their given order) with `fingerprint` set."""
    ordered = list(sites)
    keys = [_key(site) for site in ordered]
    ordinals: dict[tuple[str, ...], int] = {}
    numbered: dict[int, int] = {}
    for index in sorted(range(len(ordered)), key=lambda i: (keys[i], ordered[i].pos)):
        key = keys[index]
        numbered[index] = ordinals.get(key, 0)
        ordinals[key] = numbered[index] + 1
    result = []
    for index, site in enumerate(ordered):
        text = "\x1f".join((*keys[index], str(numbered[index])))
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        result.append(replace(site, fingerprint=digest))
    return result
