"""SARIF output (check and analyze) against the vendored SARIF 2.1.0 schema (OASIS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from escape_lens.cli import main
from escape_lens.findings import RULES
from tests.conftest import REPO
from tests.integration.build_helpers import analyze_twice, baseline_then_edit

pytestmark = pytest.mark.slow

SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
CODEC = "codec/codec.go"


def _validate(log: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(
        SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_the_vendored_schema_is_the_oasis_schema() -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]
    # The validator rejects what the schema forbids (it is not a permissive stand-in).
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {}}]}, SCHEMA)
    assert (REPO / "tests" / "data" / "sarif-schema-2.1.0.LICENSE.md").is_file()


def test_check_sarif_is_valid_and_complete(
    capsys: pytest.CaptureFixture[str], repository: Path, pinned_go: Path
) -> None:
    source = baseline_then_edit(
        repository,
        pinned_go,
        CODEC,
        ("\tvar sum uint32\n", "\tvar sum uint32\n\tsink = new([4]uint64)\n"),
        ("\tTags []string\n}", "\tTags []string\n\tHash [2]int64\n}"),
    )
    capsys.readouterr()
    code = main(["check", "--go", str(pinned_go), "--format", "sarif", "-o", "out.sarif"])
    assert code == 1
    log = json.loads((repository / "out.sarif").read_text())
    _validate(log)
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in rules)
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert set(by_rule) == {"EL001", "EL002"}
    for result in run["results"]:
        assert result["level"] == "error"
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        [location] = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        # Relative to the repository root, not the module root.
        assert artifact == {"uri": f"services/checkmod/{CODEC}", "uriBaseId": "SRCROOT"}
        assert len(result["partialFingerprints"]["escapeLens/v1"]) == 16
    new = by_rule["EL001"]
    line = source.splitlines().index("\tsink = new([4]uint64)") + 1
    assert new["locations"][0]["physicalLocation"]["region"]["startLine"] == line
    # The escape flow: `sink = new(...)` (assign) as a related location on the same line.
    related = new["relatedLocations"]
    assert related
    assert all(r["physicalLocation"]["region"]["startLine"] == line for r in related)
    assert any("(assign)" in r["message"]["text"] for r in related)
    assert len({r["id"] for r in related}) == len(related)
    grown = by_rule["EL002"]
    assert grown["properties"]["sizeClass"] == 6
    assert grown["properties"]["classBytes"] == 64


def test_analyze_sarif_is_valid(
    capsys: pytest.CaptureFixture[str], repository: Path, pinned_go: Path
) -> None:
    log = json.loads(analyze_twice(capsys, pinned_go, "sarif"))
    _validate(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"EL000"}
    assert {r["level"] for r in results} == {"note"}
    lines = sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results)
    assert len(lines) == 5  # window, &Record{...}, make([]byte, 64<<10), c, &Record{...}
    large = [r for r in results if r["properties"]["path"] == "large"]
    assert len(large) == 1
    assert "65536 B large" in large[0]["message"]["text"]
