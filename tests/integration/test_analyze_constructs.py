"""The constructs fixtures against their expected sites, with the real compiler.

Each package of fixtures/constructs has an expected.json written from the allocator's
facts (docs/allocator.md) and the Go semantics; the tests build the module once per
toolchain (go1.27.3 pinned, and go1.21.13 and go1.24.11 from PyPI) and compare. The
last test runs a compiled program under runtime/metrics and checks the tool's predicted
classes against what the runtime really allocated.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.model import class_of_specialized_entry
from escape_lens.predict import specialized_disagreement
from escape_lens.records import Report
from escape_lens.toolchain.process import go_environ
from escape_lens.vocab import NoteCode
from tests.conftest import fetch_toolchain
from tests.integration.analyze_support import (
    CONSTRUCTS,
    MODULE,
    check_package,
    expected_packages,
)

pytestmark = pytest.mark.slow

_REPORTS: dict[str, Report] = {}


def _report(go: Path, platform: str = "") -> Report:
    """The module's report; `platform` (`darwin/arm64`) cross-compiles, as source mode
    does without a C toolchain."""
    key = f"{go} {platform}"
    if key not in _REPORTS:
        with pytest.MonkeyPatch.context() as env:
            if platform:
                goos, goarch = platform.split("/")
                env.setenv("GOOS", goos)
                env.setenv("GOARCH", goarch)
            _REPORTS[key] = analyze_targets(["./..."], go=str(go), cwd=str(CONSTRUCTS))
    return _REPORTS[key]


# Every toolchain on amd64; arm64 (linux and darwin, what Apple Silicon builds) with the
# oldest and the pinned one: the same sites, sizes and classes are expected.
@pytest.fixture(
    scope="module",
    params=[
        "pinned",
        "1.21.13",
        "1.24.11",
        "pinned linux/arm64",
        "pinned darwin/arm64",
        "1.21.13 linux/arm64",
    ],
)
def constructs_report(request: pytest.FixtureRequest, pinned_go: Path) -> Report:
    version, _, platform = str(request.param).partition(" ")
    go = pinned_go if version == "pinned" else fetch_toolchain(version)
    return _report(go, platform)


@pytest.mark.parametrize("package", expected_packages())
def test_constructs_match_expected_sites(constructs_report: Report, package: str) -> None:
    assert f"{MODULE}/{package}" in constructs_report.packages
    problems = check_package(constructs_report, package)
    assert not problems, f"{constructs_report.toolchain.version} {package}:\n" + "\n".join(problems)


def test_specialized_entries_agree_with_the_model(constructs_report: Report) -> None:
    """The built-in self-check: a compiler-chosen mallocgc*SC<n> is the model's class."""
    specialized = [s for s in constructs_report.sites if s.entry and re.search(r"SC\d+$", s.entry)]
    if constructs_report.toolchain.version.minor_version >= (1, 27):
        assert len(specialized) >= 8  # 1.27 specializes new(T) up to 80 B by default
    for site in specialized:
        assert site.prediction is not None
        assert class_of_specialized_entry(site.entry or "") == site.prediction.size_class, site
        assert specialized_disagreement(site) is None
        assert not site.has_note(NoteCode.MODEL_DISAGREES)


def test_every_allocation_call_is_a_site(constructs_report: Report) -> None:
    """No call is dropped: sites with calls = calls the parser found in target packages."""
    calls = [s for s in constructs_report.sites if s.call is not None]
    assert all(s.allocates for s in calls)
    entries = Counter(s.entry for s in calls)
    assert entries["makechan"] == 3  # channels have no escape line, still sites
    assert entries["makeslice"] >= 4


def test_batched_locals_share_one_allocation_that_names_them(constructs_report: Report) -> None:
    """movedheap.Two: from go1.25 x and y are one object; its site names both, y's site
    points to it; before, each has its own allocation and neither note."""
    two = [s for s in constructs_report.sites if s.function == "Two" and "movedheap" in s.package]
    carriers = [s for s in two if s.has_note(NoteCode.BATCHED_CARRIER)]
    held = [s for s in two if s.has_note(NoteCode.BATCHED)]
    if constructs_report.toolchain.version.minor_version < (1, 25):
        assert not carriers
        assert not held
        assert sum(s.allocates for s in two) == 2
        return
    (carrier,) = carriers
    (other,) = held
    assert carrier.allocates
    assert not other.allocates
    assert f"one allocation for {carrier.expr} and {other.expr} (line {other.pos.line})" in (
        carrier.note
    )
    assert f"with {carrier.expr} at line {carrier.pos.line}" in other.note


def test_sites_sorted_and_fingerprinted(constructs_report: Report) -> None:
    keys = [(s.pos.file, s.pos.line, s.pos.col, s.construct) for s in constructs_report.sites]
    assert keys == sorted(keys)
    prints = [s.fingerprint for s in constructs_report.sites]
    assert all(prints)
    assert len(set(prints)) == len(prints)


# --- the runtime agrees ---------------------------------------------------------------

_RUNTIME_FUNCTIONS = [
    ("newlit", "NewNode"),
    ("newlit", "NewWide"),
    ("slices", "Const"),
    ("slices", "ConstPointers"),
    ("maps", "Hinted"),
    ("chans", "Ints"),
    ("chans", "Pointers"),
    ("closures", "ByValue"),
    ("large", "New"),
    ("methods", "Inlined"),
    ("defined", "NewState"),
    ("defined", "NewInts"),
    ("defined", "NewSet"),
    ("defined", "Unboxed"),
    ("defined", "Entries"),
]
_N = 2000


@pytest.fixture(scope="module", params=["pinned", "1.21.13", "1.24.11"])
def runtime_go(request: pytest.FixtureRequest, pinned_go: Path) -> Path:
    return pinned_go if request.param == "pinned" else fetch_toolchain(str(request.param))


@pytest.fixture(scope="module")
def allocs_program(tmp_path_factory: pytest.TempPathFactory, runtime_go: Path) -> Path:
    binary = tmp_path_factory.mktemp("allocs") / "allocs"
    subprocess.run(
        [str(runtime_go), "build", "-o", str(binary), "./cmd/allocs"],
        cwd=CONSTRUCTS,
        env=go_environ(),
        check=True,
        timeout=300,
    )
    return binary


def _buckets(program: Path, name: str, n: int) -> dict[tuple[float, float], int]:
    out = subprocess.run(
        [str(program), name, str(n)], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if parts[0] == "tiny":
            continue
        high = float("inf") if parts[1] == "inf" else float(parts[1])
        result[(float(parts[0]), high)] = int(parts[2])
    return result


@pytest.mark.parametrize(("package", "function"), _RUNTIME_FUNCTIONS)
def test_runtime_allocates_the_predicted_classes(
    allocs_program: Path, runtime_go: Path, package: str, function: str
) -> None:
    """Per call of the function, the runtime allocates exactly the predicted classes."""
    report = _report(runtime_go)
    sites = [
        s
        for s in report.sites
        if s.package == f"{MODULE}/{package}" and s.function == function and s.allocates
    ]
    assert sites, f"the tool found no site in {package}.{function}"
    predicted: Counter[int] = Counter()
    for site in sites:
        assert site.prediction is not None
        assert site.prediction.path in ("small", "large")
        for object_ in (site.prediction, *site.extra):
            predicted[object_.class_bytes] += 1

    baseline = _buckets(allocs_program, f"{package}.{function}", 0)
    loaded = _buckets(allocs_program, f"{package}.{function}", _N)
    measured: Counter[tuple[float, float]] = Counter()
    for bucket, count in loaded.items():
        per_call = round((count - baseline.get(bucket, 0)) / _N)
        if per_call:
            measured[bucket] = per_call
    expected: Counter[tuple[float, float]] = Counter()
    for size, count in predicted.items():
        # A class the runtime never touched has no bucket in the output: keep it visible.
        bucket = next((b for b in loaded if b[0] <= size < b[1]), (size, size))
        expected[bucket] += count
    assert measured == expected, f"predicted {dict(predicted)}, runtime {dict(measured)}"
