"""specialized_entry against the real compiler: the mallocgc*SC* calls in `-S` output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from escape_lens.model import class_of_specialized_entry, predict, rules_for, specialized_entry
from escape_lens.records import GoToolchain
from escape_lens.toolchain import read_toolchain, run
from tests.conftest import fetch_toolchain

pytestmark = pytest.mark.slow

NOSCAN = (1, 5, 8, 15, 16, 24, 33, 48, 80, 81, 96, 500, 512, 513)
SCAN = (8, 16, 24, 40, 80, 88, 512, 520)
_CALL = re.compile(r"\bCALL\s+runtime\.(newobject|mallocgc\w*)\(SB\)")
_TEXT = re.compile(r"^main\.(\w+) STEXT")


def _program(root: Path) -> None:
    lines = ["package main", ""]
    calls = []
    for size in NOSCAN:
        lines += ["//go:noinline", f"func n{size}() *[{size}]byte {{ return new([{size}]byte) }}"]
        calls.append(f"n{size}()")
    for size in SCAN:
        pad = f"; _ [{size - 8}]byte" if size > 8 else ""
        lines += [f"type p{size}t struct {{ p *byte{pad} }}", "//go:noinline"]
        lines.append(f"func p{size}() *p{size}t {{ return new(p{size}t) }}")
        calls.append(f"p{size}()")
    lines += ["", "var sink []any", "", "func main() {"]
    lines += [f"\tsink = append(sink, {call})" for call in calls]
    lines += ["}", ""]
    (root / "main.go").write_text("\n".join(lines))
    (root / "go.mod").write_text("module entries\n\ngo 1.21\n")


def _entries(toolchain: GoToolchain, root: Path, experiment: str) -> dict[str, str]:
    result = run(
        [toolchain.path, "build", "-gcflags=-S", "-o", str(root / "out"), "."],
        cwd=str(root),
        env={"GOEXPERIMENT": experiment, "GOFLAGS": ""},
        timeout=600,
    )
    entries: dict[str, str] = {}
    function = ""
    for line in result.stderr.splitlines():
        text = _TEXT.match(line)
        if text:
            function = text.group(1)
            continue
        call = _CALL.search(line)
        if call and function and function != "main":
            entries.setdefault(function, call.group(1))
    return entries


@pytest.mark.parametrize(
    ("version", "experiment"),
    [
        ("pinned", ""),
        ("pinned", "nosizespecializedmalloc"),
        pytest.param("1.26.6", "sizespecializedmalloc", marks=pytest.mark.toolchains),
        pytest.param("1.26.6", "", marks=pytest.mark.toolchains),
    ],
)
def test_compiler_calls_the_predicted_entry(
    tmp_path: Path, pinned_toolchain: GoToolchain, version: str, experiment: str
) -> None:
    toolchain = (
        pinned_toolchain if version == "pinned" else read_toolchain(fetch_toolchain(version))
    )
    _program(tmp_path)
    entries = _entries(toolchain, tmp_path, experiment)
    rules = rules_for(toolchain.version, (experiment,) if experiment else ())
    cases = [(f"n{s}", s, False) for s in NOSCAN] + [(f"p{s}", s, True) for s in SCAN]
    specialized = 0
    for function, size, pointers in cases:
        expected = specialized_entry(size, pointers, rules) or "newobject"
        assert entries.get(function) == expected, (function, entries.get(function))
        cls = class_of_specialized_entry(expected)
        if cls is not None:
            specialized += 1
            assert cls == predict(size, pointers, rules).size_class
    assert (specialized > 0) is rules.size_specialized
