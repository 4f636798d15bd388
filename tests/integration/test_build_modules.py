"""Multi-package modules: broken packages, foreign type sizes, --tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.records import CompileOutput, GoToolchain, PackageOutput, SourcePos, TypeInfo
from escape_lens.toolchain.build import compile_targets
from tests.integration.build_helpers import MATRIX, copy_source, toolchain


def by_path(output: CompileOutput) -> dict[str, PackageOutput]:
    return {p.import_path: p for p in output.packages}


@pytest.fixture(scope="module")
def mod_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_source("mod", tmp_path_factory.mktemp("mod"))


@pytest.mark.parametrize("version", MATRIX)
def test_a_broken_package_is_reported_and_the_others_analysed(
    mod_dir: Path, pinned_toolchain: GoToolchain, version: str
) -> None:
    go = toolchain(version, pinned_toolchain)
    packages = by_path(compile_targets(go, ["./..."], cwd=str(mod_dir)))
    assert set(packages) == {
        "example.com/m/a",
        "example.com/m/b",
        "example.com/m/broken",
        "example.com/m/c",
    }
    broken = packages["example.com/m/broken"].error
    assert broken is not None
    assert broken.startswith('broken/x.go:3:23: cannot use "x"')
    dependent = packages["example.com/m/c"].error
    assert dependent is not None
    assert "dependency example.com/m/broken failed" in dependent
    assert packages["example.com/m/a"].error is None
    assert len(packages["example.com/m/a"].calls) == 4
    b_calls = packages["example.com/m/b"].calls
    inlined = next(c for c in b_calls if c.function == "example.com/m/b.UseA")
    assert inlined.pos == SourcePos("a/a.go", 7)
    assert inlined.call_pos == SourcePos("b/b.go", 5, 32)
    assert inlined.type == TypeInfo("example.com/m/a.T", 16, 8)


def test_a_package_go_list_cannot_load_does_not_stop_the_build(
    tmp_path: Path, pinned_toolchain: GoToolchain
) -> None:
    root = copy_source("mod", tmp_path)
    (root / "syntax").mkdir()
    (root / "syntax" / "s.go").write_text("package syntax\n\nfunc (\n", encoding="utf-8")
    packages = by_path(compile_targets(pinned_toolchain, ["./a", "./syntax"], cwd=str(root)))
    error = packages["example.com/m/syntax"].error
    assert error is not None
    assert "s.go" in error
    assert packages["example.com/m/a"].error is None
    assert packages["example.com/m/a"].calls


@pytest.fixture(scope="module", params=MATRIX)
def sizes(
    request: pytest.FixtureRequest,
    pinned_toolchain: GoToolchain,
    tmp_path_factory: pytest.TempPathFactory,
) -> PackageOutput:
    go = toolchain(str(request.param), pinned_toolchain)
    root = copy_source("sizes", tmp_path_factory.mktemp("sizes"))
    (package,) = compile_targets(go, ["."], cwd=str(root)).packages
    assert package.error is None
    return package


@pytest.mark.parametrize(
    "function", ["Buffer", "Mutex", "Builder", "Timer", "WaitGroup", "Buffers"]
)
def test_foreign_types_are_sized_like_local_copies(sizes: PackageOutput, function: str) -> None:
    # `type localX X` has X's layout and its descriptor is in this package's listing.
    calls = [c for c in sizes.calls if c.function == f"example.com/sizes.{function}"]
    assert len(calls) == 2
    foreign, local = sorted(calls, key=lambda c: c.type.name.startswith("example.com/"))  # type: ignore[union-attr]
    assert foreign.type is not None
    assert local.type is not None
    assert local.type.name.startswith("example.com/sizes.local")
    assert (foreign.type.size, foreign.type.ptrbytes) == (local.type.size, local.type.ptrbytes)
    assert foreign.type.size > 0


def test_map_and_slice_components_are_in_types(sizes: PackageOutput) -> None:
    types = {t.name: t for t in sizes.types}
    (make_map,) = [c for c in sizes.calls if c.function == "example.com/sizes.Map"]
    assert make_map.type is not None
    assert make_map.type.name == "map[string]*bytes.Buffer"
    assert types["string"] == TypeInfo("string", 16, 8)
    assert types["*bytes.Buffer"].ptrbytes == 8
    (make_slice,) = [c for c in sizes.calls if c.function == "example.com/sizes.Slice"]
    assert make_slice.entry == "makeslice"
    assert make_slice.type == TypeInfo("time.Duration", 8, 0)


def test_tests_flag_adds_test_files(tmp_path: Path, pinned_toolchain: GoToolchain) -> None:
    root = copy_source("mod", tmp_path)
    (root / "t").mkdir()
    (root / "t" / "t.go").write_text(
        "package t\n\nfunc F() *int { return new(int) }\n", encoding="utf-8"
    )
    (root / "t" / "x_test.go").write_text(
        'package t_test\n\nimport "testing"\n\nvar sink *[8]int64\n\n'
        "func TestX(tt *testing.T) { sink = new([8]int64) }\n",
        encoding="utf-8",
    )
    plain = by_path(compile_targets(pinned_toolchain, ["./t", "./a"], cwd=str(root)))
    with_tests = by_path(
        compile_targets(pinned_toolchain, ["./t", "./a"], cwd=str(root), tests=True)
    )
    plain_functions = {f.name for f in plain["example.com/m/t"].functions}
    test_functions = {f.name for f in with_tests["example.com/m/t"].functions}
    assert "example.com/m/t_test.TestX" not in plain_functions
    assert "example.com/m/t_test.TestX" in test_functions
    assert "example.com/m/t.F" in test_functions
    (test_call,) = [c for c in with_tests["example.com/m/t"].calls if c.pos.file == "t/x_test.go"]
    assert test_call.type == TypeInfo("[8]int64", 64, 0)
    # a package without tests is still analysed, once
    assert with_tests["example.com/m/a"].calls == plain["example.com/m/a"].calls
