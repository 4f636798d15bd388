"""Types of a package whose path's last element holds a dot (`example.com/m/foo.bar`,
`gopkg.in/yaml.v3`) are named as Go spells them, not as symbols escape them
(`foo%2ebar`), and are sized from that package's export data when it is not a target
(go1.21, go1.24, the pinned go1.27)."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.records import GoToolchain
from tests.integration.build_helpers import MATRIX, toolchain

pytestmark = pytest.mark.slow

_FOO = "package foo\n\ntype T struct {\n\tA, B int64\n\tP    *int\n}\n\nvar Sink any\n"
_MAIN = """package main

import foo "example.com/dotted.mod/foo.bar"

func main() {
\tt := foo.T{}
\tt.A = int64(len(foo.Sink.(string)))
\tfoo.Sink = t
\tfoo.Sink = make([]foo.T, len(foo.Sink.(string)))
\tfoo.Sink = new(foo.T)
}
"""


@pytest.mark.parametrize("version", MATRIX)
def test_a_dotted_package_types_are_named_and_sized(
    tmp_path: Path, pinned_toolchain: GoToolchain, version: str
) -> None:
    root = tmp_path / "mod"
    files = {"go.mod": "module example.com/dotted.mod\n\ngo 1.21\n", "main.go": _MAIN}
    files["foo.bar/foo.go"] = _FOO
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    go = toolchain(version, pinned_toolchain)
    report = analyze_targets(["."], go=go.path, cwd=str(root))  # foo.bar is no target
    sites = [s for s in report.sites if s.allocates]
    assert sites
    assert not [s for s in report.sites if s.type is not None and "%" in s.type.name]
    named = "example.com/dotted.mod/foo.bar.T"
    by_line = {s.pos.line: s for s in sites}
    boxed, made, new = by_line[8], by_line[9], by_line[10]
    assert boxed.type is not None
    assert (boxed.type.name, boxed.type.size) == (named, 24)
    assert made.type is not None
    assert (made.type.name, made.type.size) == (named, 24)
    assert made.prediction is not None
    assert made.prediction.elem_bytes == 24
    assert new.type is not None
    assert (new.type.name, new.type.size, new.requested_bytes) == (named, 24, 24)
