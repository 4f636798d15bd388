"""What a build read from the file system, named so that a later run can tell that none
of it changed (the report cache, escape_lens/cli/reportcache.py).

The compiler's output for the targets depends on the files of every package directory
the build compiled (the targets and everything they import: Go, assembly, C, `.syso`,
`default.pgo`), on which files those directories hold, on the module files that chose
the versions (`go.mod`, `go.sum`, `go.work`, `go.work.sum`, `vendor/modules.txt`, and
where go looks for them: the working directory and every directory above it), on go's
configuration (`go env -w`'s file, GOROOT's `go.env`) and on the toolchain (the go
binary, where `PATH` finds one, and the tools go runs). A pattern with `...`, `std` or
`cmd` also depends on which directories exist below its root: every one of them is
watched, as go's walk reaches them (not `testdata`, nor names starting with `.` or `_`).

`watch_build` names all of that, or gives None when it cannot be named: GOPATH mode,
GOFLAGS with an overlay, another go.mod or a profile file (files only the flag names),
the `all`, `tool` and `work` patterns (they depend on the whole module graph's files),
a `...` pattern whose root no listed package shows. A run that cannot be watched is not
cached. What a cgo package's C preprocessor includes from outside its directory is not
watched, as the go command's own build cache does not hash it either.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from escape_lens.records import GoToolchain
from escape_lens.toolchain.golist import Listing
from escape_lens.toolchain.targets import Targets

# go env names the watch needs, asked with the build's own (golaunch.py).
ENV_NAMES = ("GOMOD", "GOENV", "GO111MODULE")
# GOFLAGS naming a file whose content decides the build: not watched, so not cached.
_UNWATCHED_FLAGS = ("-overlay", "-modfile", "-pgo")
_WHOLE_GRAPH_PATTERNS = frozenset({"all", "tool", "work"})


_recording: list[Watch | None] | None = None


def record() -> list[Watch | None]:
    """From now on, what each build read is appended to the list returned (None for a
    build that cannot be watched); `stop` ends it."""
    global _recording
    _recording = []
    return _recording


def stop() -> None:
    global _recording
    _recording = None


def saw_build(
    targets: Targets,
    workdir: str,
    toolchain: GoToolchain,
    go_env: Mapping[str, str],
    listing: Listing,
) -> None:
    """A build's listing is read: what it read is recorded, if anyone records."""
    if _recording is not None:
        _recording.append(watch_build(targets, workdir, toolchain, go_env, listing))


@dataclass(frozen=True, slots=True)
class Watch:
    """files: each compared by its status, or its absence; dirs: each compared, and
    every regular file in it; trees: every directory below each compared (not files)."""

    files: tuple[str, ...]
    dirs: tuple[str, ...]
    trees: tuple[str, ...]


def watch_build(
    targets: Targets,
    workdir: str,
    toolchain: GoToolchain,
    go_env: Mapping[str, str],
    listing: Listing,
) -> Watch | None:
    """What the build of `targets` in `workdir` read (see the module docstring)."""
    goflags = go_env.get("GOFLAGS", "")
    if go_env.get("GO111MODULE") == "off" or any(f in goflags for f in _UNWATCHED_FLAGS):
        return None
    trees = _pattern_roots(targets.patterns, workdir, toolchain.goroot, listing)
    if trees is None:
        return None
    files = [*_module_files(workdir, go_env, listing.module_files), *_toolchain_files(toolchain)]
    goenv = go_env.get("GOENV", "")
    if goenv and goenv != "off":
        files.append(goenv)
    dirs = set(listing.package_dirs.values())
    tool = os.path.join(toolchain.goroot, "pkg", "tool")
    dirs.update(os.path.join(tool, name) for name in _subdirectories(tool))
    return Watch(tuple(sorted(set(files))), tuple(sorted(dirs)), tuple(sorted(trees)))


def _module_files(workdir: str, go_env: Mapping[str, str], gomods: Iterable[str]) -> list[str]:
    files = []
    directory = workdir
    while True:  # where go looks for go.mod and go.work
        files += [os.path.join(directory, "go.mod"), os.path.join(directory, "go.work")]
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    for gomod in {go_env.get("GOMOD", ""), *gomods}:
        if gomod and gomod != os.devnull:
            module = os.path.dirname(gomod)
            files += [gomod, os.path.join(module, "go.sum")]
            files.append(os.path.join(module, "vendor", "modules.txt"))
    gowork = go_env.get("GOWORK", "")
    if gowork and gowork != "off":
        files += [gowork, gowork + ".sum"]
    return files


def _toolchain_files(toolchain: GoToolchain) -> list[str]:
    files = [toolchain.path, os.path.realpath(toolchain.path)]
    files += [os.path.join(toolchain.goroot, name) for name in ("VERSION", "go.env")]
    # a go earlier on PATH than the one found would be found instead
    files += [os.path.join(d, "go") for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    return files


def _pattern_roots(
    patterns: Iterable[str], workdir: str, goroot: str, listing: Listing
) -> set[str] | None:
    roots: set[str] = set()
    for pattern in patterns:
        if pattern in _WHOLE_GRAPH_PATTERNS:
            return None
        if pattern in ("std", "cmd"):
            roots.add(os.path.join(goroot, "src", *(["cmd"] if pattern == "cmd" else [])))
        elif "..." in pattern:
            found = _roots_of(pattern, workdir, listing.package_dirs)
            if not found:
                return None
            roots |= found
    return roots


def _roots_of(pattern: str, workdir: str, package_dirs: Mapping[str, str]) -> set[str]:
    """The directories a `...` pattern's walk starts from: its fixed part's directory (a
    file system pattern), else where the listed packages it matches show it to be."""
    prefix = pattern[: pattern.index("...")]
    if pattern.startswith((".", "/")):
        fixed = prefix if prefix.endswith("/") else os.path.dirname(prefix) or "."
        return {os.path.normpath(os.path.join(workdir, fixed))}
    base = prefix.rstrip("/") if prefix.endswith("/") else prefix.rpartition("/")[0]
    if not base:
        return set()  # (`...` alone: every package go can find)
    roots = set()
    for path, directory in package_dirs.items():
        if path != base and not path.startswith(base + "/"):
            continue
        rest = path[len(base) :]
        if directory.endswith(rest.replace("/", os.sep)):
            roots.add(directory[: len(directory) - len(rest)] or os.sep)
    return roots


def _subdirectories(directory: str) -> list[str]:
    try:
        with os.scandir(directory) as entries:
            return [e.name for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def walk_tree(root: str) -> list[str]:
    """Every directory of `root`'s tree that go's walk of a `...` pattern could enter."""
    found = []
    pending = [root]
    while pending:
        directory = pending.pop()
        found.append(directory)
        for name in _subdirectories(directory):
            if not name.startswith((".", "_")) and name != "testdata":
                pending.append(os.path.join(directory, name))
    return found
