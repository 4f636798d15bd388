"""What a `.go` file named as a target means.

A file of its directory's package (as go lists the package, with the build's tags and,
with `--tests`, its test files) stands for that package, compiled as the package is,
and the report keeps only the sites in the named files: `analyze pkg/parse.go` is the
parse.go part of pkg. Compiled alone it would miss the package's other files
("undefined: helper") and be named `command-line-arguments`. A file that is not part of
its directory's package (a `//go:build ignore` program, or no go.mod around it) is
compiled alone with the other named files, as `go run` does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from escape_lens.toolchain.golist import iter_json_objects
from escape_lens.toolchain.process import run
from escape_lens.toolchain.targets import Targets, find_go_mod

LIST_TIMEOUT = 600.0
_FILE_FIELDS = ("GoFiles", "CgoFiles")
_TEST_FIELDS = ("TestGoFiles", "XTestGoFiles")


def as_packages(
    go: str,
    targets: Targets,
    *,
    cwd: str,
    tests: bool,
    flags: Sequence[str],
    env: Mapping[str, str],
) -> Targets:
    """`targets` with its files replaced by their packages' directories, when every file
    belongs to its directory's package; else `targets` unchanged."""
    if not targets.files or any(find_go_mod(f) is None for f in targets.files):
        return targets
    directories = sorted({os.path.dirname(f) for f in targets.files})
    fields = _FILE_FIELDS + (_TEST_FIELDS if tests else ())
    argv = [go, "list", "-e", f"-json=Dir,{','.join(fields)}", *flags, "--", *directories]
    result = run(argv, timeout=LIST_TIMEOUT, cwd=cwd, env=env, check=False)
    members: set[str] = set()
    for package in iter_json_objects(result.stdout):
        directory = str(package.get("Dir") or "")
        for field in fields:
            names = package.get(field)
            if isinstance(names, list):
                members.update(os.path.join(directory, str(name)) for name in names)
    if not all(f in members for f in targets.files):
        return targets
    return Targets(patterns=tuple(directories), only=targets.files)
