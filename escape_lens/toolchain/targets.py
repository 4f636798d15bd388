"""What the user's targets are, checked before Go is asked anything.

A target is one of: Go files of one package (`main.go a.go`), a directory (`.`, `./cmd/x`,
`/abs/dir`), a directory tree (`./...`), or a package pattern (`net/http`, `std`,
`example.com/mod/...`). Files and packages cannot be mixed (the go command cannot either).
The checks here give one clear line for the mistakes users make; whatever passes them is
given to `go list -e` after a `--`, which decides the rest. A target never starts with
`-`: targets come from checked-in configuration too, and must not become go flags.

Paths are made canonical here, at the edge: symbolic links resolved once (`os.path.realpath`),
so a module reached through a link (`cd modlink`, a CI checkout, macOS `/tmp`) gives the
same positions, and the same report, as the module itself. The go command is run in the
resolved directory (with `PWD` saying so, which go would otherwise believe).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from escape_lens.errors import TargetError


@dataclass(frozen=True, slots=True)
class Targets:
    """Checked targets: `files` (absolute .go paths of one package) or `patterns`.

    only: with `patterns` that are the directories of named files (toolchain/filetargets.py),
    those files (absolute): the report keeps only their sites.
    """

    files: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    only: tuple[str, ...] = ()


def _is_path(target: str) -> bool:
    """Like the go command: only `.`-relative and absolute names are directories."""
    return target.startswith((".", "/"))


def nearest_ancestor(start: str, marker: str) -> str | None:
    """The nearest directory at or above `start` (a directory or a file) holding `marker`."""
    current = os.path.abspath(start)
    if os.path.isfile(current):
        current = os.path.dirname(current)
    while not os.path.exists(os.path.join(current, marker)):
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
    return current


def find_go_mod(start: str) -> str | None:
    """The directory of the go.mod that governs `start`, if any."""
    return nearest_ancestor(start, "go.mod")


def in_one_module(targets: Sequence[str], here: str) -> tuple[str, list[str]] | None:
    """(module root, the targets relative to it) when every target is an existing path
    into one and the same module; else None.

    The go command resolves paths against the module of its working directory, so
    targets in another module (`~/src/othermod/...`, `services/api/...` from a
    repository root) must be built from that module's root. Directories become `./rel`
    (keeping a `/...`), files their absolute path.
    """
    roots: set[str] = set()
    rewritten: list[str] = []
    for target in targets:
        recursive = target.endswith("...")
        base = os.path.expanduser(target.removesuffix("...").rstrip("/")) or "."
        path = os.path.realpath(os.path.join(here, base))
        root = find_go_mod(path) if os.path.exists(path) else None
        if root is None:
            return None
        roots.add(root)
        if os.path.isdir(path):
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            spelled = "./" + relative if relative != "." else "."
            rewritten.append(spelled + ("/..." if recursive else ""))
        else:
            rewritten.append(path)
    if len(roots) != 1:
        return None
    return roots.pop(), rewritten


def has_go_files(directory: str, recursive: bool) -> bool:
    """Whether `directory` (with `recursive`, its tree as a `...` pattern walks it) holds
    .go files: go ignores the files and skips the directories whose names start with `.`
    or `_`, `testdata`, and other modules' directories; so does this check."""
    if not recursive:
        return any(
            name.endswith(".go") and os.path.isfile(os.path.join(directory, name))
            for name in os.listdir(directory)
        )
    for here, dirs, names in os.walk(directory):
        dirs[:] = [
            d
            for d in dirs
            if not d.startswith((".", "_"))
            and d != "testdata"
            and not os.path.exists(os.path.join(here, d, "go.mod"))
        ]
        if any(name.endswith(".go") and not name.startswith((".", "_")) for name in names):
            return True
    return False


def reject_flag(target: str, source: str = "") -> None:
    """A target is never a flag: `-toolexec=./x` from a checked-in config must not reach
    go as one (it would run ./x for every compile). `./-x` names a path that starts so."""
    if target.startswith("-") or not target.strip():
        where = f"{source}: " if source else ""
        what = "an empty target" if not target.strip() else f"{target!r} looks like a flag"
        raise TargetError(
            f"{where}{what}: targets are Go files, directories or package patterns "
            "(write ./NAME for a path that starts with '-')"
        )


def check_targets(targets: Sequence[str], cwd: str) -> Targets:
    """Validate `targets` (relative to `cwd`); raises TargetError with one line."""
    if not targets:
        raise TargetError("no targets given: name Go files, a directory or a package pattern")
    for target in targets:
        reject_flag(target)
    files = [t for t in targets if t.endswith(".go") or os.path.isfile(os.path.join(cwd, t))]
    if files:
        if len(files) != len(targets):
            raise TargetError("cannot mix Go files and packages in one run; name one or the other")
        return Targets(files=tuple(_checked_file(f, cwd) for f in files))
    patterns = tuple(_as_directory(target, cwd) for target in targets)
    for target in patterns:
        if _is_path(target):
            _check_directory(target, cwd)
    return Targets(patterns=tuple(_canonical(target, cwd) for target in patterns))


def _canonical(target: str, cwd: str) -> str:
    """A directory target with its links resolved: `./rel` under `cwd` (itself resolved),
    else absolute; a package pattern as it is."""
    if not _is_path(target):
        return target
    recursive = target == "..." or target.endswith("/...")
    base = target[: -len("...")].rstrip("/") if recursive else target
    path = os.path.realpath(os.path.join(cwd, base or "."))
    inside = os.path.relpath(path, cwd).replace(os.sep, "/")
    spelled = path if inside.startswith("..") else ("./" + inside if inside != "." else ".")
    return spelled + ("/..." if recursive else "")


def _as_directory(target: str, cwd: str) -> str:
    """A bare name of an existing directory (`mypkg`, `internal/...`) means that directory.

    The go command would read it as an import path; a user naming a directory on the
    command line means the directory (write the import path in full to mean a package).
    """
    if _is_path(target):
        return target
    base = target.removesuffix("...").rstrip("/")
    if base and os.path.isdir(os.path.join(cwd, base)):
        return "./" + target
    return target


def _checked_file(target: str, cwd: str) -> str:
    path = os.path.join(cwd, target)
    if not os.path.exists(path):
        raise TargetError(f"{target}: no such file")
    if not target.endswith(".go"):
        raise TargetError(f"{target}: not a Go file (expected a .go file, directory or package)")
    if not os.path.isfile(path):
        raise TargetError(f"{target}: not a file")
    return os.path.realpath(path)


def _check_directory(target: str, cwd: str) -> None:
    recursive = target == "..." or target.endswith("/...")
    base = target[: -len("...")].rstrip("/") if recursive else target
    directory = os.path.join(cwd, base or ".")
    if not os.path.isdir(directory):
        raise TargetError(f"{target}: no such directory")
    if not has_go_files(directory, recursive):
        what = "matches no Go packages" if recursive else "no Go files in this directory"
        if not recursive and has_go_files(directory, True):
            what += f" (for the packages below it: {target.rstrip('/')}/...)"
        raise TargetError(f"{target}: {what}")
    if find_go_mod(directory) is None:
        raise TargetError(
            f"{target}: no go.mod in it or any parent directory "
            "(run `go mod init`, or name its .go files instead)"
        )
