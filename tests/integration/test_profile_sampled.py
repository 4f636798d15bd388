"""A sampled profile (the default MemProfileRate) of a std benchmark joins to the sites of
the whole test binary with few bytes left without a site, each for a documented reason."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from escape_lens.binary_report import analyze_binary
from escape_lens.profile.callees import callee_reader
from escape_lens.profile.join import join_profile
from escape_lens.profile.reader import read_profiles
from escape_lens.toolchain.process import go_environ
from escape_lens.vocab import ProfileSample
from tests.conftest import REPO

pytestmark = pytest.mark.slow

# The reasons docs/profiles.md explains, by how they open.
DOCUMENTED = (
    "runtime-internal",
    "outside the analysed packages",
    "no allocation site at this position (a call to runtime.",
    "at a site's call, not of its predicted size",
)


def test_encoding_json_benchmark_at_the_default_rate(tmp_path: Path, pinned_go: Path) -> None:
    program, profile = tmp_path / "json.test", tmp_path / "mem.pprof"
    env = go_environ()
    subprocess.run(
        [str(pinned_go), "test", "-c", "-o", str(program), "encoding/json"],
        cwd=tmp_path, env=env, check=True, timeout=900,
    )  # fmt: skip
    subprocess.run(
        [str(program), "-test.run", "^$", "-test.bench", "BenchmarkCode(En|De)coder$",
         "-test.benchtime", "40x", "-test.memprofile", str(profile)],
        cwd=tmp_path, env=env, check=True, timeout=600, capture_output=True,
    )  # fmt: skip
    heap = read_profiles([str(profile)])
    assert heap.rate == 512 * 1024
    report = analyze_binary(program, ["..."])
    joined = join_profile(report, heap, ProfileSample.ALLOC_SPACE, callee=callee_reader(program))
    summary = joined.profile
    assert summary is not None
    unattributed = summary.bytes - summary.attributed_bytes
    assert unattributed <= 0.03 * summary.bytes, summary.unattributed
    for row in summary.unattributed:
        assert row.reason.startswith(DOCUMENTED), row
    docs = (REPO / "docs" / "profiles.md").read_text()
    assert all(reason.split(" (")[0] in docs for reason in DOCUMENTED)
    observed = [s for s in joined.sites if s.observed is not None]
    assert sum(s.observed.bytes for s in observed if s.observed) == summary.attributed_bytes
    # Decoding allocates: the decoder's sites (encoding/json, its v2 core from 1.25)
    # are among what was recorded.
    assert any(s.package.startswith("encoding/json") for s in observed)
