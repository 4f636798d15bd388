"""`analyze --profile / --bench` end to end: the output contract, bad profiles, benchmarks."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from escape_lens.cli import main
from escape_lens.profile import pprof_pb2
from escape_lens.reporters.json_report import load_report, report_to_dict
from tests.conftest import FIXTURES
from tests.integration.profiled_support import Profiled, build_and_profile, one_error_line

pytestmark = pytest.mark.slow

N = 200


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, pinned_go: Path) -> Profiled:
    return build_and_profile(tmp_path_factory.mktemp("profilecli"), pinned_go, N)


@pytest.fixture(scope="module")
def module(built: Profiled) -> Path:
    return built.module


@pytest.fixture(scope="module")
def program_and_profile(built: Profiled) -> tuple[Path, Path]:
    return built.program, built.profile


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _site(data: dict[str, Any], function: str, package_end: str) -> dict[str, Any]:
    found = [
        s
        for s in data["sites"]
        if s["function"] == function and s["package"].endswith(package_end) and s["allocates"]
    ]
    assert len(found) == 1, found
    return found[0]


def test_binary_and_profile_json_contract(
    capsys: pytest.CaptureFixture[str],
    program_and_profile: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    program, profile = program_and_profile
    args = ["--binary", str(program), "--package", "example.com/constructs/...", "--format"]
    code, out, err = _run(capsys, *args, "json", "--profile", str(profile))
    assert code == 0, err
    data = json.loads(out)
    assert data["schema"] == "escape-lens/1"
    block = data["profile"]
    assert block["files"] == [str(profile)]
    assert block["sample"] == "alloc_space"
    assert block["rate"] == 1
    assert block["bytes"] >= block["attributed_bytes"] > 0
    assert block["unrecorded"]
    assert "operations" not in block
    for row in block["unattributed"]:
        assert set(row) == {"function", "file", "line", "objects", "bytes", "reason"}
    pair = _site(data, "NewPair", "/newlit")
    assert pair["observed"]["objects"] == N
    assert pair["observed"]["bytes"] == 16 * N
    assert pair["observed"]["sizes"] == [{"bytes": 16, "objects": N}]
    assert pair["observed"]["model_disagreement"] is None
    assert "per_op" not in pair
    hinted = _site(data, "Hinted", "/maps")
    sizes = [s["bytes"] for s in hinted["observed"]["sizes"]]
    assert sizes == sorted(sizes)
    # Sites that recorded nothing say so (the go statement's newproc reuses goroutines).
    assert any(s["observed"] is None for s in data["sites"])
    # The same input gives the same bytes, and the report reads back the same.
    again = _run(capsys, *args, "json", "--profile", str(profile))[1]
    assert again == out
    saved = tmp_path / "report.json"
    saved.write_text(out)
    with saved.open() as stream:
        assert report_to_dict(load_report(stream, str(saved))) == data


def test_object_counts_follow_the_sample(
    capsys: pytest.CaptureFixture[str], program_and_profile: tuple[Path, Path]
) -> None:
    program, profile = program_and_profile
    args = ["--binary", str(program), "--package", "example.com/constructs/...", "--format"]
    _, out, _ = _run(
        capsys, *args, "json", "--profile", str(profile), "--profile-sample", "inuse_space"
    )
    data = json.loads(out)
    assert data["profile"]["sample"] == "inuse_space"
    # The program keeps only the last result of each variable reachable: NewWide's were all
    # freed; oneline.Two's slice was the last one put in sinkInts (fixtures/profiled).
    assert _site(data, "NewWide", "/newlit")["observed"] is None
    two = [s for s in data["sites"] if s["function"] == "Two" and s["package"].endswith("/oneline")]
    in_use = {s["construct"]: s["observed"] and s["observed"]["sizes"] for s in two}
    assert in_use["make-slice"] == [{"bytes": 64, "objects": 1}]


def test_text_shows_observed_share_and_what_is_not_recorded(
    capsys: pytest.CaptureFixture[str], program_and_profile: tuple[Path, Path]
) -> None:
    program, profile = program_and_profile
    code, out, _ = _run(
        capsys, "--binary", str(program), "--package", "example.com/constructs/...",
        "--profile", str(profile),
    )  # fmt: skip
    assert code == 0
    assert f"observed {N} objects, {96 * N} B (" in out
    assert "not recorded by the runtime" in out
    assert f"48 B \u00d7{N}" in out  # a dynamic site's size distribution (Variable(5))
    ranked = _run(
        capsys, "--binary", str(program), "--package", "example.com/constructs/...",
        "--profile", str(profile), "--sort", "observed",
    )[1]  # fmt: skip
    lines = [line for line in ranked.splitlines() if line.strip().endswith("]") or "%" in line]
    shares = [
        float(line.split("%")[0]) for line in lines if line.startswith("  ") and "%  " in line
    ]
    assert shares == sorted(shares, reverse=True)
    assert "large" in ranked.split("sites by observed bytes")[1].splitlines()[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, world\n", "not a pprof profile"),
        (gzip.compress(b"\x0a\x02\x08"), "not a pprof profile"),
        (b"\x1f\x8b\x08\x00garbage", "corrupt or truncated gzip"),
    ],
)
def test_bad_profiles_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    program_and_profile: tuple[Path, Path],
    content: bytes,
    message: str,
) -> None:
    bad = tmp_path / "bad.pprof"
    bad.write_bytes(content)
    code, out, err = _run(capsys, "--binary", str(program_and_profile[0]), "--profile", str(bad))
    assert code == 2
    assert out == ""
    assert message in one_error_line(err)


def test_truncated_and_non_heap_profiles(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, program_and_profile: tuple[Path, Path]
) -> None:
    program, profile = program_and_profile
    whole = profile.read_bytes()
    cut = tmp_path / "cut.pprof"
    cut.write_bytes(whole[: len(whole) // 2])
    code, _, err = _run(capsys, "--binary", str(program), "--profile", str(cut))
    assert code == 2
    assert "truncated" in one_error_line(err)
    raw = gzip.decompress(whole)
    cut.write_bytes(raw[: len(raw) - 7])
    code, _, err = _run(capsys, "--binary", str(program), "--profile", str(cut))
    assert code == 2
    one_error_line(err)
    cpu = pprof_pb2.Profile()
    cpu.string_table.extend(["", "samples", "count", "cpu", "nanoseconds"])
    cpu.sample_type.add(type=1, unit=2)
    cpu.sample_type.add(type=3, unit=4)
    cut.write_bytes(gzip.compress(cpu.SerializeToString()))
    code, _, err = _run(capsys, "--binary", str(program), "--profile", str(cut))
    assert code == 2
    assert "not a Go heap profile (sample types: samples, cpu)" in one_error_line(err)
    code, _, err = _run(capsys, "--binary", str(program), "--profile", str(tmp_path / "none"))
    assert code == 2
    assert "cannot read profile" in one_error_line(err)


def test_bench_reports_allocations_per_operation(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    code, out, err = _run(
        capsys, str(module / "bench"), "--go", str(pinned_go), "--bench", "^BenchmarkMake$",
        "--benchtime", "500x", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    block = data["profile"]
    assert block["operations"] == 500
    assert [b["operations"] for b in block["benchmarks"]] == [500]
    assert block["files"] == []
    make = _site(data, "Make", "/bench")
    # testing runs a b.N loop once with N=1 before the 500: 501 calls, one object each.
    assert make["observed"]["sizes"] == [{"bytes": 24, "objects": 501}]
    assert make["per_op"] == {"objects": 501 / 500, "bytes": 24 * 501 / 500}


def test_a_bad_bench_pattern_shows_gos_own_message(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    # The test binary rejects the pattern; its words, not go test's closing `FAIL`, say why.
    code, out, err = _run(capsys, str(module / "bench"), "--go", str(pinned_go), "--bench", "(")
    assert (code, out) == (2, "")
    assert one_error_line(err) == (
        "escape-lens: error: go test -bench '(' failed: testing: invalid regexp for element 0"
        ' of -test.bench ("("): error parsing regexp: missing closing ): `(`'
    )


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ('b.Fatal("boom here")', "bf_test.go:6: boom here"),
        ('panic("kaput")', "panic: kaput"),
    ],
)
def test_a_failing_benchmark_says_why_in_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    pinned_go: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: str,
    said: str,
) -> None:
    (tmp_path / "go.mod").write_text("module example.com/bf\n\ngo 1.21\n")
    (tmp_path / "bf.go").write_text("package bf\n\nfunc F() []int { return make([]int, 3) }\n")
    (tmp_path / "bf_test.go").write_text(
        'package bf\n\nimport "testing"\n\nfunc BenchmarkF(b *testing.B) {\n\t' + body + "\n}\n"
    )
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, ".", "--go", str(pinned_go), "--bench", ".")
    assert code == 2
    assert one_error_line(err) == f"escape-lens: error: go test -bench '.' failed: {said}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bench", "X", "--benchtime", "1s"], "fixed iteration count"),
        (["--bench", "X", "--profile", "p"], "no --binary or --profile"),
        (["--sort", "observed"], "--sort observed needs"),
    ],
)
def test_profile_usage_errors(
    capsys: pytest.CaptureFixture[str], module: Path, args: list[str], message: str
) -> None:
    code, _, err = _run(capsys, str(module / "bench"), *args)
    assert code == 2
    assert message in one_error_line(err)


def _check(capsys: pytest.CaptureFixture[str], go: Path, *args: str) -> tuple[int, str, str]:
    code = main(["check", "./...", "example.com/constructs/...", "--go", str(go), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def gated(
    module: Path, program_and_profile: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The module with an empty baseline (nothing declared hot) and the profile inside."""
    monkeypatch.chdir(module)
    shutil.copy(program_and_profile[1], module / "allocs.pprof")
    (module / "escape-lens.toml").write_text("")
    (module / "escape-lens.baseline.json").unlink(missing_ok=True)
    assert main(["baseline", "./...", "example.com/constructs/..."]) == 0
    return module


def test_check_hot_share_makes_profile_hot_functions_hot(
    capsys: pytest.CaptureFixture[str], gated: Path, pinned_go: Path
) -> None:
    capsys.readouterr()
    code, out, _ = _check(capsys, pinned_go, "--format", "json")
    assert code == 0, out
    # large.New holds 97% of the profiled bytes: with a 50% share only it is hot, and its
    # allocation is new against a baseline with no hot function.
    code, out, err = _check(
        capsys, pinned_go, "--profile", "allocs.pprof", "--hot-share", "50%", "--format", "json"
    )
    assert code == 1, err
    findings = json.loads(out)["findings"]
    assert {(f["rule"], f["function"]) for f in findings} == {
        ("EL001", "example.com/constructs/large.New")
    }
    # The same from the configuration.
    (gated / "escape-lens.toml").write_text('profile = ["allocs.pprof"]\nhot-share = "50%"\n')
    code, out, _ = _check(capsys, pinned_go, "--format", "json")
    assert code == 1
    assert {(f["rule"], f["function"]) for f in json.loads(out)["findings"]} == {
        ("EL001", "example.com/constructs/large.New")
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('hot-share = "lots"\n', "escape-lens.toml:1: hot-share: a share must read like 1%"),
        ('hot-share = "0%"\n', "above 0"),
        ("hot-share = 5\n", "hot-share: must be"),
        ('profile = ["/etc/passwd"]\n', "escape-lens.toml:1: profile[0]: must be a relative"),
        ('profile = ["x", "../x"]\n', "profile[1]: must be a relative"),
        ('hot-share = "1%"\n', "--hot-share needs a heap profile"),
    ],
)
def test_profile_config_values_are_validated(
    capsys: pytest.CaptureFixture[str], gated: Path, pinned_go: Path, config: str, message: str
) -> None:
    capsys.readouterr()
    (gated / "escape-lens.toml").write_text(config)
    code, _, err = _check(capsys, pinned_go)
    assert code == 2
    assert message in one_error_line(err)


def test_samples_without_a_site_name_the_runtime_call(
    capsys: pytest.CaptureFixture[str], program_and_profile: tuple[Path, Path]
) -> None:
    """The program the profile is of names what was called where no site is: the
    program's first runtime.GC() starts the collector's workers, allocating for them."""
    program, profile = program_and_profile
    code, out, _ = _run(
        capsys, "--binary", str(program), "--package", "example.com/...",
        "--profile", str(profile), "--format", "json",
    )  # fmt: skip
    assert code == 0
    source = (FIXTURES / "profiled" / "main.go").read_text().splitlines()
    reasons = {
        source[row["line"] - 1].strip(): row["reason"]
        for row in json.loads(out)["profile"]["unattributed"]
        if row["function"] == "main.main"
    }
    assert "a call to runtime.GC: the garbage collector" in reasons["runtime.GC()"], reasons
    assert all("(a call to runtime." in reason for reason in reasons.values()), reasons
