"""Records to bytes and back, for the result cache: data only, checked on the way in.

The result cache (toolchain/resultcache.py) reads files that anyone with write access to
the cache directory may have written (a CI cache restored from another branch). What it
reads must never run code and never raise anything but `CodecError`, so:

- The bytes are JSON, read by the C decoder: it yields only lists, strings, numbers,
  booleans and null, whatever the input. Nothing names a class or a function.
- What those values become is decided by the type the reader asks for, never by the data.
  A record (a dataclass) is the list of its init fields in declaration order; a tuple or a
  list is a list; an enum is its value; None is null. The decoder for a type is built once
  from the records' own annotations (`typing.get_type_hints`), so a new record, field or
  enum needs no change here: only annotations this module cannot check (`Any`, `object`,
  floats' NaN aside, anything unknown) are refused, when the decoder is built.
- Every value is checked against its annotation: exact types (`True` is not an `int`), a
  record's field count, a Literal's or enum's allowed values, each arm of a union in
  order. A mismatch, malformed JSON, an integer too long to parse, nesting deeper than the
  interpreter's recursion limit: all are `CodecError`, so a reader treats them as a miss.
- Encoding goes through the C encoder too (`default=` turns a record into its field
  values; tuples are lists to it already), so writing costs about what json.dumps does.

Field order is part of the format; the cache keys every entry by a hash of escape-lens's
own code, so a changed record is never read with an old layout.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from functools import cache
from operator import attrgetter
from typing import Any, TypeVar

__all__ = ["CodecError", "decode", "encode"]

T = TypeVar("T")
_Decoder = Callable[[Any], Any]


class CodecError(ValueError):
    """The bytes are not a value of the type asked for."""


def encode(value: object) -> bytes:
    """`value` (records, tuples, lists, enums, str, int, bool, None) as compact JSON."""
    text = json.dumps(value, default=_plain, separators=(",", ":"), check_circular=False)
    return text.encode("ascii")


def decode(data: bytes, shape: Any) -> Any:
    """The value of type `shape` that `data` encodes; CodecError when it encodes none."""
    decoder = _decoder(shape)
    try:
        return decoder(json.loads(data))
    except CodecError:
        raise
    except (ValueError, TypeError, RecursionError, UnicodeDecodeError) as exc:
        raise CodecError(f"not a {shape}: {type(exc).__name__}") from None


def _plain(value: object) -> object:
    """What the C encoder cannot write itself: a record's field values, an enum's value."""
    kind = type(value)
    getter = _field_getters.get(kind)
    if getter is None:
        if isinstance(value, enum.Enum):
            return value.value
        if not (is_dataclass(value) and isinstance(value, kind)):
            raise TypeError(f"cannot encode a {kind.__name__}")
        getter = _field_getters[kind] = _getter(kind)
    return getter(value)


_field_getters: dict[type, Callable[[Any], Any]] = {}


def _getter(kind: type) -> Callable[[Any], Any]:
    names = _init_fields(kind)
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda value: (one(value),)
    if not names:
        return lambda value: ()
    return attrgetter(*names)


def _init_fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind) if f.init)


@cache
def _decoder(shape: Any) -> _Decoder:
    """The checking decoder of one annotation (built once; records may refer to themselves)."""
    if shape is type(None) or shape is None:
        return _none
    if shape in _SCALARS:
        return _SCALARS[shape]
    origin = typing.get_origin(shape)
    if origin is typing.Union or origin is types.UnionType:
        return _union(tuple(_decoder(arm) for arm in typing.get_args(shape)), shape)
    if origin is typing.Literal:
        return _literal(frozenset(typing.get_args(shape)), shape)
    if origin is tuple:
        args = typing.get_args(shape)
        if len(args) == 2 and args[1] is Ellipsis:
            return _sequence(_decoder(args[0]), tuple)
        return _fixed_tuple(tuple(_decoder(arg) for arg in args))
    if origin is list:
        (item,) = typing.get_args(shape)
        return _sequence(_decoder(item), list)
    if isinstance(shape, type) and issubclass(shape, enum.Enum):
        return _enum(shape)
    if isinstance(shape, type) and is_dataclass(shape):
        return _record(shape)
    raise TypeError(f"the cache codec cannot check values of type {shape!r}")


def _none(value: Any) -> None:
    if value is not None:
        raise CodecError("expected null")


def _exactly(kind: type) -> _Decoder:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise CodecError(f"expected {kind.__name__}")
        return value

    return check


_SCALARS: dict[Any, _Decoder] = {kind: _exactly(kind) for kind in (str, int, bool, float)}


def _union(arms: tuple[_Decoder, ...], shape: Any) -> _Decoder:
    if len(arms) == 2 and _none in arms:
        other = arms[0] if arms[1] is _none else arms[1]
        return lambda value: None if value is None else other(value)

    def check(value: Any) -> Any:
        for arm in arms:
            try:
                return arm(value)
            except CodecError:
                continue
        raise CodecError(f"not a {shape}")

    return check


def _literal(allowed: frozenset[Any], shape: Any) -> _Decoder:
    kinds = frozenset(type(choice) for choice in allowed)

    def check(value: Any) -> Any:
        if type(value) not in kinds or value not in allowed:
            raise CodecError(f"not a {shape}")
        return value

    return check


def _sequence(item: _Decoder, kind: type) -> _Decoder:
    def check(value: Any) -> Any:
        if type(value) is not list:
            raise CodecError("expected a list")
        return kind([item(element) for element in value])

    return check


def _fixed_tuple(items: tuple[_Decoder, ...]) -> _Decoder:
    def check(value: Any) -> Any:
        if type(value) is not list or len(value) != len(items):
            raise CodecError(f"expected a list of {len(items)}")
        return tuple([item(element) for item, element in zip(items, value, strict=True)])

    return check


def _enum(kind: type[enum.Enum]) -> _Decoder:
    by_value = {member.value: member for member in kind}
    kinds = frozenset(type(value) for value in by_value)

    def check(value: Any) -> Any:
        if type(value) not in kinds or value not in by_value:
            raise CodecError(f"not a {kind.__name__}")
        return by_value[value]

    return check


def _record(kind: type) -> _Decoder:
    """A record's decoder, written out as one function for the record's fields.

    Decoding the result cache is what a warm run spends its time on, so checks of plain
    fields are inlined rather than made one call per field. The function's text is made
    from the record's annotations only; the data it reads never becomes code.
    """
    names = _init_fields(kind)
    hints = typing.get_type_hints(kind)
    scope: dict[str, Any] = {"kind": kind, "CodecError": CodecError, "_list": list}
    lines = [
        "def check(value):",
        f"    if value.__class__ is not _list or len(value) != {len(names)}:",
        f"        raise CodecError('expected a {kind.__name__}')",
    ]
    if names:
        lines.append(f"    {', '.join(f'f{i}' for i in range(len(names)))}, = value")
    _decoder_in_progress[kind] = _late(kind)
    try:
        for index, name in enumerate(names):
            lines += _field_check(f"f{index}", hints[name], scope)
    finally:
        del _decoder_in_progress[kind]
    lines += _construct(kind, names, scope)
    exec("\n".join(lines), scope)
    check: _Decoder = scope["check"]
    return check


def _construct(kind: type, names: tuple[str, ...], scope: dict[str, Any]) -> list[str]:
    """Lines that return the record: through its slots when `__init__` only assigns them
    (a frozen dataclass's `__init__` assigns through object.__setattr__, twice as slow)."""
    values = [f"f{index}" for index in range(len(names))]
    plain = hasattr(kind, "__slots__") and not hasattr(kind, "__post_init__")
    if not plain or any(f.init is False for f in fields(kind)):
        return [f"    return kind({', '.join(values)})"]
    scope["new"] = object.__new__
    lines = ["    record = new(kind)"]
    for name, value in zip(names, values, strict=True):
        scope[f"set_{name}"] = kind.__dict__[name].__set__
        lines.append(f"    set_{name}(record, {value})")
    return [*lines, "    return record"]


def _field_check(var: str, shape: Any, scope: dict[str, Any]) -> list[str]:
    """Lines that check (and convert) local `var` against `shape`, inlined when simple."""
    optional = False
    args = typing.get_args(shape)
    if typing.get_origin(shape) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [arm for arm in args if arm is not type(None)]
        if len(rest) == 1:
            optional, shape = True, rest[0]
    indent = "        " if optional else "    "
    body: list[str]
    if shape in (str, int, bool):
        scope[shape.__name__ + "_"] = shape
        body = [
            f"{indent}if {var}.__class__ is not {shape.__name__}_:",
            f"{indent}    raise CodecError('expected {shape.__name__}')",
        ]
    elif typing.get_origin(shape) is tuple and typing.get_args(shape)[1:] == (Ellipsis,):
        item = typing.get_args(shape)[0]
        body = [
            f"{indent}if {var}.__class__ is not _list:",
            f"{indent}    raise CodecError('expected a list')",
        ]
        if item in (str, int):
            scope[item.__name__ + "_"] = item
            body += [
                f"{indent}for item in {var}:",
                f"{indent}    if item.__class__ is not {item.__name__}_:",
                f"{indent}        raise CodecError('expected {item.__name__}')",
                f"{indent}{var} = tuple({var})",
            ]
        else:
            scope[f"d_{var}"] = _decoder_or_pending(item)
            body.append(f"{indent}{var} = tuple([d_{var}(item) for item in {var}])")
    else:
        scope[f"d_{var}"] = _decoder_or_pending(shape)
        body = [f"{indent}{var} = d_{var}({var})"]
    if optional:
        return [f"    if {var} is not None:", *body]
    return body


_decoder_in_progress: dict[type, _Decoder] = {}


def _decoder_or_pending(shape: Any) -> _Decoder:
    """`_decoder(shape)`, or, inside the record being built, that record's own decoder."""
    if isinstance(shape, type) and shape in _decoder_in_progress:
        return _late(shape)
    if any(part in _decoder_in_progress for part in _parts(shape)):
        return _late(shape)
    return _decoder(shape)


def _parts(shape: Any) -> tuple[Any, ...]:
    args = typing.get_args(shape)
    return tuple(part for arg in args for part in (arg, *_parts(arg)))


def _late(shape: Any) -> _Decoder:
    """A decoder looked up on first use: `TypeInfo | None` inside TypeInfo itself."""
    resolved: list[_Decoder] = []

    def check(value: Any) -> Any:
        if not resolved:
            resolved.append(_decoder(shape))
        return resolved[0](value)

    return check
