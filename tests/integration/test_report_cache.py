"""The report cache (escape_lens/cli/reportcache.py): a warm `analyze` whose inputs all hold
is answered with the bytes the last run wrote, without go; any change to what the build
read, or to the command's environment, is a miss; the cache never chooses where a report
goes, and a damaged entry is a miss."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from escape_lens.cli import main, reportcache
from escape_lens.toolchain import build
from tests.integration.build_helpers import TWO_PACKAGE_A, TWO_PACKAGE_B, write_two_packages

pytestmark = pytest.mark.slow


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / "escape-lens"))
    monkeypatch.delenv("ESCAPE_LENS_REPORT_CACHE", raising=False)
    # The module is written now: with the usual two seconds, nothing would be stored.
    monkeypatch.setattr(reportcache, "_RACY_NS", 0)
    root = write_two_packages(tmp_path / "mod")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def go_runs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The builds started (each one starts go)."""
    started: list[object] = []
    launch = build.launch

    def counted(*args: object, **kwargs: object) -> object:
        started.append(args)
        return launch(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build, "launch", counted)
    return started


Analyze = Callable[..., tuple[str, str]]


@pytest.fixture
def analyze(capsys: pytest.CaptureFixture[str], pinned_go: Path) -> Analyze:
    def run(*args: str, target: str = "./...") -> tuple[str, str]:
        assert main(["analyze", target, "--go", str(pinned_go), *args]) == 0
        captured = capsys.readouterr()
        return captured.out, captured.err

    return run


def _entries(module: Path) -> list[Path]:
    reports = module.parent / "escape-lens" / "reports"
    return sorted(p for p in reports.iterdir() if len(p.name) == 64) if reports.exists() else []


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "html"])
def test_a_warm_run_writes_the_same_bytes_without_go(
    fmt: str, module: Path, go_runs: list[object], analyze: Analyze
) -> None:
    first = analyze("--format", fmt)
    assert len(go_runs) == 1
    assert len(_entries(module)) == 1
    assert analyze("--format", fmt) == first
    assert len(go_runs) == 1  # answered before go
    with pytest.MonkeyPatch.context() as off:
        off.setenv("ESCAPE_LENS_REPORT_CACHE", "off")
        assert analyze("--format", fmt) == first
    assert len(go_runs) == 2


def _edit_b(module: Path) -> None:
    (module / "b" / "b.go").write_text(TWO_PACKAGE_B.replace("0, n)", "0, 8)"))


def _same_size_edit(module: Path) -> None:
    path = module / "a" / "a.go"
    status = path.stat()
    path.write_text(TWO_PACKAGE_A.replace('"a"', '"b"'))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))  # (only ctime tells)


def _new_file(module: Path) -> None:
    (module / "b" / "c.go").write_text("package b\n\nfunc C() *int { return new(int) }\n")


def _new_package(module: Path) -> None:
    (module / "c" / "d").mkdir(parents=True)
    (module / "c" / "d" / "d.go").write_text("package d\n\nvar P = new(int)\n")


def _go_work(module: Path) -> None:
    (module / "go.work").write_text("go 1.22\n\nuse .\n")


def _go_mod(module: Path) -> None:
    (module / "go.mod").write_text("module example.com/m\n\ngo 1.23\n")


@pytest.mark.parametrize(
    "change",
    [_edit_b, _same_size_edit, _new_file, _new_package, _go_work, _go_mod],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_change_to_what_the_build_read_asks_go_again(
    change: Callable[[Path], None], module: Path, go_runs: list[object], analyze: Analyze
) -> None:
    analyze()
    change(module)
    with pytest.MonkeyPatch.context() as off:
        off.setenv("ESCAPE_LENS_REPORT_CACHE", "off")
        expected = analyze()
    runs = len(go_runs)
    assert analyze() == expected
    assert len(go_runs) == runs + 1


def test_the_environment_and_the_arguments_are_the_key(
    module: Path, go_runs: list[object], analyze: Analyze, monkeypatch: pytest.MonkeyPatch
) -> None:
    analyze()
    monkeypatch.setenv("GOFLAGS", "-tags=other")
    analyze()
    analyze("--top", "1")
    assert len(go_runs) == 3
    monkeypatch.delenv("GOFLAGS")
    analyze()
    assert len(go_runs) == 3


def test_a_report_file_is_written_again_and_stderr_repeated(
    module: Path, go_runs: list[object], analyze: Analyze
) -> None:
    (module / "c").mkdir()
    (module / "c" / "c.go").write_text("package c\n\nfunc F() { undefined() }\n")
    out = module.parent / "out" / "report.json"
    out.parent.mkdir()
    first = analyze("--format", "json", "-o", str(out))
    assert "skipped example.com/m/c" in first[1]
    written = out.read_bytes()
    out.write_text("old")
    assert analyze("--format", "json", "-o", str(out)) == first
    assert len(go_runs) == 1
    assert out.read_bytes() == written


@pytest.mark.parametrize("where", ["b/report.txt", "report.txt"])  # a package's, the walk's
def test_a_report_written_into_a_directory_the_build_reads_is_replayed(
    where: str, module: Path, go_runs: list[object], analyze: Analyze
) -> None:
    """Replacing its own report changes the directory it is in: that directory is then
    compared by the names in it but the report's, so the run is stored and replayed
    again and again, and a new file beside the report is still a change."""
    report = module / where
    first = analyze("-o", str(report))
    written = report.read_bytes()
    assert len(_entries(module)) == 1
    for _ in range(2):  # (the second replay finds the directory changed by the first)
        report.write_text("old")
        assert analyze("-o", str(report)) == first
        assert report.read_bytes() == written
    assert len(go_runs) == 1
    (report.parent / "c.go").write_text("package " + ("b" if "/" in where else "m") + "\n")
    analyze("-o", str(report))
    assert len(go_runs) == 2


def test_a_file_removed_beside_the_report_during_the_run_is_not_stored(
    module: Path, analyze: Analyze, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removed after go read it, a file leaves no status to compare, and the directory's
    own changed as the report was replaced: the names tell, and the run is not stored
    (its report has the file's sites)."""
    report = module / "b" / "report.txt"
    extra = module / "b" / "extra.go"
    extra.write_text("package b\n\nfunc Extra() *int { return new(int) }\n")
    listing = build.read_listing

    def listed_then_removed(*args: object, **kwargs: object) -> object:
        extra.unlink()  # (go has compiled it)
        return listing(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build, "read_listing", listed_then_removed)
    analyze("-o", str(report))
    assert "extra.go" in report.read_text()
    assert _entries(module) == []


def test_nothing_is_stored_right_after_a_change(
    module: Path, analyze: Analyze, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reportcache, "_RACY_NS", 2_000_000_000)
    analyze()  # the module was written a moment ago: a change could go unseen
    assert _entries(module) == []


@pytest.fixture
def stored(module: Path, analyze: Analyze) -> Iterator[Path]:
    analyze()
    (entry,) = _entries(module)
    return entry


def test_a_damaged_entry_is_a_miss_and_is_deleted(
    stored: Path, go_runs: list[object], analyze: Analyze
) -> None:
    data = bytearray(stored.read_bytes())
    data[reportcache._HEADER + 5] ^= 0x20  # (in the report)
    stored.write_bytes(bytes(data))
    expected = analyze()
    assert len(go_runs) == 1  # (the fixture's run is before the count)
    assert stored.exists()  # stored again, whole
    assert analyze() == expected
    assert len(go_runs) == 1


def test_the_cache_never_chooses_where_a_report_goes(
    stored: Path, module: Path, go_runs: list[object], analyze: Analyze
) -> None:
    # An entry claiming that this run wrote into a file: the arguments say stdout.
    victim = module.parent / "victim"
    victim.write_text("mine")
    data = stored.read_bytes()
    tampered = data.replace(b'"output":null', b'"output":' + f'"{victim}"'.encode())
    assert tampered != data
    stored.write_bytes(tampered)
    analyze()
    assert victim.read_text() == "mine"
    assert len(go_runs) == 1  # (the fixture's run is before the count)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["analyze", "x"], None),
        (["analyze", "-o", "f", "x"], "f"),
        (["analyze", "--output=f"], "f"),
        (["analyze", "-of"], "f"),
        (["analyze", "x", "--", "-o"], None),
    ],
)
def test_the_output_the_arguments_name(args: list[str], named: str | None) -> None:
    assert reportcache._output_named(args) == named


def test_a_cluster_of_short_options_is_not_read() -> None:
    assert isinstance(reportcache._output_named(["analyze", "-qo", "f"]), reportcache._Unknown)


def test_stdout_redirected_into_a_package_directory_is_no_input(
    module: Path, go_runs: list[object], pinned_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `escape-lens analyze ./... > b/report.txt`: each run's shell truncates the file
    written = []
    for _ in range(2):
        with (module / "b" / "report.txt").open("w") as redirected:
            monkeypatch.setattr("sys.stdout", redirected)
            assert main(["analyze", "./...", "--go", str(pinned_go)]) == 0
        written.append((module / "b" / "report.txt").read_text())
    assert len(go_runs) == 1
    assert written[0] == written[1]
    assert "make([]*a.T, 0, n)" in written[0]
