"""Which escape diagnostic a call proves: the evidence the join pairs them by.

Several allocations on one line (`fmt.Fprint(w, a, []byte(s), len(m))`) give several
diagnostics, told apart by column, and several calls, told apart only by their order in
the listing and by what they pass: the entry (`convT64` boxes an 8-byte scalar,
`convTstring` a string), the type descriptor (`newobject(type:T)`), the closure struct
of a func literal or method value (`struct { F uintptr; ... }`). The diagnostic says what
its expression is only through its text (`len(m)` is an int, `"x"` a constant, `&T{...}`
a T). This module reads both sides into one small vocabulary (`Shape`) and says whether
a pair agrees, disagrees or cannot be told; and, from the source line, the order in
which the compiler evaluates the line's expressions (arguments before the call that
takes them), which is the order of their calls in the listing.

Invariants:
- Evidence only: a shape is derived from what the text spells, never guessed. A pair
  the evidence cannot tell apart is `None`, and the join says so when it had to choose.
- Constants, pointers and `nil` are boxed without an allocation (walk/convert.go
  dataWord): a diagnostic whose subject is one never pairs with a boxing call.
- Pure functions of their arguments; the source line is passed in, not read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import Enum

from escape_lens.gonames import SHAPE_PREFIX, is_closure_record
from escape_lens.records import AllocCall
from escape_lens.vocab import Construct


class Kind(Enum):
    NO_CALL = "no-call"  # a constant or pointer: boxing it allocates nothing
    NUMBER = "number"  # an integer or float scalar of `size` bytes (0: unknown)
    STRING = "string"
    SLICE = "slice"
    SLICED = "sliced"  # `x[i:j]`: a string or a slice, as x is
    CLOSURE = "closure"  # a func literal's closure struct
    METHOD_VALUE = "method-value"  # a method value's closure struct (`struct { F; R }`)
    SELECTOR = "selector"  # `x.f`: a field's value or a method value
    ARRAY = "array"  # the backing array of a slice literal or `... argument`
    NOT_CLOSURE = "not-closure"  # a variable moved to the heap
    NAMED = "named"  # a type spelled in the source or the descriptor (`name`)


@dataclass(frozen=True, slots=True)
class Shape:
    kind: Kind
    size: int = 0
    name: str = ""  # the bare type name (no package path, no type arguments)
    # `T{...}`: a struct's value, or a slice type's backing array; `T("...")`: a string
    # constant (boxed without a call), or a byte or rune slice type's array of its bytes
    literal: bool = False


_NUMBER_LITERAL = re.compile(
    r"^[-+]?(?:0[xXoObB][\da-fA-F_]+|[\d_]*\.?[\d_]+(?:[eEpP][-+]?\d+)?)i?$"
)
_CONSTANT_WORDS = frozenset({"true", "false", "nil"})
# `Named(7)`, `time.Duration(5)`: a typed constant as the compiler prints it.
_TYPED_CONSTANT = re.compile(r"^[\w.]+\((?:[-+]?[\d.]+|\"[^\"]*\"|'[^']*')\)$")
_STRING_CONSTANT = re.compile(r'^[\w.]+\("')
_ARITHMETIC = re.compile(r"^[^\"'()]* [-*/%&|^]|<< |>> |^-\w")
# Library calls every Go program uses whose result is a string (the boxing of their
# result is a convTstring).
_STRING_RESULTS = re.compile(
    r"^(?:fmt\.Sprint[fln]?|strconv\.(?:Itoa|Quote\w*|Format\w+)|strings\.(?:Join|Repeat"
    r"|ToLower|ToUpper|Trim\w*|Replace\w*|Title)|\(\*strings\.Builder\)\.String"
    r"|\(\*bytes\.Buffer\)\.String)\("
)
_ALIASES = (("byte", "uint8"), ("rune", "int32"), ("any", "interface {}"))
# The compiler's suffix of a type declared inside a function (`stackEnt·1`).
_LOCAL_TYPE = re.compile(r"·\d+")
# A package qualifier in a composite type's name (`[4]crypto/x509.Cert` -> `[4]Cert`).
_QUALIFIER = re.compile(r"[\w\-./]*\.(?=\w)")


def bare_name(type_name: str) -> str:
    """`*example.com/m.T[go.shape.int]` -> `T`; `noalg.[4]int64` -> `[4]int64`; the
    predeclared aliases as descriptors spell them (`[]byte` -> `[]uint8`); a type
    declared in a function (`stackEnt·1`) by its name."""
    name = _LOCAL_TYPE.sub("", type_name.removeprefix("noalg.").lstrip("*"))
    if name.startswith("["):
        for alias, real in _ALIASES:
            name = re.sub(rf"\b{alias}\b", real, name)
        return _QUALIFIER.sub("", name)  # `[56]pkg/path.T` as the source spells it: [56]T
    name = name.split("[", 1)[0]
    return name.rsplit(".", 1)[-1]


def diagnostic_shape(subject: str, construct: Construct, converted: bool = False) -> Shape | None:
    """What the diagnostic's subject says its allocation is, or None when it says nothing.

    `converted`: the flow says the value is then converted to an interface, so this is
    the expression itself (a concatenation, not the boxing of an integer sum).
    """
    subject = subject.strip()
    if construct == Construct.STRING_CONCAT:
        return Shape(Kind.STRING) if converted or '"' in subject else None
    if construct == Construct.BYTES_CONVERSION and re.match(r'^\(\[\]byte\)\(".*"\)$', subject):
        return Shape(Kind.ARRAY)  # a constant string's bytes: a `[n]byte` object
    if construct == Construct.MOVED_TO_HEAP:
        return Shape(Kind.NOT_CLOSURE)
    if construct == Construct.CLOSURE:
        return Shape(Kind.CLOSURE)
    if subject == "... argument" or re.match(r"^\[\d*\][^{]*\{", subject):
        return Shape(Kind.ARRAY, name=bare_name(subject.split("{", 1)[0]))
    if construct == Construct.COMPOSITE_LITERAL and re.match(r"^[\w.]+\{", subject):
        return Shape(Kind.ARRAY)  # a defined slice type's literal: its backing array
    if construct in (Construct.NEW, Construct.COMPOSITE_LITERAL):
        spelled = _spelled_object(subject)
        return Shape(Kind.NAMED, name=spelled) if spelled else None
    if construct != Construct.INTERFACE:
        return None
    if (
        subject in _CONSTANT_WORDS
        or _NUMBER_LITERAL.match(subject)
        or subject[:1] in "\"`'"
        or _TYPED_CONSTANT.match(subject)
        or subject.startswith("&")
    ):
        return Shape(Kind.NO_CALL, literal=bool(_STRING_CONSTANT.match(subject)))
    if subject.startswith(("len(", "cap(")):
        return Shape(Kind.NUMBER, 8)
    if subject.startswith("string(") or _STRING_RESULTS.match(subject) or '" + ' in subject:
        return Shape(Kind.STRING)
    if subject.startswith(("([]byte)(", "([]rune)(", "[]byte(", "[]rune(")):
        return Shape(Kind.SLICE)
    if re.search(r"\[[^\[\]]*:[^\[\]]*\]$", subject):
        return Shape(Kind.SLICED)
    if subject.startswith("struct {"):
        return None  # the compiler's spelling of a type literal is not the descriptor's
    if re.match(r"^[\w.]+\{", subject):
        return Shape(Kind.NAMED, name=bare_name(subject.split("{", 1)[0]), literal=True)
    if _ARITHMETIC.search(subject) and " + " not in subject:
        return Shape(Kind.NUMBER)
    if re.search(r"[\w)]\.\w+$", subject):
        return Shape(Kind.SELECTOR)
    return None


def _spelled_object(subject: str) -> str:
    """The type a `new(T)`, `&T{...}` or `[N]T{...}` subject spells ("" when none)."""
    if subject.startswith("new(") and subject.endswith(")"):
        return bare_name(subject[4:-1])
    if subject.startswith("&") and "{" in subject:
        return bare_name(subject[1:].split("{", 1)[0])
    return ""


_FIXED_BOXES = {
    "concatstrings": Shape(Kind.STRING),
    "convT16": Shape(Kind.NUMBER, 2),
    "convT32": Shape(Kind.NUMBER, 4),
    "convT64": Shape(Kind.NUMBER, 8),
    "convTstring": Shape(Kind.STRING),
    "convTslice": Shape(Kind.SLICE),
}


_BOXINGS = frozenset({"convT", "convTnoptr"})


def call_shape(call: AllocCall) -> Shape | None:
    """What the call allocates, as far as its entry and type descriptor say."""
    fixed = _FIXED_BOXES.get(call.entry)
    if fixed is not None:
        return replace(fixed, name=bare_name(call.boxed)) if call.boxed else fixed
    if call.entry.startswith("concatstring"):
        return Shape(Kind.STRING)
    if call.type is None:
        return None
    name = call.type.name
    if is_closure_record(name):
        method = "; R " in name and name.count(";") == 1
        return Shape(Kind.METHOD_VALUE if method else Kind.CLOSURE)
    bare = name.removeprefix("noalg.")
    if bare.startswith("[]") or (bare.startswith("[") and call.entry in _BOXINGS):
        # `new([]T)` is a slice header; a boxed array value is the value's type
        return Shape(Kind.NAMED, name=bare_name(name))
    if bare.startswith("["):
        return Shape(Kind.ARRAY, name=bare_name(name))
    if SHAPE_PREFIX in name or name.startswith("struct {"):
        return None
    return Shape(Kind.NAMED, name=bare_name(name))


def agrees(diag: Shape | None, call: Shape | None) -> bool | None:
    """True when the evidence pairs them, False when it rules the pair out, None when it
    cannot tell."""
    if call is not None and call.kind == Kind.METHOD_VALUE:
        return diag is not None and diag.kind == Kind.SELECTOR
    if diag is None or call is None:
        if diag is not None and diag.kind == Kind.NO_CALL:
            return False
        if diag is not None and diag.kind == Kind.NOT_CLOSURE:
            return None
        return None
    if diag.kind == Kind.NO_CALL:
        return None if diag.literal and call.kind == Kind.ARRAY else False
    if diag.kind == Kind.NOT_CLOSURE:
        return False if call.kind in (Kind.CLOSURE, Kind.METHOD_VALUE) else None
    if diag.kind == Kind.SELECTOR:
        return False if call.kind in (Kind.CLOSURE, Kind.ARRAY) else None
    if call.kind == Kind.ARRAY and diag.literal:
        return None  # `IP{...}` boxed: its backing array, if IP is a slice type
    if call.kind == Kind.ARRAY and diag.kind in (Kind.ARRAY, Kind.NAMED):
        # `new([4]int64)`, `&[2]int{...}` name the array; `[]T{...}` only its element
        spelled = diag.name if diag.name.startswith("[") and diag.name[1:2] != "]" else ""
        return spelled == call.name if spelled else diag.kind == Kind.ARRAY
    if diag.kind == Kind.ARRAY and call.kind == Kind.NAMED and call.name.startswith("["):
        return diag.name == call.name if diag.name else None  # a boxed array value
    if Kind.CLOSURE in (call.kind, diag.kind) or Kind.ARRAY in (call.kind, diag.kind):
        return call.kind == diag.kind
    if diag.kind == Kind.NAMED and call.kind == Kind.NAMED:
        return diag.name == call.name
    if diag.kind == Kind.NAMED and call.name:
        return diag.name == call.name  # the boxed value's type word names it
    if Kind.NAMED in (diag.kind, call.kind):
        return None  # a defined type's underlying kind is not spelled
    if diag.kind == Kind.SLICED and call.kind in (Kind.SLICE, Kind.STRING):
        return True
    if diag.kind != call.kind:
        return False
    if diag.kind == Kind.NUMBER and diag.size and call.size:
        return diag.size == call.size
    return True if diag.kind != Kind.NUMBER or diag.size else None


def evaluation_key(line: str | None, col: int, value: bool = False) -> tuple[int, int]:
    """A sort key that orders a line's diagnostics as the compiler evaluates them: a
    call or conversion (a `(` at its column) after everything inside its parentheses,
    so arguments come before the call that takes them; so is a composite literal (`{`)
    boxed as a `value`. A composite literal allocated on the heap is allocated before
    its elements are evaluated: it keeps its column.

    `line` is the source line (None when unknown: column order).
    """
    opener = "({" if value else "("
    if line is None or not 0 < col <= len(line) or line[col - 1] not in opener:
        return (col, 0)
    close = _matching(line, col - 1)
    return (close + 1, -col) if close is not None else (col, 0)


def _matching(line: str, start: int) -> int | None:
    """The index of the bracket that closes `line[start]`, skipping strings; None when
    it closes on a later line."""
    for index, char, depth in scan(line, start):
        if depth == 0 and char in ")}]":
            return index
    return None


def scan(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, bracket depth after it) of the characters of `text` from
    `start` that are outside string and rune literals (the quotes themselves too)."""
    depth = 0
    quote = ""
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote != "`":
                escaped = True
            elif char == quote:
                quote = ""
            continue
        if char in "\"'`":
            quote = char
        elif char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        yield index, char, depth
