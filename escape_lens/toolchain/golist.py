"""Reading `go list -json` output: a stream of JSON objects, one per package."""

from __future__ import annotations

import json
from collections.abc import Iterator


def iter_json_objects(text: str) -> Iterator[dict[str, object]]:
    """The objects of concatenated JSON values (`go list -json` prints one per package)."""
    decoder = json.JSONDecoder()
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return
        value, index = decoder.raw_decode(text, index)
        if isinstance(value, dict):
            yield value
