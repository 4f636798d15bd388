"""`escape-lens sizeclass` with a real toolchain: discovery and --verify."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from escape_lens.cli import main

pytestmark = pytest.mark.slow


def test_version_of_the_discovered_toolchain(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, pinned_go: Path
) -> None:
    monkeypatch.setenv("ESCAPE_LENS_GO", str(pinned_go))
    assert main(["sizeclass", "32768"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("go1.27 allocator:")
    assert "large path" in out
    assert main(["sizeclass", "32768", "--go", str(pinned_go), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == "large"


def test_verify_prints_agreement(capsys: pytest.CaptureFixture[str], pinned_go: Path) -> None:
    code = main(["sizeclass", "--verify", "33", "1024", "--pointers", "--go", str(pinned_go)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("measured on go1.27.3")
    assert "ok" in out.splitlines()[1]
    assert out.splitlines()[-1] == "2 of 2 cases agree with the model"


def test_verify_json_lines(capsys: pytest.CaptureFixture[str], pinned_go: Path) -> None:
    code = main(["sizeclass", "--verify", "9", "1024", "--go", str(pinned_go), "--format", "json"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert [(r["case"], r["agrees"]) for r in rows] == [("9:n", True), ("1024:n", True)]
    assert rows[0]["prediction"]["path"] == "tiny"
    assert rows[1]["observed"]["classes"] == {"1024": rows[1]["observed"]["n"]}


LAYOUT_PROGRAM = """package main

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

func pointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.Slice,
		reflect.String, reflect.Interface, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return t.Len() > 0 && pointers(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if pointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

func show[T any]() {
	var v T
	fmt.Println(unsafe.Sizeof(v), pointers(reflect.TypeOf(&v).Elem()))
}

func main() {
%s
}
"""

# Each type as `--type` takes it (packages by import path) and as Go spells it.
LAYOUT_TYPES = [
    ("struct{ a int64; b []byte }", "struct{ a int64; b []byte }"),
    ("struct{ a bool; b int64; c bool }", "struct{ a bool; b int64; c bool }"),
    ("struct{ a bool; c bool; b int64 }", "struct{ a bool; c bool; b int64 }"),
    ("struct{ n int32; s struct{} }", "struct{ n int32; s struct{} }"),
    ("[3]*bytes.Buffer", "[3]*bytes.Buffer"),
    ("struct{ mu sync.Mutex; m map[string]int; f float32 }",
     "struct{ mu sync.Mutex; m map[string]int; f float32 }"),
    ("[5]struct{ x uint8; y complex128 }", "[5]struct{ x uint8; y complex128 }"),
    ("bytes.Buffer", "bytes.Buffer"),
]  # fmt: skip


@pytest.mark.parametrize("goarch", ["amd64", "386"])
def test_type_layout_is_the_compilers(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    pinned_go: Path,
    goarch: str,
) -> None:
    """`sizeclass --type` against unsafe.Sizeof of a program the same compiler built
    for the same GOARCH (386: 4-byte words, int64 aligned to 4)."""
    monkeypatch.setenv("GOARCH", goarch)
    body = "\n".join(f"\tshow[{go_spelling}]()" for _, go_spelling in LAYOUT_TYPES)
    (tmp_path / "main.go").write_text(LAYOUT_PROGRAM % body)
    (tmp_path / "go.mod").write_text("module example.com/layout\n\ngo 1.21\n")
    env = {**os.environ, "GOARCH": goarch, "GOFLAGS": "", "CGO_ENABLED": "0"}
    ran = subprocess.run(
        [str(pinned_go), "run", "."], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    expected = [(int(size), has == "true") for size, has in map(str.split, ran.stdout.splitlines())]
    args = [arg for written, _ in LAYOUT_TYPES for arg in ("--type", written)]
    assert main(["sizeclass", *args, "--go", str(pinned_go), "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["type"] for r in rows] == [written for written, _ in LAYOUT_TYPES]
    assert {r["platform"] for r in rows} == {f"linux/{goarch}"}
    assert [(r["requested_bytes"], r["ptrbytes"] > 0) for r in rows] == expected
    # The prediction is the model's for that size and pointer-ness.
    assert main(["sizeclass", "--type", LAYOUT_TYPES[0][0], "--go", str(pinned_go)]) == 0
    word = 8 if goarch == "amd64" else 4
    assert (
        f"struct{{ a int64; b []byte }}: {8 + 3 * word} B, pointers in its first "
        f"{8 + word} B" in capsys.readouterr().out
    )


def test_type_errors_are_one_line(capsys: pytest.CaptureFixture[str], pinned_go: Path) -> None:
    for written, why in [
        ("struct{ x Nope }", "unknown type Nope"),
        ("struct{ x int", "expected '}'"),
        ("struct{ x example.com/m.T }", "cannot read package example.com/m"),
    ]:
        assert main(["sizeclass", "--type", written, "--go", str(pinned_go)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert why in err
