"""Files given as input are read only when they are regular files, and only up to what
their format allows (issue 13): a device, a FIFO without a writer, a directory, a file
too large or nested too deeply is one line and exit 2, at once, never a hang, an
out-of-memory kill or a traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from escape_lens.inputs import MAX_CONFIG_BYTES, MAX_REPORT_BYTES
from tests.integration.hostile_support import Sandbox

pytestmark = pytest.mark.slow

QUICK = 60  # seconds: every case here is refused before any real work


def _each_refused(sandbox: Sandbox, cases: dict[str, str], *command: str) -> None:
    """`command PATH` for each case's PATH: exit 2 with its message, nothing left behind."""
    for path, message in cases.items():
        outcome = sandbox.run(*command, path, timeout=QUICK)
        outcome.assert_error(2, message)
    sandbox.assert_clean()


def _fifo(sandbox: Sandbox) -> Path:
    fifo = sandbox.root / "fifo"
    os.mkfifo(fifo)
    return fifo


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as file:
        file.truncate(size)
    return path


def test_binary_mode_reads_only_a_regular_file(sandbox: Sandbox) -> None:
    fifo = _fifo(sandbox)
    big = _sparse(sandbox.root / "huge.bin", (1 << 32) + 1)
    cases = {
        "/dev/zero": "/dev/zero: is a character device, not a Go binary file",
        str(fifo): f"{fifo}: is a FIFO, not a Go binary file",
        str(sandbox.root): f"{sandbox.root}: is a directory, not a Go binary file",
        str(big): f"{big}: 4294967297 bytes, more than a Go binary can be (4294967296)",
    }
    _each_refused(sandbox, cases, "analyze", "--binary")


def test_diff_reads_only_regular_reports(sandbox: Sandbox, report: Path) -> None:
    fifo = _fifo(sandbox)
    big = _sparse(sandbox.root / "big.json", MAX_REPORT_BYTES + 1)
    cases = {
        "/dev/zero": "/dev/zero: is a character device, not a report file",
        str(fifo): f"{fifo}: is a FIFO, not a report file",
        str(big): f"{big}: {MAX_REPORT_BYTES + 1} bytes, more than a report can be",
    }
    for path, message in cases.items():
        for pair in ((path, str(report)), (str(report), path)):
            outcome = sandbox.run("diff", *pair, timeout=QUICK)
            outcome.assert_error(2, message)
    sandbox.assert_clean()


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_json_is_not_a_report(sandbox: Sandbox, report: Path, depth: int) -> None:
    nested = sandbox.root / "nested.json"
    nested.write_text("[" * depth + "]" * depth)
    outcome = sandbox.run("diff", str(nested), str(report), timeout=QUICK)
    outcome.assert_error(2, f"{nested}: not an escape-lens report")
    inside = sandbox.root / "inside.json"
    text = report.read_text()
    inside.write_text(text.replace('"sites": [', '"sites": [' + "[" * depth + "]" * depth + ",", 1))
    outcome = sandbox.run("diff", str(report), str(inside), timeout=QUICK)
    outcome.assert_error(2, f"{inside}:")
    outcome = sandbox.run("check", "--baseline", str(nested), timeout=QUICK)
    outcome.assert_error(2, f"{nested}: not an escape-lens report")
    sandbox.assert_clean()


def test_configuration_is_read_only_from_a_regular_file(sandbox: Sandbox) -> None:
    fifo = _fifo(sandbox)
    big = _sparse(sandbox.root / "big.toml", MAX_CONFIG_BYTES + 1)
    cases = {
        "/dev/zero": "/dev/zero: is a character device, not a configuration file",
        str(fifo): f"{fifo}: is a FIFO, not a configuration file",
        str(sandbox.root): f"{sandbox.root}: is a directory, not a configuration file",
        str(big): f"more than a configuration can be ({MAX_CONFIG_BYTES})",
    }
    _each_refused(sandbox, cases, "check", "--config")


def test_a_found_configuration_that_is_not_a_file_is_an_error(sandbox: Sandbox) -> None:
    """An escape-lens.toml that is a link to /dev/zero (or a FIFO) is the file meant to
    configure the run: an error, not silently the defaults (nothing hot, a pass)."""
    config = sandbox.module / "escape-lens.toml"
    config.unlink()
    config.symlink_to("/dev/zero")
    outcome = sandbox.run("check", timeout=QUICK)
    outcome.assert_error(2, "escape-lens.toml: is a character device, not a configuration file")
    config.unlink()
    os.mkfifo(config)
    outcome = sandbox.run("check", timeout=QUICK)
    outcome.assert_error(2, "escape-lens.toml: is a FIFO, not a configuration file")
    config.unlink()
    config.symlink_to("missing.toml")
    outcome = sandbox.run("check", timeout=QUICK)
    outcome.assert_error(2, "escape-lens.toml: cannot read configuration: No such file")
    sandbox.assert_clean()


def test_deeply_nested_toml_is_one_line(sandbox: Sandbox) -> None:
    config = sandbox.module / "escape-lens.toml"
    config.write_text("hot = " + "[" * 100_000 + "]" * 100_000 + "\n")
    outcome = sandbox.run("check", timeout=QUICK)
    outcome.assert_error(2, "escape-lens.toml: invalid TOML: nested too deeply")


def test_a_report_naming_devices_as_sources_does_not_hang_the_html_diff(
    sandbox: Sandbox, report: Path
) -> None:
    """The HTML diff shows source excerpts from the files a report names: a made-up
    report naming /dev/zero or a FIFO gets no excerpt, and the page is still written."""
    os.mkfifo(sandbox.root / "fifo.go")
    (sandbox.root / "zero.go").symlink_to("/dev/zero")
    data = json.loads(report.read_text())
    data["root"] = str(sandbox.root)
    data["sites"][0]["file"] = "zero.go"
    data["sites"][1]["file"] = "fifo.go"
    crafted = sandbox.root / "crafted.json"
    crafted.write_text(json.dumps(data))
    outcome = sandbox.run(
        "diff", str(report), str(crafted), "--format", "html", "-o", "diff.html", timeout=QUICK
    )
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stderr == ""
    assert (sandbox.module / "diff.html").read_text().startswith("<!doctype html>")
    sandbox.assert_clean()


def test_a_line_directive_naming_a_fifo_does_not_hang_the_join(sandbox: Sandbox) -> None:
    """A `//line` directive may name any path; the join reads a named file's line to tell
    two allocations of one line apart, and a FIFO there (go ignores testdata/) must be
    no source, not a hang."""
    module = sandbox.root / "linemod"
    (module / "testdata").mkdir(parents=True)
    (module / "go.mod").write_text("module example.com/linemod\n\ngo 1.22\n")
    (module / "c.go").write_text(
        'package c\n\nimport (\n\t"bytes"\n\t"strings"\n)\n\nvar A, B any\n\n'
        "func F() {\n//line testdata/x.go:3:1\n"
        "\tA, B = &bytes.Buffer{}, &strings.Builder{}\n}\n"
    )
    os.mkfifo(module / "testdata" / "x.go")
    outcome = sandbox.run("analyze", ".", "--format", "json", cwd=module, timeout=120)
    assert outcome.returncode == 0, outcome.stderr
    files = {site["file"] for site in json.loads(outcome.stdout)["sites"]}
    assert files == {"testdata/x.go"}, files
