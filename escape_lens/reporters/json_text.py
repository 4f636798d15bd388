"""The one JSON spelling of escape-lens's reports, written fast.

Reports are `json.dumps(value, indent=2, ensure_ascii=False)` byte for byte: that is the
format users diff and tools parse. But json.dumps with an indent runs the pure-Python
encoder (the C one only writes compact JSON), a generator step per value, which was most
of a warm `analyze --format json`. `indented` writes the same bytes from plain recursion
over the few types reports hold (str enums and finite floats too), with the C string
encoder; any other value (a key that is not a string, an infinite float, a subclass
json.dumps spells its own way) goes to json.dumps itself, re-indented, so the bytes stay
json.dumps's whatever a report holds.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring
from typing import Any

__all__ = ["dumps", "indented"]


def dumps(data: Any) -> str:
    """`json.dumps(data, indent=2, ensure_ascii=False) + "\\n"`, faster."""
    return indented(data, "\n") + "\n"


def indented(value: Any, newline: str) -> str:
    """`value` as json.dumps with indent 2 writes it, nested where a line starts with
    `newline` (a newline and the enclosing indent)."""
    kind = type(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = newline + "  "
        parts = []
        for key, item in value.items():
            if type(key) is not str:
                return _standard(value, newline)
            # Scalars inline: most values of a report are, and a call each is the cost.
            kind = type(item)
            if kind is str:
                text = _string(item)
            elif kind is int:
                text = _int(item)
            elif item is None:
                text = "null"
            elif kind is bool:
                text = "true" if item else "false"
            elif isinstance(item, str):  # a StrEnum (sites hold several)
                text = _string(item)
            else:
                text = indented(item, inner)
            parts.append(_string(key) + ": " + text)
        return "{" + inner + ("," + inner).join(parts) + newline + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = newline + "  "
        items = [_string(v) if type(v) is str else indented(v, inner) for v in value]
        return "[" + inner + ("," + inner).join(items) + newline + "]"
    if kind is str:
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return _int(value)
    if isinstance(value, str):  # a StrEnum: json.dumps writes its value, as a str's
        return _string(value)
    if kind is float and math.isfinite(value):
        return _float(value)
    return _standard(value, newline)


_string = encode_basestring
_int = int.__repr__
_float = float.__repr__  # json.dumps's spelling of a finite float


def _standard(value: Any, newline: str) -> str:
    # json.dumps never writes a raw newline inside a string, so every newline in its
    # output starts a line of the indentation, which moves as a whole.
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline)
