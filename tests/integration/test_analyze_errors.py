"""Bad targets: one clear line on stderr, exit 2 only when nothing could be analysed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from escape_lens.cli import main
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _module(root: Path, packages: dict[str, str]) -> Path:
    (root / "go.mod").write_text("module example.com/broken\n\ngo 1.21\n")
    for name, source in packages.items():
        (root / name).mkdir()
        (root / name / f"{name}.go").write_text(source)
    return root


GOOD = (
    "package good\n\ntype T struct{ a, b int64 }\n\n//go:noinline\nfunc New() *T { return &T{} }\n"
)
BAD = "package bad\n\nfunc F() int { return undefinedName }\n"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("escape-lens: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_non_go_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, pinned_go: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    code, out, err = _run(capsys, str(text), "--go", str(pinned_go))
    assert code == 2
    assert out == ""
    assert "notes.txt" in _one_error_line(err)


def test_empty_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pinned_go: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = _run(capsys, str(empty), "--go", str(pinned_go))
    assert code == 2
    assert out == ""
    _one_error_line(err)


def test_pattern_matching_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    pinned_go: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _module(tmp_path, {"good": GOOD})
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "./nothing/...", "--go", str(pinned_go))
    assert code == 2
    assert out == ""
    _one_error_line(err)


def test_a_pattern_whose_go_files_build_constraints_exclude_says_so(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    pinned_go: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _module(tmp_path, {"tagged": "//go:build never\n\n" + GOOD.replace("good", "tagged")})
    (tmp_path / "testdata").mkdir()
    (tmp_path / "testdata" / "t.go").write_text("package t\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "./tagged/...", "--go", str(pinned_go))
    assert (code, out) == (2, "")
    line = _one_error_line(err)
    assert '"./tagged/..." matched no packages' in line
    assert f"build constraints exclude all Go files under {tmp_path / 'tagged'}: see --tags" in line
    # the same with the tag: analysed
    code, out, err = _run(capsys, "./tagged/...", "--go", str(pinned_go), "--tags", "never")
    assert code == 0, err
    assert "tagged.go" in out
    # Go files go does not look at (testdata) are not taken for excluded ones
    (tmp_path / "tagged" / "tagged.go").unlink()
    code, out, err = _run(capsys, "./...", "--go", str(pinned_go))
    assert code == 2
    assert "build constraints" not in _one_error_line(err)


def test_directory_without_go_mod(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pinned_go: Path
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.go").write_text(GOOD)
    code, out, err = _run(capsys, str(tmp_path / "pkg"), "--go", str(pinned_go))
    assert code == 2
    assert out == ""
    assert "go.mod" in _one_error_line(err)


def test_broken_package_next_to_good_one(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    pinned_go: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _module(tmp_path, {"good": GOOD, "bad": BAD})
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "./...", "--go", str(pinned_go))
    assert code == 0, err
    assert "example.com/broken/good" in out
    assert "&T{}" in out
    assert "skipped example.com/broken/bad" in err
    assert "undefinedName" in err  # the compiler's message
    assert "Traceback" not in err


def test_only_broken_package_exits_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    pinned_go: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _module(tmp_path, {"bad": BAD + "\nfunc G() string { return 1 }\n"})
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, "./...", "--go", str(pinned_go))
    assert code == 2
    assert out == ""
    *above, last = err.strip().splitlines()
    assert last.startswith("escape-lens: error: nothing could be analysed: example.com/broken/bad")
    assert "undefinedName" in last
    # every message of the compiler is shown above it, as go build shows them
    assert above[0] == "escape-lens: example.com/broken/bad:"
    assert [line.split(": ", 1)[1] for line in above[1:]] == [
        "undefined: undefinedName",
        "cannot use 1 (untyped int constant) as string value in return statement",
    ]
    assert "Traceback" not in err


def test_subprocess_bad_target_one_line(tmp_path: Path, pinned_go: Path) -> None:
    missing = tmp_path / "missing.go"
    result = subprocess.run(
        [sys.executable, "-m", "escape_lens", "analyze", str(missing), "--go", str(pinned_go)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    assert result.returncode == 2
    assert result.stdout == ""
    _one_error_line(result.stderr)


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys)
    assert code == 2
    assert "TARGET" in _one_error_line(err)
    code, _, err = _run(capsys, "x.go", "--package", "main")
    assert code == 2
    assert "--binary" in _one_error_line(err)
