"""Go symbol and type names as the compiler and linker spell them, taken apart in one place.

A function symbol is `import/path.Name`, `path.(*T).M`, `path.T[go.shape.int].M`,
`path.F.func1` (a closure), `path.F.func1#hash#` (a closure copy compiled again for an
inlined caller), `path.F-range1` (a range-over-func loop body). Sites name functions
inside their package (`short_function`); the configuration, fingerprints, the join, the
listing parser, HTML and binary mode all read names through the functions here.

Invariants:
- Pure string functions; no name is looked up anywhere.
- The package part of a symbol is the longest prefix made of characters an import path
  may hold, up to the first dot after its last slash: receivers `(`, type arguments `[`
  and type literals, which may hold slashes themselves, never count.
- Closure suffixes are one grammar (`_CLOSURE_PART`); a range-over-func body is a
  closure for `is_closure` but keeps its name in `enclosing_function` (fingerprints and
  `check` patterns were defined so; changing it would change stored fingerprints).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote

# The import path part of a symbol: the characters an import path may hold.
_PATH_PREFIX = re.compile(r"[\w./%~+-]*")
# A func literal, or a go/defer statement's wrapper, numbered in its function; `.N`
# numbers closures inside closures (go1.22+: `F.func1.1`).
_NUMBERED_CLOSURE = r"\.(?:func|gowrap|deferwrap)\d+"
_NESTED_CLOSURE = r"\.\d+"
_RANGE_BODY = r"-range\d+"  # a range-over-func loop body (go1.23+)
_CLOSURE_PART = re.compile(f"{_NUMBERED_CLOSURE}|{_RANGE_BODY}")
_TRAILING_CLOSURE = re.compile(f"(?:{_NUMBERED_CLOSURE}|{_NESTED_CLOSURE})$")
# `#hash#` of a closure copy (cmd/internal/obj.TrimInlineHash removes the same)
_INLINE_HASH = re.compile(r"#[^#]*#")
_TYPE_ARGS = re.compile(r"\[[^\[\]]*\]")
_DIRECTORIES = re.compile(r"[\w.~-]+/")  # the directories of an import path in a type name
SHAPE_PREFIX = "go.shape."
CHAN_PREFIXES = ("chan<- ", "<-chan ", "chan ")  # how a channel type's name opens


def split_symbol(symbol: str) -> tuple[str, str]:
    """(package path, name inside it) of a compiler symbol; ("x", "") without a dot."""
    prefix = _PATH_PREFIX.match(symbol)
    head = prefix.group(0) if prefix else ""
    slash = head.rfind("/")
    dot = head.find(".", slash + 1)
    if dot < 0:
        return symbol, ""
    return symbol[:dot], symbol[dot + 1 :]


@lru_cache(maxsize=1 << 16)  # the join asks for each function's many times (sites.py)
def short_function(symbol: str) -> str:
    """The function's name inside its package: `example.com/m/p.(*T).M` -> `(*T).M`.

    Binary mode names functions the same way, so source and binary sites compare.
    """
    package, name = split_symbol(symbol)
    return name or package


def package_of(symbol: str) -> str:
    """The package path of a compiler symbol: `example.com/m/p.(*T).M` -> `example.com/m/p`."""
    return split_symbol(symbol)[0]


def qualified_name(package: str, function: str) -> str:
    """The full name `package.Func` of a function named inside its package; a name
    already qualified is kept."""
    if function.startswith(package + "."):
        return function
    return f"{package}.{function}"


def local_name(package: str, function: str, *aliases: str) -> str:
    """`function` without the `package.` (or an alias's) qualifier it may carry."""
    for prefix in (package, *aliases):
        if function.startswith(prefix + "."):
            return function[len(prefix) + 1 :]
    return function


@lru_cache(maxsize=4096)  # a report's sites repeat a few hundred types
def type_in_package(name: str, package: str) -> str:
    """A type name as Go source in `package` writes it: the package's own types bare
    (`T`, `*T`; a command's, `main.T`, too), another package's by its last element
    (`*example.com/m/pkg.T` -> `*pkg.T`), even when that element is the package's own
    (in crypto/ecdh, `crypto/internal/fips140/ecdh.PrivateKey` is `ecdh.PrivateKey`)."""
    own = re.sub(rf"(?<![\w/.]){re.escape(package)}\.|(?<![\w/.])main\.", "", name)
    return _DIRECTORIES.sub("", own)


def is_closure(name: str) -> bool:
    """Whether the function is a func literal, a go/defer wrapper or a range-func body."""
    return _CLOSURE_PART.search(name) is not None


# The compiler's record of a closure or method value: its code pointer, then what it
# captured (`noalg.struct { F uintptr; X0 *int }`).
_CLOSURE_RECORD = ("struct { F uintptr", "noalg.struct { F uintptr")


def is_closure_record(type_name: str) -> bool:
    """Whether a type is the record of a closure or method value the compiler made."""
    return type_name.startswith(_CLOSURE_RECORD)


def enclosing_function(name: str) -> str | None:
    """The function a closure is numbered in (`F.func2` -> `F`, `F.func1.1` ->
    `F.func1`), None when `name` does not end in a closure number."""
    shorter = _TRAILING_CLOSURE.sub("", name)
    return shorter if shorter != name else None


def without_inline_hash(name: str) -> str:
    """A closure copy named as the original: `F.func1#a1b2#.1` -> `F.func1.1`."""
    return _INLINE_HASH.sub("", name) if "#" in name else name


def without_type_args(name: str) -> str:
    """`Stack[go.shape.int].Push` -> `Stack.Push` (nested lists too)."""
    previous = None
    while previous != name:
        previous, name = name, _TYPE_ARGS.sub("", name)
    return name


def is_shape(name: str) -> bool:
    """Whether a function or type name holds a generic shape (`[go.shape.int]`)."""
    return SHAPE_PREFIX in name


def spells_container(name: str) -> bool:
    """Whether a map or channel type's name spells its key and element (a type literal,
    `map[string]int`), unlike a defined type's (`net/http.Header`)."""
    return name.startswith(("map[", *CHAN_PREFIXES, "noalg.map["))


def map_key_elem(name: str) -> tuple[str, str] | None:
    """`map[K]V` -> (K, V) for a map type's name, brackets in K balanced; else None."""
    if not name.startswith("map["):
        return None
    depth = 0
    for index in range(len("map"), len(name)):
        char = name[index]
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return name[len("map[") : index], name[index + 1 :]
    return None


def chan_elem(name: str) -> str | None:
    """`chan T`, `chan<- T`, `<-chan T` -> T for a channel type's name, else None."""
    for prefix in CHAN_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return None


def component_types(name: str) -> tuple[str, ...]:
    """The types a map or channel allocation is sized from: (key, elem) or (elem,)."""
    pair = map_key_elem(name)
    if pair is not None:
        return pair
    elem = chan_elem(name)
    return (elem,) if elem is not None else ()


def symbol_path(import_path: str) -> str:
    """An import path as symbols spell it (cmd/internal/objabi.PathToPrefix): a dot of
    the last element, `%`, `"`, spaces, control and non-ASCII bytes as `%xx`, so that
    the first dot after the last slash ends the path (`crypto/internal/entropy/v1%2e0%2e0`)."""
    data = import_path.encode()
    slash = data.rfind(b"/")
    if not any(_escaped(c, i > slash) for i, c in enumerate(data)):
        return import_path
    return "".join(f"%{c:02x}" if _escaped(c, i > slash) else chr(c) for i, c in enumerate(data))


def unescaped(symbol_text: str) -> str:
    """A name as Go spells it, from a symbol's spelling of it, whose import paths escape
    their last element's dots (`[]example.com/m/foo%2ebar.T` -> `[]example.com/m/foo.bar.T`):
    `symbol_path` undone. Exact: `%` is itself escaped there, and no Go identifier or
    type literal holds one."""
    return unquote(symbol_text) if "%" in symbol_text else symbol_text


def _escaped(byte: int, in_last_element: bool) -> bool:
    return byte <= 0x20 or byte >= 0x7F or byte in b'%"' or (byte == 0x2E and in_last_element)
