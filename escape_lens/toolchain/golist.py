"""`go list -json`: reading its output (a stream of JSON objects, one per package), the
Listing of a build's targets it gives, and asking it which files a build compiles."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from escape_lens.errors import TargetError
from escape_lens.records import ListedPackage
from escape_lens.toolchain.process import run

LIST_TIMEOUT = 600.0


def iter_json_objects(text: str) -> Iterator[dict[str, object]]:
    """The objects of concatenated JSON values (`go list -json` prints one per package)."""
    decoder = json.JSONDecoder()
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return
        value, index = decoder.raw_decode(text, index)
        if isinstance(value, dict):
            yield value


def source_files(
    go: str,
    packages: Sequence[str],
    *,
    cwd: str,
    tests: bool = False,
    tags: Sequence[str] = (),
) -> dict[str, tuple[str, ...]]:
    """The Go files the build compiles, per import path (absolute paths): what go chose
    after build constraints (a file excluded by `//go:build` or `_x.go` is not in it).
    `tags`: the build's `--tags` (GOFLAGS' reach go through the environment).

    One `go list` without compiling; the gate reads directives and declarations from
    exactly these files, never from a file go would not compile.
    """
    fields = "ImportPath,Dir,GoFiles,CgoFiles" + (",TestGoFiles,XTestGoFiles" if tests else "")
    flags = [f"-tags={','.join(tags)}"] if tags else []
    argv = [go, "list", "-e", f"-json={fields}", *flags, "--", *packages]
    output = run(argv, timeout=LIST_TIMEOUT, cwd=cwd, check=False).stdout
    files: dict[str, tuple[str, ...]] = {}
    for raw in iter_json_objects(output):
        directory = raw.get("Dir")
        path = raw.get("ImportPath")
        if not isinstance(directory, str) or not isinstance(path, str):
            continue
        names: list[str] = []
        for key in ("GoFiles", "CgoFiles", "TestGoFiles", "XTestGoFiles"):
            value = raw.get(key)
            if isinstance(value, list):
                names += [n for n in value if isinstance(n, str)]
        files[path] = tuple(os.path.join(directory, name) for name in sorted(set(names)))
    return files


@dataclass(slots=True)
class Listing:
    """What the go command said about the targets and everything they import.

    targets: one ListedPackage per target package (with the build IDs of its compiles),
    in go list's order; archives: per compiled package as go list names it (`pkg`,
    `pkg [pkg.test]`, `pkg_test [pkg.test]`), its compiled archive; exports: the
    archive (export data) of every package, by plain import path.
    """

    targets: list[ListedPackage] = field(default_factory=list)
    archives: dict[str, str] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)
    package_dirs: dict[str, str] = field(default_factory=dict)
    module_files: set[str] = field(default_factory=set)


def read_listing(text: str, *, tests: bool = False) -> Listing:
    """The Listing of `go list -e -export -deps -json` output; TargetError when every
    target names no package at all (a pattern with no directory behind it). One that
    does, among others that load (a directory `./...` reaches whose name is no import
    path: a space, `<`, invalid UTF-8), is kept with its error, to be skipped."""
    listing = Listing()
    build_ids: dict[str, str] = {}
    raws = list(iter_json_objects(text))
    variants: dict[str, list[dict[str, object]]] = {}
    for raw in raws:
        path = str(raw.get("ImportPath") or "")
        export, build_id = raw.get("Export"), raw.get("BuildID")
        if isinstance(export, str) and export:
            listing.archives[path] = export
            if " [" not in path:
                listing.exports[path] = export
        if isinstance(build_id, str) and build_id:
            build_ids[path] = build_id
        _note_place(listing, path, raw)
        for_test = raw.get("ForTest")
        if isinstance(for_test, str) and for_test:
            variants.setdefault(for_test, []).append(raw)
        elif path.endswith(".test") and not raw.get("DepOnly"):
            variants.setdefault(path.removesuffix(".test"), []).append(raw)
    for raw in raws:
        path = str(raw.get("ImportPath") or "")
        if raw.get("DepOnly") or raw.get("ForTest") or " [" in path:
            continue
        if tests and path.endswith(".test") and path.removesuffix(".test") in variants:
            continue  # the generated test main
        listed = _listed(raw)
        if tests:
            listed = _with_tests(listed, variants.get(path, []))
        compiled = _compiled_blocks(listed, tests)
        ids = tuple(build_ids.get(block, "") for block in compiled)
        if all(ids):
            listed = replace(listed, build_ids=ids)
        listing.targets.append(listed)
    unloadable = [t for t in listing.targets if t.error and not t.dir]
    if unloadable and len(unloadable) == len(listing.targets):
        first = unloadable[0]
        raise TargetError(f"{first.import_path}: {_first_line(first.error or '')}")
    return listing


def _note_place(listing: Listing, path: str, raw: dict[str, object]) -> None:
    directory, module = raw.get("Dir"), raw.get("Module")
    if isinstance(directory, str) and directory and " [" not in path:
        listing.package_dirs[path] = directory
    gomod = module.get("GoMod") if isinstance(module, dict) else None
    if isinstance(gomod, str) and gomod:
        listing.module_files.add(gomod)


def _compiled_blocks(listed: ListedPackage, tests: bool) -> tuple[str, ...]:
    """The compiles whose output makes up the package's result (parsers/gobuild.py)."""
    path = listed.import_path
    if not tests:
        return (path,)
    own = f"{path} [{path}.test]" if listed.has_tests else path
    return (own, *((f"{path}_test [{path}.test]",) if listed.has_xtests else ()))


def _with_tests(listed: ListedPackage, variants: Sequence[dict[str, object]]) -> ListedPackage:
    """The package with the first error of its test variants (a broken _test.go file)."""
    if listed.error is not None:
        return listed
    # The variants with the test files first; the test main only repeats their errors.
    ordered = sorted(variants, key=lambda v: str(v.get("ImportPath", "")).endswith(".test"))
    for variant in ordered:
        error = _listed(variant).error
        if error is not None:
            return replace(listed, error=error)
    return listed


def _listed(raw: dict[str, object]) -> ListedPackage:
    def text(key: str) -> str:
        value = raw.get(key)
        return value if isinstance(value, str) else ""

    def strings(key: str) -> tuple[str, ...]:
        value = raw.get(key)
        return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()

    error = None
    own = raw.get("Error")
    if isinstance(own, dict) and own.get("Err"):
        error = _without_header(str(own["Err"]))
    deps_errors = raw.get("DepsErrors")
    if error is None and isinstance(deps_errors, list):
        for failed in deps_errors:
            message = str(failed.get("Err") or "") if isinstance(failed, dict) else ""
            header = re.match(r"# (\S+)", message)
            if header is not None:
                first = _first_line(_without_header(message))
                error = f"not compiled: dependency {header.group(1)} failed: {first}"
                break
            if message and error is None:
                error = message.strip()
    module = raw.get("Module")
    module_dir = str(module.get("Dir") or "") if isinstance(module, dict) else ""
    return ListedPackage(
        import_path=text("ImportPath"),
        dir=text("Dir"),
        name=text("Name"),
        error=error,
        module_dir=module_dir,
        standard=bool(raw.get("Standard")),
        has_tests=bool(strings("TestGoFiles")),
        has_xtests=bool(strings("XTestGoFiles")),
    )


def _without_header(message: str) -> str:
    """go's `# pkg` line before a compile error's message goes: the report names it."""
    text = message.strip("\n")
    if text.startswith("# "):
        text = text.partition("\n")[2]
    return text.strip("\n")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
