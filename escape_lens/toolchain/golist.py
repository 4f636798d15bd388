"""`go list -json`: reading its output (a stream of JSON objects, one per package), and
asking it which files a build compiles."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence

from escape_lens.toolchain.process import run

LIST_TIMEOUT = 600.0


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


def source_files(
    go: str, packages: Sequence[str], *, cwd: str, tests: bool = False
) -> dict[str, tuple[str, ...]]:
    """The Go files the build compiles, per import path (absolute paths): what go chose
    after build constraints (a file excluded by `//go:build` or `_x.go` is not in it).

    One `go list` without compiling; the gate reads directives and declarations from
    exactly these files, never from a file go would not compile.
    """
    fields = "ImportPath,Dir,GoFiles,CgoFiles" + (",TestGoFiles,XTestGoFiles" if tests else "")
    argv = [go, "list", "-e", f"-json={fields}", "--", *packages]
    output = run(argv, timeout=LIST_TIMEOUT, cwd=cwd, check=False).stdout
    files: dict[str, tuple[str, ...]] = {}
    for raw in iter_json_objects(output):
        directory = raw.get("Dir")
        path = raw.get("ImportPath")
        if not isinstance(directory, str) or not isinstance(path, str):
            continue
        names: list[str] = []
        for key in ("GoFiles", "CgoFiles", "TestGoFiles", "XTestGoFiles"):
            value = raw.get(key)
            if isinstance(value, list):
                names += [n for n in value if isinstance(n, str)]
        files[path] = tuple(os.path.join(directory, name) for name in sorted(set(names)))
    return files
