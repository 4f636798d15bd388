"""Bad targets: one clear TargetError line each, before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.errors import TargetError
from escape_lens.records import GoToolchain
from escape_lens.toolchain.build import compile_targets
from tests.integration.build_helpers import copy_source


@pytest.fixture
def module(tmp_path: Path) -> Path:
    return copy_source("mod", tmp_path)


def message(go: GoToolchain, targets: list[str], cwd: Path) -> str:
    with pytest.raises(TargetError) as caught:
        compile_targets(go, targets, cwd=str(cwd))
    text = str(caught.value)
    assert "\n" not in text
    return text


def test_not_a_go_file(module: Path, pinned_toolchain: GoToolchain) -> None:
    (module / "notes.txt").write_text("hello\n", encoding="utf-8")
    assert "notes.txt: not a Go file" in message(pinned_toolchain, ["notes.txt"], module)


def test_missing_go_file(module: Path, pinned_toolchain: GoToolchain) -> None:
    assert "nope.go: no such file" in message(pinned_toolchain, ["nope.go"], module)


def test_empty_directory(module: Path, pinned_toolchain: GoToolchain) -> None:
    (module / "empty").mkdir()
    assert "no Go files in this directory" in message(pinned_toolchain, ["./empty"], module)


def test_pattern_matching_nothing(module: Path, pinned_toolchain: GoToolchain) -> None:
    (module / "nothing").mkdir()
    assert "matches no Go packages" in message(pinned_toolchain, ["./nothing/..."], module)
    assert "example.com/m/zz" in message(pinned_toolchain, ["example.com/m/zz"], module)
    assert "matched no packages" in message(pinned_toolchain, ["example.com/m/zz/..."], module)


def test_directory_without_go_mod(tmp_path: Path, pinned_toolchain: GoToolchain) -> None:
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "main.go").write_text(
        "package main\n\nfunc main() {}\n", encoding="utf-8"
    )
    assert "no go.mod" in message(pinned_toolchain, ["./loose"], tmp_path)
    # the files themselves are fine without a module
    output = compile_targets(pinned_toolchain, ["loose/main.go"], cwd=str(tmp_path))
    assert output.packages[0].error is None


def test_files_and_packages_do_not_mix(module: Path, pinned_toolchain: GoToolchain) -> None:
    assert "cannot mix" in message(pinned_toolchain, ["a/a.go", "./b"], module)


def test_a_bare_directory_name_means_the_directory(tmp_path: Path) -> None:
    from escape_lens.toolchain.targets import check_targets

    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "a.go").write_text("package mypkg\n")
    assert check_targets(["mypkg", "mypkg/...", "net/http"], str(tmp_path)).patterns == (
        "./mypkg",
        "./mypkg/...",
        "net/http",
    )


def test_a_module_root_without_go_files_is_named_as_given(
    tmp_path: Path, pinned_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`analyze fixtures/constructs` (a module whose packages are all below its root) is
    refused naming that directory, not the `.` go would be asked about from inside it,
    and says how to name the packages below it."""
    from escape_lens.analyze import analyze_targets

    module = tmp_path / "outer" / "mod"
    (module / "p").mkdir(parents=True)
    (module / "go.mod").write_text("module example.com/m\n\ngo 1.22\n")
    (module / "p" / "p.go").write_text("package p\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TargetError) as caught:
        analyze_targets(["outer/mod"], go=str(pinned_go))
    assert str(caught.value) == (
        "./outer/mod: no Go files in this directory (for the packages below it: ./outer/mod/...)"
    )


def test_go_files_that_dot_dot_dot_skips_are_none(tmp_path: Path) -> None:
    # As go's walk of `./...`: another module's directory, testdata, `_x` and `.x`
    # directories and `_x.go` files hold no package of this module.
    from escape_lens.toolchain.targets import check_targets, has_go_files

    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    for directory, name in [
        ("nested", "n.go"),
        ("testdata", "t.go"),
        ("_x", "x.go"),
        (".", "_y.go"),
    ]:
        (tmp_path / directory).mkdir(exist_ok=True)
        (tmp_path / directory / name).write_text("package p\n")
    (tmp_path / "nested" / "go.mod").write_text("module example.com/n\n\ngo 1.21\n")
    assert not has_go_files(str(tmp_path), recursive=True)
    with pytest.raises(TargetError, match=r"^\./\.\.\.: matches no Go packages$"):
        check_targets(["./..."], str(tmp_path))
    (tmp_path / "p.go").write_text("package p\n")
    assert has_go_files(str(tmp_path), recursive=True)
