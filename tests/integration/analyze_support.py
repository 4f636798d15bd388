"""Helpers shared by the analyze integration tests: expected-site files and matching."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from escape_lens.records import GoVersion, Report, Site
from tests.conftest import FIXTURES

CONSTRUCTS = FIXTURES / "constructs"
MODULE = "example.com/constructs"


def versioned(value: Any, version: GoVersion) -> Any:
    """A per-version value: {"1.21": a, "1.27": b} -> the highest key not above version."""
    if not isinstance(value, Mapping):
        return value
    chosen = None
    for key in sorted(value, key=GoVersion.parse):
        if GoVersion.parse(key).minor_version <= version.minor_version:
            chosen = value[key]
    return chosen


def applies(expected: Mapping[str, Any], version: GoVersion) -> bool:
    since = expected.get("since")
    until = expected.get("until")
    if since and version.minor_version < GoVersion.parse(since).minor_version:
        return False
    return not (until and version.minor_version > GoVersion.parse(until).minor_version)


def expected_packages() -> list[str]:
    return sorted(p.parent.name for p in CONSTRUCTS.glob("*/expected.json"))


def expected_sites(package: str, version: GoVersion) -> list[dict[str, Any]]:
    data = json.loads((CONSTRUCTS / package / "expected.json").read_text())
    result = []
    for raw in data["sites"]:
        if applies(raw, version):
            result.append({k: versioned(v, version) for k, v in raw.items()})
    return result


def short_type(site: Site) -> str | None:
    # Without the import paths' directories, wherever they are in the name
    # (`[1]example.com/constructs/defined.Option` -> `[1]defined.Option`).
    return re.sub(r"(?:[\w.-]+/)+", "", site.type.name) if site.type is not None else None


def matches(site: Site, expected: Mapping[str, Any]) -> bool:
    if site.function != expected["function"] or site.pos.line != expected["line"]:
        return False
    if site.construct != expected["construct"]:
        return False
    if "column" in expected and site.pos.col != expected["column"]:
        return False
    if "entry" in expected and site.entry != expected["entry"]:
        return False
    return site.allocates == expected.get("allocates", True)


def mismatches(site: Site, expected: Mapping[str, Any]) -> list[str]:
    """The expected fields this (matching) site gets wrong."""
    wrong = []
    if "type" in expected and short_type(site) != expected["type"]:
        wrong.append(f"type {short_type(site)} != {expected['type']}")
    if "class_bytes" in expected and site.class_bytes != expected["class_bytes"]:
        wrong.append(f"class_bytes {site.class_bytes} != {expected['class_bytes']}")
    prediction = site.prediction
    if "path" in expected and (prediction is None or prediction.path != expected["path"]):
        wrong.append(f"path {prediction.path if prediction else None} != {expected['path']}")
    if "size_class" in expected and (
        prediction is None or prediction.size_class != expected["size_class"]
    ):
        got = prediction.size_class if prediction else None
        wrong.append(f"size_class {got} != {expected['size_class']}")
    if "inlined_from" in expected:
        got_line = site.inlined_from.line if site.inlined_from else None
        if got_line != expected["inlined_from"]:
            wrong.append(f"inlined_from {got_line} != {expected['inlined_from']}")
    return wrong


def package_sites(report: Report, package: str) -> list[Site]:
    return [s for s in report.sites if s.package == f"{MODULE}/{package}"]


def describe(site: Site) -> str:
    return (
        f"{site.function}:{site.pos.line}:{site.pos.col} {site.construct} {site.entry} "
        f"{short_type(site)} allocates={site.allocates} note={site.note!r}"
    )


def check_package(report: Report, package: str) -> list[str]:
    """Every problem with one package's sites against its expected.json."""
    version = report.toolchain.version
    sites = package_sites(report, package)
    problems = []
    used: set[int] = set()
    for expected in expected_sites(package, version):
        found = [i for i, s in enumerate(sites) if i not in used and matches(s, expected)]
        if not found:
            problems.append(f"missing {expected}; have: {[describe(s) for s in sites]}")
            continue
        used.add(found[0])
        wrong = mismatches(sites[found[0]], expected)
        if wrong:
            problems.append(f"{describe(sites[found[0]])}: {', '.join(wrong)}")
    for index, site in enumerate(sites):
        if index not in used:
            problems.append(f"unexpected site {describe(site)}")
    return problems


def fixture_dir() -> Path:
    return CONSTRUCTS
