"""Check output formats on a result built from records (no Go needed)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from escape_lens import model
from escape_lens.findings import RULES, CheckResult, Finding
from escape_lens.records import GoToolchain, GoVersion, Report, Site, SourcePos, TypeInfo
from escape_lens.reporters import check_reporter
from escape_lens.reporters.github import escape_data, escape_property
from escape_lens.reporters.repository import repository_path

VERSION = GoVersion.parse("1.27.3")


def _report(root: str) -> Report:
    site = Site(
        pos=SourcePos("codec/codec.go", 24, 11),
        package="example.com/m/codec",
        function="(*Encoder).Encode",
        construct="composite-literal",
        type=TypeInfo("codec.Record", 48, 40),
        count=None,
        diagnostic=None,
        call=None,
        prediction=model.predict(48, True, model.rules_for(VERSION)),
        expr="&Record{...}",
        fingerprint="0123456789abcdef",
    )
    toolchain = GoToolchain("/usr/bin/go", VERSION, "linux", "amd64")
    return Report("0.1.0", toolchain, ("example.com/m/codec",), (site,), root=root)


def _result(root: str) -> CheckResult:
    report = _report(root)
    site = report.sites[0]
    findings = (
        Finding("EL001", "new heap allocation: 50%, a,b\nsecond line", site.pos, "F", site),
        Finding("EL005", "//escape-lens:allow accepts nothing", SourcePos("codec/codec.go", 3, 2)),
        Finding("EL007", "heap allocation gone", SourcePos("codec/codec.go", 9)),
    )
    return CheckResult(report, findings, hot_sites=1, baseline="b.json", notes=("a note",))


def _render(name: str, result: CheckResult) -> str:
    out = io.StringIO()
    check_reporter(name).render_check(result, out)
    return out.getvalue()


def test_github_escaping_rules() -> None:
    assert escape_data("50% a:b,c\r\nx") == "50%25 a:b,c%0D%0Ax"
    assert escape_property("dir/a:b,c%.go") == "dir/a%3Ab%2Cc%25.go"


def test_github_commands(tmp_path: Path) -> None:
    lines = _render("github", _result(str(tmp_path))).splitlines()
    # One command per finding, in the result's order, then the notes.
    assert lines == [
        "::error file=codec/codec.go,line=24,col=11,title=EL001 new-allocation::"
        "new heap allocation: 50%25, a,b%0Asecond line",
        "::warning file=codec/codec.go,line=3,col=2,title=EL005 unused-suppression::"
        "//escape-lens:allow accepts nothing",
        "::notice file=codec/codec.go,line=9,title=EL007 improvement::heap allocation gone",
        "::notice::a note",
    ]


def test_paths_are_relative_to_the_repository(tmp_path: Path) -> None:
    module = tmp_path / "repo" / "svc"
    module.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    report = _report(str(module))
    assert repository_path(report, "codec/codec.go") == "svc/codec/codec.go"
    lines = _render("github", CheckResult(report, _result(str(module)).findings, 1))
    assert "file=svc/codec/codec.go,line=24" in lines


def test_text_and_exit_code(tmp_path: Path) -> None:
    result = _result(str(tmp_path))
    text = _render("text", result)
    assert "codec/codec.go:24:11: error: EL001 new heap allocation" in text
    *_, next_step, next_unused, verdict = text.splitlines()
    assert verdict == (
        "escape-lens check: FAIL: 1 hot-path heap site checked against b.json; "
        "1 error, 1 warning, 1 improvement"
    )
    # A failing site finding says how to act on it.
    assert next_step.startswith("next: remove the allocation, or accept it: ")
    assert "`escape-lens baseline`" in next_step
    assert "`//escape-lens:allow <reason>`" in next_step
    assert next_unused == "next (EL005): remove the directive"
    improvements_only = CheckResult(result.report, result.findings[2:], 0)
    assert "next:" not in _render("text", improvements_only)
    assert _render("text", improvements_only).endswith(
        "0 hot-path heap sites checked without a baseline; 0 errors, 0 warnings, 1 improvement\n"
    )
    assert result.exit_code == 1
    warnings_only = CheckResult(result.report, result.findings[1:], 1)
    assert warnings_only.exit_code == 0


def test_json(tmp_path: Path) -> None:
    data = json.loads(_render("json", _result(str(tmp_path))))
    assert data["schema"] == "escape-lens-check/1"
    assert data["passed"] is False
    assert [f["rule"] for f in data["findings"]] == ["EL001", "EL005", "EL007"]
    first = data["findings"][0]
    assert first["name"] == RULES["EL001"].name
    assert first["fingerprint"] == "0123456789abcdef"
    assert first["site"]["expr"] == "&Record{...}"
    assert data["findings"][1]["site"] is None


def test_rule_ids_are_stable() -> None:
    assert [(r.id, r.name, r.level) for r in RULES.values()] == [
        ("EL000", "heap-allocation", "note"),
        ("EL001", "new-allocation", "error"),
        ("EL002", "grown-allocation", "error"),
        ("EL003", "budget-exceeded", "error"),
        ("EL004", "forbidden-path", "error"),
        ("EL005", "unused-suppression", "warning"),
        ("EL006", "suppression-without-reason", "error"),
        ("EL007", "improvement", "note"),
        ("EL008", "vanished-function", "error"),
        ("EL009", "unmatched-pattern", "error"),
    ]


def test_pre_commit_hook_runs_the_check_command() -> None:
    from escape_lens.cli import COMMANDS
    from tests.conftest import REPO

    text = (REPO / ".pre-commit-hooks.yaml").read_text()
    entries = [line.split(":", 1)[1].strip() for line in text.splitlines() if "entry:" in line]
    assert entries == ["escape-lens check"]
    assert entries[0].split()[1] in COMMANDS
    # pass_filenames must stay false: check takes packages, not the staged files.
    assert "pass_filenames: false" in text
