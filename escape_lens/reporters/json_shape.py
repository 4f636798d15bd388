"""The shape of an `escape-lens/1` document, checked before any record is built from it.

A report or baseline given as input may be damaged or made up (a CI cache restored
from another branch, a hand-edited baseline). Every value the readers and then `diff`
and the gate rely on is checked here for its JSON type and range, so that what cannot
be a report is one ReportFormatError naming the first bad field (`sites[3].line: ...`),
and never an exception later, in code that trusts a record's types.

Invariants: keys not listed are ignored (newer reports add fields); a key listed as
optional may be missing or null where the reader gives a default; integers are
non-negative and below 2**53 (what any JSON reader holds exactly).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from escape_lens.errors import ReportFormatError

_MAX_INT = 1 << 53

# field -> (kind, required); kinds: str, int, bool, list[str], pos, flow, prediction,
# predictions, escape, toolchain, sites, skipped. A trailing "?" allows null.
_POS = {"file": ("str", True), "line": ("int", True), "column": ("int", False)}
_PREDICTION_INTS = (
    "size_class",
    "class_bytes",
    "header_bytes",
    "span_class",
    "span_pages",
    "objects_per_span",
    "waste_bytes",
    "requested_bytes",
)
_PREDICTION = {
    "path": ("str", True),
    **dict.fromkeys(_PREDICTION_INTS, ("int", True)),
    "elem_bytes": ("int?", False),
    "tiny_max_count": ("int?", False),
    "small_max_count": ("int?", False),
}
_ESCAPE = {"kind": ("str", False), "message": ("str", True), "flow": ("flow", False)}
_STEP = {"pos": ("pos?", False), "text": ("str", True)}
_SITE = {
    "file": ("str", True),
    "line": ("int", True),
    "column": ("int", False),
    "package": ("str", True),
    "function": ("str", True),
    "construct": ("str", True),
    "expr": ("str", False),
    "type": ("str?", False),
    "size": ("int?", False),
    "ptrbytes": ("int?", False),
    "count": ("int?", False),
    "entry": ("str?", False),
    "const_count": ("int?", False),
    "call_file": ("str?", False),
    "call_line": ("int?", False),
    "asm": ("list[str]?", False),
    "escape": ("escape?", False),
    "allocates": ("bool", False),
    "note": ("str", False),
    "notes": ("notes", False),
    "prediction": ("prediction?", False),
    "extra": ("predictions", False),
    "inlined_from": ("pos?", False),
    "origin": ("str", False),
    "fingerprint": ("str", False),
}
_TOOLCHAIN = {
    "version": ("str", True),
    "goos": ("str", False),
    "goarch": ("str", False),
    "goexperiment": ("list[str]", False),
    "path": ("str", False),
}
_SKIPPED = {"package": ("str", True), "reason": ("str", True)}
_NOTE = {"code": ("str", True), "text": ("str", True)}
_REPORT = {
    "tool_version": ("str", False),
    "origin": ("str", False),
    "toolchain": ("toolchain", True),
    "root": ("str", False),
    "packages": ("list[str]", False),
    "sites": ("sites", True),
    "skipped": ("skipped", False),
}
_TABLES: dict[str, dict[str, tuple[str, bool]]] = {
    "pos": _POS,
    "prediction": _PREDICTION,
    "escape": _ESCAPE,
    "toolchain": _TOOLCHAIN,
}
_LISTS = {
    "flow": _STEP,
    "sites": _SITE,
    "skipped": _SKIPPED,
    "predictions": _PREDICTION,
    "notes": _NOTE,
}


def check_report_shape(data: Mapping[str, Any], source: str) -> None:
    """ReportFormatError for the first value of `data` a reader could not use."""
    _table(data, _REPORT, "", source)


def _fail(source: str, where: str, message: str) -> None:
    raise ReportFormatError(f"{source}: malformed escape-lens report: {where}: {message}")


def _table(value: Any, fields: Mapping[str, tuple[str, bool]], where: str, source: str) -> None:
    if not isinstance(value, Mapping):
        _fail(source, where or "the document", "must be an object")
    for key, (kind, required) in fields.items():
        path = f"{where}.{key}" if where else key
        if key not in value:
            if required:
                _fail(source, path, "missing")
            continue
        _value(value[key], kind, path, source)


def _value(value: Any, kind: str, where: str, source: str) -> None:
    if kind.endswith("?"):
        if value is None:
            return
        kind = kind[:-1]
    if kind == "str":
        ok = isinstance(value, str)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MAX_INT
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "list[str]":
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    elif kind in _TABLES:
        _table(value, _TABLES[kind], where, source)
        return
    else:
        if not isinstance(value, list):
            _fail(source, where, "must be a list")
        for index, item in enumerate(value):
            _table(item, _LISTS[kind], f"{where}[{index}]", source)
        return
    if not ok:
        _fail(source, where, f"must be {kind.replace('int', 'a non-negative integer')}")
