"""`-o FILE` never destroys what the user owns (issue 13).

Refused, with one line and exit 2, and the file untouched: an input of the run, a Go
source or module file (directly or through a symbolic link), a file the user may not
write, a FIFO nobody reads. A symbolic link to an ordinary file is written through.
"""

from __future__ import annotations

import contextlib
import os
import pty
import shutil
import stat
import tempfile
import threading
from pathlib import Path

import pytest

from tests.integration.hostile_support import (
    Outcome,
    Sandbox,
    run_as_nobody,
    snapshot,
)

pytestmark = pytest.mark.slow

GO_FILE = "refusing to write over {}: a Go source or module file"
INPUT = "refusing to write over {}: it is an input of this run"


@pytest.mark.parametrize(
    ("args", "output"),
    [
        (("analyze", "codec/codec.go"), "codec/codec.go"),
        (("analyze", "./codec"), "codec/extra.go"),  # not an input, still Go's
        (("baseline",), "go.mod"),
        (("baseline",), "go.sum"),
        (("check",), "go.work"),
        (("analyze", "./codec", "--format", "json"), "go.work.sum"),
    ],
)
def test_go_and_module_files_are_refused(
    sandbox: Sandbox, args: tuple[str, ...], output: str
) -> None:
    for name in ("go.sum", "go.work", "go.work.sum", "codec/extra.go"):
        (sandbox.module / name).write_text("// the user's\n")
    before = snapshot(sandbox.module)
    outcome = sandbox.run(*args, "-o", output)
    outcome.assert_error(2, GO_FILE.format(output))
    assert snapshot(sandbox.module) == before
    sandbox.assert_clean()


def test_a_link_to_a_go_file_is_refused(sandbox: Sandbox) -> None:
    (sandbox.module / "notes.txt").symlink_to("codec/codec.go")
    before = snapshot(sandbox.module)
    outcome = sandbox.run("analyze", "./codec", "-o", "notes.txt")
    outcome.assert_error(2, GO_FILE.format("notes.txt"))
    assert snapshot(sandbox.module) == before


def test_the_inputs_of_diff_and_check_are_refused(sandbox: Sandbox, report: Path) -> None:
    copy = sandbox.root / "copy.json"
    copy.write_bytes(report.read_bytes())
    before = snapshot(sandbox.root / "checkmod"), report.read_bytes()
    outcome = sandbox.run("diff", str(report), str(copy), "-o", str(report))
    outcome.assert_error(2, INPUT.format(report))
    link = sandbox.root / "link.json"
    link.symlink_to(copy)
    outcome = sandbox.run("diff", str(report), str(copy), "-o", str(link))
    outcome.assert_error(2, INPUT.format(link))
    baseline = sandbox.module / "escape-lens.baseline.json"
    baseline.write_bytes(report.read_bytes())
    before = snapshot(sandbox.module), report.read_bytes()
    outcome = sandbox.run("check", "--format", "json", "-o", "escape-lens.baseline.json")
    outcome.assert_error(2, INPUT.format("escape-lens.baseline.json"))
    outcome = sandbox.run("check", "--format", "sarif", "-o", "escape-lens.toml")
    outcome.assert_error(2, INPUT.format("escape-lens.toml"))
    assert (snapshot(sandbox.module), report.read_bytes()) == before
    sandbox.assert_clean()


def test_a_link_to_an_ordinary_file_is_written_through(sandbox: Sandbox, report: Path) -> None:
    target = sandbox.root / "reports" / "diff.txt"
    target.parent.mkdir()
    target.write_text("old\n")
    target.chmod(0o640)
    link = sandbox.module / "diff.txt"
    link.symlink_to(target)
    outcome = sandbox.run("diff", str(report), str(report), "-o", "diff.txt")
    assert outcome.returncode == 0, outcome.stderr
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert (
        target.read_text() == "escape-lens diff: 0 new, 0 grown, 0 removed, 0 shrunk, 5 unchanged\n"
    )
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["diff.txt"]
    sandbox.assert_clean()


def test_a_read_only_file_is_not_replaced(sandbox: Sandbox, report: Path) -> None:
    """0444 means "do not write": an unprivileged user gets an error and the file stays
    (root may write anything, as with any program, so the run drops root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to the user nobody")
    shared = Path(tempfile.mkdtemp(prefix="escape-lens-shared-"))
    try:
        shared.chmod(0o777)
        readable = shared / "report.json"
        readable.write_bytes(report.read_bytes())
        readable.chmod(0o444)
        locked = shared / "summary.txt"
        locked.write_text("keep me\n")
        locked.chmod(0o444)
        err = sandbox.root / "stderr"
        code = run_as_nobody(["diff", str(readable), str(readable), "-o", str(locked)], shared, err)
        assert err.read_text() == f"escape-lens: error: cannot write {locked}: permission denied\n"
        assert code == 2
        assert locked.read_text() == "keep me\n"
        assert sorted(p.name for p in shared.iterdir()) == ["report.json", "summary.txt"]
        # The same file made writable is written (the refusal was the permission's).
        locked.chmod(0o666)
        code = run_as_nobody(["diff", str(readable), str(readable), "-o", str(locked)], shared, err)
        assert code == 0, err.read_text()
        assert locked.read_text().startswith("escape-lens diff: 0 new")
        assert stat.S_IMODE(locked.stat().st_mode) == 0o666
    finally:
        shutil.rmtree(shared)


def test_a_fifo_nobody_reads_is_refused_at_once(sandbox: Sandbox, report: Path) -> None:
    fifo = sandbox.root / "pipe"
    os.mkfifo(fifo)
    outcome = sandbox.run("diff", str(report), str(report), "-o", str(fifo), timeout=60)
    outcome.assert_error(2, f"cannot write {fifo}: a FIFO that nothing reads")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_directory_is_refused(sandbox: Sandbox, report: Path) -> None:
    outcome = sandbox.run("diff", str(report), str(report), "-o", str(sandbox.root))
    outcome.assert_error(2, f"cannot write {sandbox.root}: Is a directory")


def _on_a_terminal(sandbox: Sandbox, *args: str) -> tuple[Outcome, bytes]:
    """escape-lens with stdout a pseudo-terminal; what it wrote there, drained as it
    comes (a page of HTML would otherwise fill the terminal's buffer and block)."""
    leader, follower = pty.openpty()
    seen: list[bytes] = []

    def drain() -> None:
        with contextlib.suppress(OSError):  # EIO once every follower is closed
            while chunk := os.read(leader, 65536):
                seen.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        outcome = sandbox.run(*args, stdout=follower, timeout=300)
    finally:
        os.close(follower)
        reader.join(timeout=10)
        os.close(leader)
    return outcome, b"".join(seen)


def test_html_on_a_terminal_is_written_to_a_new_file_never_over_one(sandbox: Sandbox) -> None:
    page = sandbox.module / "escape-lens-report.html"
    outcome, terminal = _on_a_terminal(sandbox, "analyze", "./codec", "--format", "html")
    assert outcome.returncode == 0, outcome.stderr
    assert terminal == b""
    assert page.read_text().startswith("<!doctype html>")
    assert outcome.stderr.splitlines()[-1] == (
        f"escape-lens: wrote the HTML report to {page} "
        "(stdout is a terminal; -o FILE names another file)"
    )
    page.write_text("the user's own page\n")
    outcome, terminal = _on_a_terminal(sandbox, "analyze", "./codec", "--format", "html")
    outcome.assert_error(2, "escape-lens-report.html, which exists: pass -o FILE")
    assert page.read_text() == "the user's own page\n"
    # Not a terminal: the page goes to stdout as ever.
    piped = sandbox.run("analyze", "./codec", "--format", "html")
    assert piped.returncode == 0
    assert piped.stdout.startswith(b"<!doctype html>")
    sandbox.assert_clean()
