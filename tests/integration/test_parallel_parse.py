"""Parsing a build in several processes gives what parsing it in one does, to the byte:
the same report, and the same result cache entries (kept results and their probes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.analyze import JOIN, analyze_targets
from escape_lens.records import GoToolchain
from escape_lens.toolchain import parallel
from escape_lens.toolchain.build import OUTPUTS, build_targets

STD = ["strconv", "strings", "bytes", "errors", "sort", "container/list", "encoding/binary"]


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """Packages that size each other's types: b makes a's defined map and channel, c
    boxes b's struct; each with a test file (for --tests)."""
    root = tmp_path / "mod"
    files = {
        "go.mod": "module example.com/m\n\ngo 1.21\n",
        "a/a.go": "package a\n\ntype M map[string][3]int\ntype C chan [5]int64\n"
        'type T struct{ x, y int; s string }\n\nfunc New() *T { return &T{s: "a"} }\n',
        "a/a_test.go": 'package a\n\nimport "testing"\n\nfunc TestA(t *testing.T) { _ = New() }\n',
        "a/x_test.go": 'package a_test\n\nimport (\n\t"testing"\n\n\t"example.com/m/a"\n)\n\n'
        "func TestX(t *testing.T) { t.Log(a.New()) }\n",
        "b/b.go": 'package b\n\nimport "example.com/m/a"\n\n'
        "type S struct{ m a.M; t *a.T; buf [40]byte }\n\n"
        "func Make(n int) (a.M, a.C, *S) {\n\tm := make(a.M, n)\n\tc := make(a.C, n)\n"
        "\treturn m, c, &S{m: m}\n}\n",
        "c/c.go": 'package c\n\nimport (\n\t"fmt"\n\n\t"example.com/m/b"\n)\n\n'
        "func Show(n int) string {\n\t_, _, s := b.Make(n)\n\treturn fmt.Sprint(*s, n)\n}\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _entries(cache: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(cache)): path.read_bytes()
        for path in sorted((cache / "results").glob("*/*"))
    }


@pytest.mark.parametrize("tests", [False, True], ids=["plain", "tests"])
def test_parallel_and_serial_parsing_agree(
    module: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pinned_toolchain: GoToolchain,
    tests: bool,
) -> None:
    targets = ["./...", *STD]
    monkeypatch.setattr(parallel, "MIN_PACKAGES", 2)
    monkeypatch.setattr(parallel, "MIN_OUTPUT_BYTES", 0)
    runs = {}
    for jobs in ("1", "3"):
        monkeypatch.setenv("ESCAPE_LENS_JOBS", jobs)
        monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / f"cache-{jobs}"))
        report = analyze_targets(targets, go=pinned_toolchain.path, tests=tests, cwd=str(module))
        outputs = build_targets(pinned_toolchain, targets, OUTPUTS, tests=tests, cwd=str(module))
        runs[jobs] = (report, outputs.results, _entries(tmp_path / f"cache-{jobs}"))
    serial, split = runs["1"], runs["3"]
    assert len(serial[0].packages) == len(STD) + 3
    assert any(s.type is not None and s.type.name == "example.com/m/a.M" for s in serial[0].sites)
    assert split[0] == serial[0]
    assert split[1] == serial[1]
    assert split[2] == serial[2]  # the same kept results and probes, byte for byte
    assert len(serial[2]) == 2 * (len(STD) + 3)  # both kinds of result, every package


def test_jobs_follow_the_build_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESCAPE_LENS_JOBS", raising=False)
    assert parallel.jobs_for(1, 1 << 40) == 1  # one package: nothing to share
    assert parallel.jobs_for(300, 1 << 10) == 1  # little output: not worth a process
    monkeypatch.setenv("ESCAPE_LENS_JOBS", "1")
    assert parallel.jobs_for(300, 1 << 40) == 1
    monkeypatch.setenv("ESCAPE_LENS_JOBS", "3")
    assert parallel.jobs_for(300, 1 << 40) == 3
    assert parallel.jobs_for(parallel.MIN_PACKAGES, 1 << 40) == 3
    monkeypatch.setenv("ESCAPE_LENS_JOBS", "100000")
    assert parallel.jobs_for(300, 1 << 40) == 64


def test_a_failing_worker_is_an_error_not_a_missing_package(
    module: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pinned_toolchain: GoToolchain,
) -> None:
    from escape_lens.errors import ToolchainError

    monkeypatch.setattr(parallel, "MIN_PACKAGES", 2)
    monkeypatch.setattr(parallel, "MIN_OUTPUT_BYTES", 0)
    monkeypatch.setenv("ESCAPE_LENS_JOBS", "2")
    monkeypatch.setenv("ESCAPE_LENS_RESULT_CACHE", "off")

    def broken(toolchain: GoToolchain, output: object) -> object:
        raise RuntimeError("join failed")

    stage = type(JOIN)(JOIN.kind, broken, JOIN.types)
    with pytest.raises(ToolchainError, match="RuntimeError: join failed"):
        build_targets(pinned_toolchain, ["./...", *STD], stage, cwd=str(module))
