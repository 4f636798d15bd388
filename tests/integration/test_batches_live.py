"""A live compile's listing parsed whole and in batches of small sizes gives the same
calls. A boxing's type word is read from the instructions after its call, which a
batch's end may cut off for several calls at once (encoding/binary's tests box
`BigEndian` and a slice in one statement: serial and parallel parsing, which cut the
output in other places, disagreed)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from escape_lens.parsers.gobuild import BuildParser
from escape_lens.parsers.positions import Positions
from escape_lens.records import GoToolchain, ListedPackage, PackageOutput


def test_boxings_close_together_survive_any_batch_cut(
    tmp_path: Path, pinned_toolchain: GoToolchain
) -> None:
    build = subprocess.run(
        [
            pinned_toolchain.path,
            "test",
            "-c",
            "-o",
            os.devnull,
            "-gcflags=encoding/binary=-m=2 -S",
            "encoding/binary",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = build.stderr.splitlines()
    assert lines[0] == "# encoding/binary [encoding/binary.test]", lines[:1]
    lines = lines[: next(i for i, line in enumerate(lines[1:], 1) if line.startswith("# "))]
    directory = os.path.join(pinned_toolchain.goroot, "src", "encoding", "binary")
    listed = ListedPackage("encoding/binary", directory, "binary", has_tests=True)

    def parsed(size: int) -> list[PackageOutput]:
        parser = BuildParser([listed], Positions(directory, directory), tests=True)
        for start in range(0, len(lines), size):
            parser.feed_all(lines[start : start + size])
        return parser.outputs()

    whole = parsed(len(lines))
    assert sum(1 for c in whole[0].calls if c.entry.startswith("convT")) > 20
    for size in (1, 3, 7):
        assert parsed(size) == whole, size
