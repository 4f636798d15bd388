"""Loading the captured compiler outputs of fixtures/captured/ (see capture.sh there)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from escape_lens.parsers.gobuild import BuildParser, ListedPackage
from escape_lens.parsers.positions import Positions
from escape_lens.records import PackageOutput

CAPTURED = Path(__file__).resolve().parents[2] / "fixtures" / "captured"
VERSIONS = ("go1.21.13", "go1.24.11", "go1.27.3")
# capture.sh builds in copies of fixtures/captured/src under this directory.
CAPTURE_DIR = "/tmp/escape-lens-capture"


def captured_lines(version: str, name: str) -> list[str]:
    """The output lines without the first line, which records version and command."""
    text = (CAPTURED / version / f"{name}.txt").read_text(encoding="utf-8")
    label, *lines = text.splitlines()
    assert label.startswith(f"# captured: {version};")
    return lines


KINDS = ListedPackage("command-line-arguments", f"{CAPTURE_DIR}/kinds", "main")
MOD = f"{CAPTURE_DIR}/mod"
# The captured build of mod also compiles `broken` (a type error) and `c` (imports it);
# compile errors come from go list's listing now (tests/unit/test_build_listing.py).
MOD_PACKAGES = (
    ListedPackage("example.com/m/a", f"{MOD}/a", "a"),
    ListedPackage("example.com/m/b", f"{MOD}/b", "b"),
)


@cache
def parse_kinds(version: str) -> PackageOutput:
    parser = BuildParser([KINDS], Positions(KINDS.dir, KINDS.dir))
    parser.feed_all(captured_lines(version, "kinds"))
    (output,) = parser.outputs()
    return output


@cache
def parse_mod(version: str) -> dict[str, PackageOutput]:
    parser = BuildParser(MOD_PACKAGES, Positions(MOD, MOD))
    parser.feed_all(captured_lines(version, "mod"))
    return {o.import_path: o for o in parser.outputs()}
