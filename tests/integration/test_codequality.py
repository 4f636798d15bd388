"""`--format codequality` (GitLab Code Quality) on a real build of fixtures/checkmod."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from escape_lens.cli import main
from tests.integration.build_helpers import analyze_twice, baseline_then_edit

pytestmark = pytest.mark.slow

CODEC = "codec/codec.go"
NEW_ALLOCATION = ("\tvar sum uint32\n", "\tvar sum uint32\n\tsink = new([4]uint64)\n")
REQUIRED = {"description", "check_name", "fingerprint", "severity", "location"}
SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def _assert_documented_fields(issues: list[dict[str, Any]]) -> None:
    assert isinstance(issues, list)
    assert issues
    for issue in issues:
        assert set(issue) >= REQUIRED
        assert issue["description"]
        assert issue["severity"] in SEVERITIES
        assert isinstance(issue["location"]["lines"]["begin"], int)
        assert issue["location"]["lines"]["begin"] >= 1
        assert not issue["location"]["path"].startswith("/")
        assert len(issue["fingerprint"]) == 32
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints)


def test_check_codequality(
    capsys: pytest.CaptureFixture[str], repository: Path, pinned_go: Path
) -> None:
    source = baseline_then_edit(repository, pinned_go, CODEC, NEW_ALLOCATION)
    capsys.readouterr()
    code = main(["check", "--go", str(pinned_go), "--format", "codequality", "-o", "cq.json"])
    assert code == 1
    issues = json.loads((repository / "cq.json").read_text())
    _assert_documented_fields(issues)
    [new] = [i for i in issues if i["check_name"] == "EL001 new-allocation"]
    assert new["severity"] == "major"
    line = source.splitlines().index("\tsink = new([4]uint64)") + 1
    # Relative to the repository root, not the module root.
    assert new["location"] == {"path": f"services/checkmod/{CODEC}", "lines": {"begin": line}}
    assert "new([4]uint64)" in new["description"]

    # A blank line above the site moves it, but not its fingerprint.
    (repository / CODEC).write_text(source.replace("\tvar sum uint32\n", "\n\tvar sum uint32\n"))
    main(["check", "--go", str(pinned_go), "--format", "codequality", "-o", "moved.json"])
    [moved] = [
        i
        for i in json.loads((repository / "moved.json").read_text())
        if i["check_name"] == "EL001 new-allocation"
    ]
    assert moved["location"]["lines"]["begin"] == line + 1
    assert moved["fingerprint"] == new["fingerprint"]


def test_analyze_codequality(
    capsys: pytest.CaptureFixture[str], repository: Path, pinned_go: Path
) -> None:
    issues = json.loads(analyze_twice(capsys, pinned_go, "codequality"))
    _assert_documented_fields(issues)
    assert {i["check_name"] for i in issues} == {"EL000 heap-allocation"}
    assert {i["severity"] for i in issues} == {"info"}
    assert len(issues) == 5  # the five allocating sites the SARIF test counts
    assert any("65536 B large" in i["description"] for i in issues)


def test_a_package_that_does_not_compile_is_an_issue(
    capsys: pytest.CaptureFixture[str], repository: Path, pinned_go: Path
) -> None:
    """As SARIF, GitHub and JSON name skipped packages: one issue each, at the compiler's
    position, with a fingerprint of the package alone (stable as its errors change)."""
    broken = repository / "broken"
    broken.mkdir()
    (broken / "broken.go").write_text("package broken\n\nfunc F() int { return x }\n")
    code = main(["analyze", "./...", "--go", str(pinned_go), "--format", "codequality"])
    issues = json.loads(capsys.readouterr().out)
    assert code == 0
    _assert_documented_fields(issues)
    [skipped] = [i for i in issues if i["check_name"] == "skipped-package"]
    assert skipped["severity"] == "minor"
    assert skipped["location"] == {
        "path": "services/checkmod/broken/broken.go",
        "lines": {"begin": 3},
    }
    assert skipped["description"].startswith("example.com/checkmod/broken was not analysed: ")
    assert "undefined: x" in skipped["description"]
    (broken / "broken.go").write_text("package broken\n\n\nfunc F() int { return y }\n")
    main(["analyze", "./...", "--go", str(pinned_go), "--format", "codequality"])
    [again] = [
        i for i in json.loads(capsys.readouterr().out) if i["check_name"] == "skipped-package"
    ]
    assert again["location"]["lines"]["begin"] == 4
    assert again["fingerprint"] == skipped["fingerprint"]
