"""The source lines the join orders a line's statements by (sites._SourceLines)."""

from __future__ import annotations

from pathlib import Path

from escape_lens.sites import _SourceLines


def test_a_file_of_another_package_is_not_read_from_this_one(tmp_path: Path) -> None:
    """std: crypto/ecdh compiles code of crypto/internal/fips140/ecdh (inlined, generic)
    whose positions name `crypto/internal/fips140/ecdh/ecdh.go`; crypto/ecdh has an
    ecdh.go of its own, whose lines say nothing of those positions."""
    package = tmp_path / "crypto" / "ecdh"
    package.mkdir(parents=True)
    (package / "ecdh.go").write_text("package ecdh\nvar own = 1\n", encoding="utf-8")
    lines = _SourceLines(str(package))
    assert lines("crypto/ecdh/ecdh.go", 2) == "var own = 1"
    assert lines("ecdh.go", 2) == "var own = 1"
    assert lines(str(package / "ecdh.go"), 2) == "var own = 1"
    assert lines("crypto/internal/fips140/ecdh/ecdh.go", 2) is None
    assert lines("xecdh/ecdh.go", 2) is None
    assert lines(str(tmp_path / "ecdh.go"), 2) is None
