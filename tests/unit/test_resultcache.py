"""The result cache reuses a package's result only when it provably still holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.parsers.gobuild import ListedPackage
from escape_lens.parsers.positions import Positions
from escape_lens.records import GoToolchain, GoVersion, PackageOutput, TypeInfo
from escape_lens.toolchain import resultcache

TOOLCHAIN = GoToolchain("/go/bin/go", GoVersion(1, 27, 3), "linux", "amd64", goroot="/go")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ESCAPE_LENS_RESULT_CACHE", raising=False)
    return tmp_path / "cache" / "results"


def _package(tmp_path: Path) -> tuple[ListedPackage, PackageOutput, list[resultcache.Probe]]:
    directory = tmp_path / "mod" / "a"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "a.go").write_text("package a\n")
    positions = Positions(str(tmp_path / "mod"), str(tmp_path / "mod"))
    positions.enter_package(str(directory))
    assert positions.file("a/a.go") == "a/a.go"
    listed = ListedPackage("example.com/m/a", str(directory), "a", build_ids=("act/out",))
    output = PackageOutput(
        listed.import_path, listed.dir, types=(TypeInfo("example.com/m/a.T", 16, 8),)
    )
    return listed, output, positions.probes


def _context(tmp_path: Path) -> resultcache.Context:
    return resultcache.Context(TOOLCHAIN, str(tmp_path / "mod"), str(tmp_path / "mod"), False)


def test_a_stored_result_comes_back(cache: Path, tmp_path: Path) -> None:
    listed, output, probes = _package(tmp_path)
    assert resultcache.load(_context(tmp_path), listed, PackageOutput) is None
    resultcache.store(_context(tmp_path), listed, output, probes)
    assert resultcache.load(_context(tmp_path), listed, PackageOutput) == output
    assert len(list(cache.glob("*/*"))) == 1


def test_any_other_build_id_directory_or_mode_is_a_miss(cache: Path, tmp_path: Path) -> None:
    listed, output, probes = _package(tmp_path)
    context = _context(tmp_path)
    resultcache.store(context, listed, output, probes)
    other = ListedPackage(listed.import_path, listed.dir, "a", build_ids=("act/other",))
    assert resultcache.load(context, other, PackageOutput) is None
    moved = resultcache.Context(TOOLCHAIN, str(tmp_path), str(tmp_path / "mod"), False)
    assert resultcache.load(moved, listed, PackageOutput) is None
    tests = resultcache.Context(TOOLCHAIN, context.workdir, context.root, True)
    assert resultcache.load(tests, listed, PackageOutput) is None


def test_a_changed_file_system_answer_is_a_miss(cache: Path, tmp_path: Path) -> None:
    listed, output, probes = _package(tmp_path)
    assert probes  # the package directory's Go files, at least
    resultcache.store(_context(tmp_path), listed, output, probes)
    (tmp_path / "mod" / "a" / "b.go").write_text("package a\n")
    assert resultcache.load(_context(tmp_path), listed, PackageOutput) is None
    (tmp_path / "mod" / "a" / "b.go").unlink()
    assert resultcache.load(_context(tmp_path), listed, PackageOutput) == output


def test_a_broken_entry_is_a_miss_and_an_unwritable_cache_is_no_error(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed, output, probes = _package(tmp_path)
    resultcache.store(_context(tmp_path), listed, output, probes)
    (entry,) = cache.glob("*/*")
    entry.write_bytes(entry.read_bytes()[:40])
    assert resultcache.load(_context(tmp_path), listed, PackageOutput) is None
    entry.write_bytes(b"something else entirely")
    assert resultcache.load(_context(tmp_path), listed, PackageOutput) is None
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(blocker))  # a file, not a directory
    resultcache.store(_context(tmp_path), listed, output, probes)
    assert resultcache.load(_context(tmp_path), listed, PackageOutput) is None


def test_it_can_be_turned_off(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESCAPE_LENS_RESULT_CACHE", "off")
    listed, output, probes = _package(tmp_path)
    resultcache.store(_context(tmp_path), listed, output, probes)
    assert not cache.exists()
    assert resultcache.load(_context(tmp_path), listed, PackageOutput) is None


def test_positions_answers_are_recorded_per_block(tmp_path: Path) -> None:
    _, _, probes = _package(tmp_path)
    assert ("go-files", (str(tmp_path / "mod" / "a"),), ("a.go",)) in probes
    positions = Positions(str(tmp_path), str(tmp_path))
    positions.enter_package(str(tmp_path / "mod" / "a"))
    first = list(positions.probes)
    positions.enter_package(str(tmp_path / "mod"))
    assert positions.probes != first


def test_the_last_runs_entries_are_read_ahead_and_checked_like_any_other(
    cache: Path, tmp_path: Path
) -> None:
    listed, output, probes = _package(tmp_path)
    context = _context(tmp_path)
    resultcache.store(context, listed, output, probes)
    run = ("go", "list", "./a")
    first = resultcache.Preload(run, PackageOutput)
    assert first.expected == 0  # no run of these targets yet
    resultcache.remember(first, [resultcache.entry_path(context, listed, PackageOutput)])
    ahead = resultcache.Preload(run, PackageOutput)
    assert ahead.expected == 1
    assert resultcache.load(context, listed, PackageOutput, ahead) == output
    # read ahead or not, a changed directory is a miss
    again = resultcache.Preload(run, PackageOutput)
    (tmp_path / "mod" / "a" / "b.go").write_text("package a\n")
    assert resultcache.load(context, listed, PackageOutput, again) is None
    (tmp_path / "mod" / "a" / "b.go").unlink()
    # an index is only a guess: names that are no entries, or the wrong ones, are ignored
    (index,) = (cache.parent / "runs").iterdir()
    index.write_text("../../../etc/passwd\nzz/" + "0" * 62 + "\n\x00\n")
    planted = resultcache.Preload(run, PackageOutput)
    assert planted.expected == 0
    assert resultcache.load(context, listed, PackageOutput, planted) == output
    other = ListedPackage(listed.import_path, listed.dir, "a", build_ids=("act/other",))
    resultcache.remember(planted, [resultcache.entry_path(context, listed, PackageOutput)])
    guessed = resultcache.Preload(run, PackageOutput)
    assert resultcache.load(context, other, PackageOutput, guessed) is None
    assert resultcache.load(context, listed, PackageOutput, guessed) == output
