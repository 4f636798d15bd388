"""`escape-lens sizeclass` with --go VERSION: no Go toolchain needed."""

from __future__ import annotations

import json
import re

import pytest

from escape_lens.cli import main
from escape_lens.errors import GoNotFoundError
from escape_lens.reporters.prediction_json import PREDICTION_FIELDS


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sizeclass", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_explains_the_issue_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "33", "--go", "1.26")
    assert code == 0
    assert err == ""
    assert (
        "33 B, no pointers → small path, size class 5 (48 B), 15 B (31%) wasted per object, "
        "span class 11 (noscan), 1-page span holds 168"
    ) in out


def test_text_mentions_header_tiny_and_large(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "8", "1024", "32768", "--pointers", "--go", "go1.22.10")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "go1.22 allocator:"
    assert "size class 1 (8 B)" in lines[1]
    assert "8-byte malloc header" in lines[2]
    assert "size class 33 (1152 B)" in lines[2]
    assert "large path (over the 32760-byte small-object limit)" in lines[3]
    _, out, _ = run(capsys, "5", "--go", "1.21")
    assert "tiny path" in out
    assert "3 such objects share a block" in out


def test_json_lines_one_prediction_per_size_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "33", "0", "32769", "9", "--format", "json", "--go", "1.27")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [tuple(r) for r in rows] == [PREDICTION_FIELDS] * 4
    assert [r["requested_bytes"] for r in rows] == [33, 0, 32769, 9]
    assert [r["path"] for r in rows] == ["small", "none", "large", "tiny"]
    assert rows[0]["size_class"] == 5
    assert (rows[2]["size_class"], rows[2]["class_bytes"], rows[2]["span_pages"]) == (0, 40960, 5)
    assert (rows[3]["size_class"], rows[3]["class_bytes"], rows[3]["span_class"]) == (2, 16, 5)


@pytest.mark.parametrize("version", ["1.21", "1.22", "1.23", "1.24", "1.25", "1.26", "1.27"])
def test_json_and_table_for_every_version(capsys: pytest.CaptureFixture[str], version: str) -> None:
    code, out, _ = run(capsys, "33", "--format", "json", "--go", version)
    assert code == 0
    assert json.loads(out)["class_bytes"] == 48
    code, out, _ = run(capsys, "--table", "--go", version)
    assert code == 0
    rows = [line.split() for line in out.splitlines() if line.split()[0].isdigit()]
    assert [int(r[0]) for r in rows] == list(range(1, 68))
    assert rows[-1][:3] == ["67", "32768", "4"]
    objs_scan_8 = {"1.21": "1024"}.get(version, "1008")
    assert rows[0][3] == objs_scan_8
    # Every value ends where its column's heading ends.
    [heading] = [line for line in out.splitlines() if line.startswith("class")]
    edges = [m.end() for m in re.finditer(r"\S+(?: \S+)?", heading)]
    assert len(edges) == 7
    for line in out.splitlines():
        if line.split()[0].isdigit():
            assert [m.end() for m in re.finditer(r"\S+", line)] == edges, line
    code, out, _ = run(capsys, "--table", "--go", version, "--format", "json")
    assert len(out.splitlines()) == 67
    assert json.loads(out.splitlines()[25])["objects_noscan"] == (15 if version >= "1.26" else 16)


def test_release_candidates_are_versions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "33", "--go", "go1.26rc1")
    assert code == 0
    assert "go1.26 allocator" in out
    assert "1-page span holds 168" in out


def test_goexperiment_option(capsys: pytest.CaptureFixture[str]) -> None:
    _, on, _ = run(capsys, "1024", "--pointers", "--go", "1.22", "--format", "json")
    _, off, _ = run(
        capsys, "1024", "--pointers", "--go", "1.22", "--goexperiment", "noallocheaders"
    )
    assert json.loads(on)["class_bytes"] == 1152
    assert "(GOEXPERIMENT=noallocheaders)" in off
    assert "size class 32 (1024 B)" in off


def test_unknown_future_version_notes_once_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "33", "48", "--go", "1.40", "--format", "json")
    assert code == 0
    assert len(out.splitlines()) == 2
    assert err.count("escape-lens: note:") == 1
    assert "newer than the newest version the model knows" in err


def test_no_go_anywhere_falls_back_with_a_note(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(explicit: str | None = None) -> None:
        raise GoNotFoundError("no Go toolchain found")

    monkeypatch.setattr("escape_lens.cli.sizeclass.find_go", missing)
    code, out, err = run(capsys, "33")
    assert code == 0
    assert "go1.27 allocator" in out
    assert "no Go toolchain found; using the go1.27.3 rules" in err


@pytest.mark.parametrize(
    ("written", "in_bytes"),
    [("4KiB", "4096"), ("4 kib", "4096"), ("1MiB", "1048576"), ("64KB", "64000"), ("48B", "48")],
)
def test_sizes_with_units(capsys: pytest.CaptureFixture[str], written: str, in_bytes: str) -> None:
    code, out, _ = run(capsys, written, "--go", "1.27", "--format", "json")
    assert code == 0
    assert out == run(capsys, in_bytes, "--go", "1.27", "--format", "json")[1]
    assert f'"requested_bytes": {in_bytes}' in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["abc"], "not a size: 'abc'"),
        (["--", "-5"], "not a size: '-5'"),
        (["4XiB"], "not a size: '4XiB' (want a whole number of bytes, or with a unit"),
        (["1.5KiB"], "not a size: '1.5KiB'"),
        ([], "give at least one SIZE"),
        (["--table", "33"], "--table prints every class"),
        (["--table", "--verify"], "cannot be combined"),
        (["--verify", "--go", "1.22"], "--go must be a path"),
        (["33", "--go", "/nonexistent/go"], "no Go toolchain at /nonexistent/go"),
        (["33", "--go", "1.20"], "supports go1.21 and newer"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err
