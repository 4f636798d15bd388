"""The gate never passes silently (issue 13), end to end with the real compiler.

A hot function whose allocations are in the baseline and which is no longer in the
build fails the gate (EL008) until the baseline is made again; a named baseline that
is missing, and a baseline that cannot be read, are exit 2; a pattern that matches
nothing fails the gate (EL009) unless configured to warn; packages that do not compile
are visible in every output format; `baseline` says when nothing is hot.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import REPO
from tests.integration.hostile_support import Sandbox, make_sandbox, snapshot

pytestmark = pytest.mark.slow

CODEC = "codec/codec.go"
BASELINE = "escape-lens.baseline.json"
ENCODE = "example.com/checkmod/codec.(*Encoder).Encode"


@pytest.fixture(scope="module")
def baseline_text(tmp_path_factory: pytest.TempPathFactory, pinned_go: Path) -> str:
    sandbox = make_sandbox(tmp_path_factory.mktemp("gate-baseline"), pinned_go)
    outcome = sandbox.run("baseline")
    assert outcome.returncode == 0, outcome.stderr
    return (sandbox.module / BASELINE).read_text()


@pytest.fixture
def sandbox(tmp_path: Path, pinned_go: Path, baseline_text: str) -> Sandbox:
    sandbox = make_sandbox(tmp_path, pinned_go)
    (sandbox.module / BASELINE).write_text(baseline_text)
    return sandbox


def _lines(outcome_stdout: bytes, rule: str) -> list[str]:
    return [line for line in outcome_stdout.decode().splitlines() if f" {rule} " in line]


def _exclude_codec_go(sandbox: Sandbox) -> None:
    """codec.go (Encode and the rest) out of the build; the package stays, by another file."""
    source = sandbox.module / CODEC
    source.write_text("//go:build ignore\n\n" + source.read_text())
    (sandbox.module / "codec" / "doc.go").write_text("// Package codec.\npackage codec\n")


def test_a_hot_function_excluded_by_a_build_constraint_fails(sandbox: Sandbox) -> None:
    _exclude_codec_go(sandbox)
    outcome = sandbox.run("check")
    assert outcome.returncode == 1, outcome.stderr
    [vanished] = _lines(outcome.stdout, "EL008")
    assert vanished.startswith(f"{CODEC}:")
    assert f"error: EL008 hot function {ENCODE} is no longer declared in" in vanished
    assert "2 baseline heap sites no longer checked" in vanished
    assert _lines(outcome.stdout, "EL007") == []  # not "improvements"
    # The patterns name only functions of the excluded file: they match nothing now.
    assert len(_lines(outcome.stdout, "EL009")) == 2
    # Each kind of finding ends with what to do about it, just before the verdict.
    *_, el008_next, el009_next, verdict = outcome.stdout.decode().splitlines()
    assert el008_next.startswith("next (EL008): ")
    assert "`escape-lens baseline`" in el008_next
    assert el009_next.startswith("next (EL009): correct the pattern")
    assert verdict.startswith("escape-lens check: FAIL")
    sandbox.assert_clean()


def test_a_hot_package_moved_away_fails(sandbox: Sandbox) -> None:
    shutil.move(sandbox.module / "codec", sandbox.module / "wire")
    outcome = sandbox.run("check")
    assert outcome.returncode == 1, outcome.stderr
    [vanished] = _lines(outcome.stdout, "EL008")
    assert "package example.com/checkmod/codec is not" in vanished


def test_a_renamed_function_fails_until_the_baseline_is_made_again(sandbox: Sandbox) -> None:
    source = sandbox.module / CODEC
    source.write_text(source.read_text().replace("Encode(", "EncodeTo("))
    outcome = sandbox.run("check")
    assert outcome.returncode == 1, outcome.stderr
    assert len(_lines(outcome.stdout, "EL008")) == 1
    # (*Encoder).* still guards the renamed method: its two sites are new.
    assert len(_lines(outcome.stdout, "EL001")) == 2
    # The budget still names Encode: a pattern that guards nothing now.
    [unmatched] = _lines(outcome.stdout, "EL009")
    assert f"budget pattern '{ENCODE}'" in unmatched
    config = sandbox.module / "escape-lens.toml"
    config.write_text(config.read_text().replace('Encode"', 'EncodeTo"'))
    made = sandbox.run("baseline")
    assert made.returncode == 0, made.stderr
    again = sandbox.run("check")
    assert again.returncode == 0, again.stdout.decode() + again.stderr
    sandbox.assert_clean()


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_every_format_carries_the_vanished_function(sandbox: Sandbox, output_format: str) -> None:
    _exclude_codec_go(sandbox)
    outcome = sandbox.run("check", "--format", output_format)
    assert outcome.returncode == 1, outcome.stderr
    text = outcome.stdout.decode()
    if output_format == "json":
        rules = [f["rule"] for f in json.loads(text)["findings"]]
        assert rules.count("EL008") == 1
        assert rules.count("EL009") == 2
    elif output_format == "sarif":
        log = json.loads(text)
        schema = json.loads((REPO / "tests/data/sarif-schema-2.1.0.json").read_text())
        jsonschema.validate(log, schema)
        results = log["runs"][0]["results"]
        assert [r["ruleId"] for r in results].count("EL008") == 1
        unmatched = [r for r in results if r["ruleId"] == "EL009"]
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in unmatched}
        assert uris == {"escape-lens.toml"}
        assert {r["level"] for r in unmatched} == {"error"}
    elif output_format == "github":
        assert text.count("title=EL008 vanished-function::") == 1
        assert text.count("::error file=escape-lens.toml,line=") == 2
    else:
        assert len(_lines(outcome.stdout, "EL008")) == 1


def test_unmatched_patterns_can_be_warnings(sandbox: Sandbox) -> None:
    config = sandbox.module / "escape-lens.toml"
    config.write_text(
        'unmatched-patterns = "warning"\n'
        + config.read_text().replace('hot = ["', 'hot = ["example.com/checkmod/codec.Nope", "')
    )
    outcome = sandbox.run("check", "--format", "github")
    assert outcome.returncode == 0, outcome.stderr
    assert (
        "::warning file=escape-lens.toml,line=3,title=EL009 unmatched-pattern::hot pattern "
        "'example.com/checkmod/codec.Nope' matches no function of the checked packages"
    ) in outcome.stdout.decode()
    config.write_text(config.read_text().replace('"warning"', '"silent"'))
    bad = sandbox.run("check")
    bad.assert_error(2, "escape-lens.toml:1: unmatched-patterns: must be one of 'error', 'warning'")


def test_a_named_baseline_that_is_missing_is_an_error(sandbox: Sandbox) -> None:
    config = sandbox.module / "escape-lens.toml"
    config.write_text('baseline = "escape-lens.baselin.json"\n' + config.read_text())
    before = snapshot(sandbox.module)
    outcome = sandbox.run("check")
    outcome.assert_error(
        2,
        "escape-lens.baselin.json: no such baseline file (named by `baseline` in "
        "escape-lens.toml; run `escape-lens baseline` to make it)",
    )
    assert snapshot(sandbox.module) == before
    outcome = sandbox.run("check", "--baseline", "nope.json")
    outcome.assert_error(2, "nope.json: no such baseline file")
    sandbox.assert_clean()


def test_the_default_baseline_may_be_missing(sandbox: Sandbox) -> None:
    (sandbox.module / BASELINE).unlink()
    outcome = sandbox.run("check")
    assert outcome.returncode == 0, outcome.stderr
    assert b"note: no baseline: only budgets were checked" in outcome.stdout


@pytest.mark.parametrize("kind", ["directory", "dev-zero", "fifo", "too-big", "not-json"])
@pytest.mark.parametrize("named", [True, False])
def test_a_baseline_that_cannot_be_read_is_an_error(
    sandbox: Sandbox, kind: str, named: bool
) -> None:
    name = "allocs.json" if named else BASELINE
    if named:
        config = sandbox.module / "escape-lens.toml"
        config.write_text(f'baseline = "{name}"\n' + config.read_text())
    path = sandbox.module / name
    path.unlink(missing_ok=True)
    if kind == "directory":
        path.mkdir()
        expected = f"{name}: is a directory, not a baseline file"
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
        expected = f"{name}: is a character device, not a baseline file"
    elif kind == "fifo":
        os.mkfifo(path)
        expected = f"{name}: is a FIFO, not a baseline file"
    elif kind == "too-big":
        with path.open("wb") as file:
            file.truncate((1 << 30) + 1)
        expected = f"{name}: 1073741825 bytes, more than a baseline can be"
    else:
        path.write_text("{not json")
        expected = f"{name}: not JSON"
    outcome = sandbox.run("check", timeout=120)
    outcome.assert_error(2, expected)
    sandbox.assert_clean()


def test_packages_that_do_not_compile_are_in_every_analyze_format(sandbox: Sandbox) -> None:
    broken = sandbox.module / "broken"
    broken.mkdir()
    (broken / "broken.go").write_text("package broken\n\nfunc F() { undefinedName() }\n")
    reason = "example.com/checkmod/broken was not analysed: broken/broken.go:3:12: undefined"
    for output_format in ("text", "json", "sarif", "github"):
        outcome = sandbox.run("analyze", "./...", "--format", output_format)
        assert outcome.returncode == 0, outcome.stderr
        assert "skipped example.com/checkmod/broken" in outcome.stderr
        text = outcome.stdout.decode()
        if output_format == "text":
            assert "1 package skipped: example.com/checkmod/broken" in text
        elif output_format == "json":
            [skipped] = json.loads(text)["skipped"]
            assert skipped["package"] == "example.com/checkmod/broken"
        elif output_format == "sarif":
            log = json.loads(text)
            [invocation] = log["runs"][0]["invocations"]
            [notification] = invocation["toolExecutionNotifications"]
            assert notification["level"] == "warning"
            assert notification["message"]["text"].startswith(reason)
            schema = json.loads((REPO / "tests/data/sarif-schema-2.1.0.json").read_text())
            jsonschema.validate(log, schema)
        else:
            [warning] = [line for line in text.splitlines() if line.startswith("::warning")]
            assert warning.startswith(
                "::warning title=skipped example.com/checkmod/broken::" + reason
            )
    # The gate does not judge a build with a broken package at all.
    outcome = sandbox.run("check", "./...")
    outcome.assert_compile_error(
        2,
        {"example.com/checkmod/broken": "undefined: undefinedName"},
        "example.com/checkmod/broken does not compile",
    )
    sandbox.assert_clean()


def test_baseline_says_when_nothing_is_hot(sandbox: Sandbox) -> None:
    (sandbox.module / "escape-lens.toml").write_text("# nothing configured\n")
    source = sandbox.module / CODEC
    marked = source.read_text()
    source.write_text(marked.replace("//escape-lens:hot", "// not marked"))
    outcome = sandbox.run("baseline")
    assert outcome.returncode == 0
    assert outcome.stderr == (
        "escape-lens baseline: nothing is hot, wrote an empty baseline to "
        "escape-lens.baseline.json: list patterns under `hot` in escape-lens.toml or mark "
        "functions //escape-lens:hot\n"
    )
    assert json.loads((sandbox.module / BASELINE).read_text())["sites"] == []
    source.write_text(marked)  # Checksum is marked hot, and does not allocate
    outcome = sandbox.run("baseline")
    assert outcome.returncode == 0
    assert outcome.stdout == (
        b"escape-lens baseline: the hot functions do not allocate, wrote an empty baseline "
        b"to escape-lens.baseline.json\n"
    )
    sandbox.assert_clean()
