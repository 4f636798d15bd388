"""The model against the running Go runtime: the measurement program, per toolchain.

Every case is measured (runtime/metrics size-class counts, tiny counts, addresses) and
compared with `predict`; the runtime is right by definition.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.model import rules_for
from escape_lens.model.verify import DEFAULT_CASES, Verification, compare, verify
from escape_lens.records import GoToolchain, GoVersion
from escape_lens.toolchain import read_toolchain
from tests.conftest import fetch_toolchain

pytestmark = pytest.mark.slow

REQUIRED = (8, 15, 16, 24, 32, 33, 48, 80, 81, 512, 513, 520, 1016, 1024, 1025)
REQUIRED_LIMITS = (32760, 32761, 32768, 32769)


def _report(result: Verification) -> str:
    return "\n".join(
        f"{c.observation.case} (type {c.observation.type_size} B): {'; '.join(c.problems)}"
        f" [runtime: {c.observation.summary()}]"
        for c in result.mismatched
    )


@pytest.fixture(scope="session")
def pinned_result(pinned_toolchain: GoToolchain) -> Verification:
    return verify(pinned_toolchain)


def test_cases_cover_every_boundary() -> None:
    noscan = {size for size, pointers in DEFAULT_CASES if not pointers}
    scan = {size for size, pointers in DEFAULT_CASES if pointers}
    assert len(noscan) >= 60
    assert len(scan) >= 60
    assert set(REQUIRED) | set(REQUIRED_LIMITS) <= noscan
    assert {8, 16, 24, 32, 48, 80, 88, 512, 520, 1016, 1024, 1032, 32760, 32768} <= scan


def test_pinned_runtime_agrees_on_every_case(pinned_result: Verification) -> None:
    assert pinned_result.runtime_version == str(pinned_result.toolchain.version)
    assert len(pinned_result.checks) == len(DEFAULT_CASES)
    assert not pinned_result.mismatched, _report(pinned_result)
    paths = {check.prediction.path for check in pinned_result.checks}
    assert paths == {"none", "tiny", "small", "large"}
    assert any(check.prediction.header_bytes for check in pinned_result.checks)


def test_pinned_runtime_shows_what_the_model_claims(pinned_result: Verification) -> None:
    by_case = {c.observation.case: c.observation for c in pinned_result.checks}
    # go1.27: Green Tea reserves, header on 1024-byte scan objects, 32768 is large.
    assert by_case["33:n"].classes == {48: by_case["33:n"].n}
    assert by_case["33:n"].max_per_page == 168
    assert by_case["16:p"].max_per_page == 496
    assert by_case["1024:p"].classes == {1152: by_case["1024:p"].n}
    assert by_case["1024:p"].offsets64 == (8,)
    assert by_case["32768:n"].large == by_case["32768:n"].n
    assert by_case["1:n"].max_blocks_per_page == 504


def test_disagreement_is_detected(pinned_result: Verification) -> None:
    """The comparison can fail: go1.21's rules do not describe the go1.27 runtime."""
    wrong = rules_for(GoVersion(1, 21))
    problems = [compare(check.observation, wrong) for check in pinned_result.checks]
    failed = {check.observation.case for check in problems if not check.agrees}
    assert {"1024:p", "32768:n", "16:n", "8:p"} <= failed


@pytest.mark.parametrize("experiment", ["nogreenteagc", "nosizespecializedmalloc"])
def test_pinned_runtime_with_experiments_off(
    pinned_toolchain: GoToolchain, experiment: str
) -> None:
    result = verify(pinned_toolchain, DEFAULT_CASES, (experiment,))
    assert result.goexperiment == experiment
    assert len(result.checks) == len(DEFAULT_CASES)
    assert not result.mismatched, _report(result)
    by_case = {c.observation.case: c.observation for c in result.checks}
    # Without Green Tea the noscan 512-byte span holds 16 again (15 with it).
    assert by_case["512:n"].max_per_page == (16 if experiment == "nogreenteagc" else 15)


@pytest.mark.toolchains
@pytest.mark.parametrize(
    ("version", "experiments"),
    [("1.21.13", ()), ("1.22.10", ()), ("1.22.10", ("noallocheaders",)), ("1.24.11", ())],
    ids=["go1.21.13", "go1.22.10", "go1.22.10-noallocheaders", "go1.24.11"],
)
def test_old_runtimes_agree(version: str, experiments: tuple[str, ...]) -> None:
    toolchain = read_toolchain(Path(fetch_toolchain(version)))
    result = verify(toolchain, DEFAULT_CASES, experiments)
    assert result.runtime_version.startswith(f"go{version}")
    if experiments:
        assert result.goexperiment == ",".join(experiments)
        assert not result.rules.alloc_headers
    assert len(result.checks) == len(DEFAULT_CASES)
    assert not result.mismatched, _report(result)
    by_case = {c.observation.case: c.observation for c in result.checks}
    # 1.21 and 1.22 without headers: 32768 B is still small, 1024 B scan stays in its class.
    small_32768 = version == "1.21.13" or bool(experiments)
    assert (by_case["32768:n"].large == 0) is small_32768
    assert (1024 in by_case["1024:p"].classes) is small_32768
