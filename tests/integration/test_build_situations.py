"""Builds as users run them, end to end with the real compiler: cgo, a symlinked module,
GOFLAGS=-cover/-race, --tags, --gcflags (and GOFLAGS' -gcflags), go.work, a directory
whose name is no import path inside `./...`, file targets and an unsupported GOARCH.

Each situation is compared with the plain build of the same code: the report's sites
and `check`'s decision (with a baseline of the unedited code, then with a new hot
allocation) must be the same.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.cli import main
from escape_lens.records import Report

pytestmark = pytest.mark.slow

HOT_GO = """package hot

type Point struct{ X, Y, Z int }

var sink *Point

//go:noinline
func Hot(n int) []int {
\tp := &Point{n, n, n}
\tsink = p
\treturn []int{1, 2, 3, n}
}
"""
NEW_ALLOC = ("\tsink = p\n", "\tsink = p\n\tsink = &Point{n, 1, 1}\n")
CONFIG = 'baseline = "escape-lens.baseline.json"\nhot = ["example.com/sit/hot.Hot"]\n'


def _module(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    (root / "go.mod").write_text("module example.com/sit\n\ngo 1.21\n")
    (root / "escape-lens.toml").write_text(CONFIG)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def enter_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[dict[str, str]], Path]:
    """Makes the module of `files` at tmp_path/mod, the working directory of the test."""

    def enter(files: dict[str, str]) -> Path:
        module = _module(tmp_path / "mod", files)
        monkeypatch.chdir(module)
        return module

    return enter


@pytest.fixture
def hot_module(enter_module: Callable[[dict[str, str]], Path]) -> Path:
    """The module of hot/hot.go alone, the working directory of the test."""
    return enter_module({"hot/hot.go": HOT_GO})


def _sites(report: Report) -> list[tuple[str, int, int, str, int]]:
    return [
        (s.pos.file, s.pos.line, s.pos.col, s.construct, s.class_bytes)
        for s in report.sites
        if s.allocates
    ]


def _check(capsys: pytest.CaptureFixture[str], go: Path, *args: str) -> tuple[int, list[str]]:
    code = main(["check", *args, "--go", str(go)])
    out = capsys.readouterr().out
    return code, sorted(line.split(": ", 1)[1] for line in out.splitlines() if " EL0" in line)


def _decisions(
    capsys: pytest.CaptureFixture[str],
    go: Path,
    module: Path,
    source: str,
    *args: str,
) -> list[tuple[int, list[str]]]:
    """check's decision on the unedited code (against a baseline of the plain build
    made here), then with a new hot allocation in `source`."""
    assert main(["baseline", str(module / "..."), "--go", str(go)]) == 0
    capsys.readouterr()
    before = _check(capsys, go, *args)
    path = module / source
    text = path.read_text()
    path.write_text(text.replace(*NEW_ALLOC))
    try:
        after = _check(capsys, go, *args)
    finally:
        path.write_text(text)
    return [before, after]


def _has_cc() -> str:
    """Why cgo cannot be tested here, or ""."""
    if shutil.which(os.environ.get("CC", "cc")) is None and shutil.which("gcc") is None:
        return "no C compiler (cc, gcc) on PATH"
    return ""


# --------------------------------------------------------------------------- cgo


CGO_GO = HOT_GO.replace(
    "type Point",
    '// static int twice(int n) { return 2 * n; }\nimport "C"\n\ntype Point',
).replace("p := &Point{n, n, n}", "p := &Point{n, int(C.twice(C.int(n))), n}")


def test_cgo_file_sites_are_joined_and_gated(
    tmp_path: Path,
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if reason := _has_cc():
        pytest.skip(reason)
    monkeypatch.setenv("CGO_ENABLED", "1")
    cgo = _module(tmp_path / "cgo", {"hot/hot.go": CGO_GO})
    plain = _module(tmp_path / "plain", {"hot/hot.go": HOT_GO})
    report = analyze_targets(["./..."], go=str(pinned_go), cwd=str(cgo))
    hot = [s for s in report.sites if s.function == "Hot"]
    # The listing's `hot.go:9[hot.cgo1.go:12]` positions are the user's lines.
    assert [(s.pos.line, s.allocates, s.class_bytes) for s in hot] == [
        (12, True, 24),
        (14, True, 32),
    ]
    assert all(s.call is not None and s.call.type is not None for s in hot)
    plain_hot = analyze_targets(["./..."], go=str(pinned_go), cwd=str(plain))
    assert [s.class_bytes for s in hot] == [s.class_bytes for s in plain_hot.sites]
    monkeypatch.chdir(cgo)
    decisions = _decisions(capsys, pinned_go, cgo, "hot/hot.go")
    assert decisions[0][0] == 0
    assert decisions[1][0] == 1
    assert any("EL001" in f for f in decisions[1][1])


def test_cgo_cross_check_agrees(
    tmp_path: Path, pinned_go: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if reason := _has_cc():
        pytest.skip(reason)
    main_go = CGO_GO.replace("package hot", "package main") + "\nfunc main() { Hot(3) }\n"
    module = _module(tmp_path / "cgomain", {"main.go": main_go})
    code = main(["analyze", str(module), "--cross-check", "--go", str(pinned_go)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "source and binary agree" in err


# --------------------------------------------------------------------------- symlinks


def test_symlinked_module_gives_the_same_report_and_decision(
    tmp_path: Path,
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = _module(tmp_path / "real" / "mod", {"hot/hot.go": HOT_GO})
    link = tmp_path / "modlink"
    link.symlink_to(module)
    plain = analyze_targets(["./hot"], go=str(pinned_go), cwd=str(module))
    assert len(_sites(plain)) == 2
    monkeypatch.chdir(link)
    monkeypatch.setenv("PWD", str(link))  # as a shell that `cd modlink` sets it
    through_link = analyze_targets(["./hot"], go=str(pinned_go))
    monkeypatch.chdir(tmp_path)
    by_path = analyze_targets(["modlink/hot"], go=str(pinned_go))
    for report in (through_link, by_path):
        assert report.sites == plain.sites
        assert report.root == plain.root == str(module.resolve())
    monkeypatch.chdir(module)
    plain_decisions = _decisions(capsys, pinned_go, module, "hot/hot.go")
    monkeypatch.chdir(link)
    link_decisions = _decisions(capsys, pinned_go, link, "hot/hot.go", "./...")
    assert link_decisions == plain_decisions
    assert [code for code, _ in plain_decisions] == [0, 1]


def test_a_goroot_reached_through_a_symlink_names_its_own_files(
    tmp_path: Path, pinned_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GOROOT reached through a symbolic link (a `.venv` linked to the one go lives
    in) names the standard library's files by the link; the go cache replays those
    names to a run of the real GOROOT. A site's file is the one below the report root
    either way (std was counted twice before: escape lines by the link's name, calls by
    the real one's, never joined)."""
    goroot = Path(pinned_go).resolve().parent.parent
    link = tmp_path / "goinst"
    link.symlink_to(goroot)
    monkeypatch.setenv("ESCAPE_LENS_RESULT_CACHE", "off")
    monkeypatch.setenv("GOCACHE", str(tmp_path / "plain-cache"))
    plain = analyze_targets(["sort"], go=str(pinned_go), cwd=str(tmp_path))
    monkeypatch.setenv("GOCACHE", str(tmp_path / "shared-cache"))
    monkeypatch.setenv("GOROOT", str(link))  # the compiles name the files by the link
    by_link = analyze_targets(["sort"], go=str(link / "bin" / "go"), cwd=str(tmp_path))
    monkeypatch.delenv("GOROOT")
    replayed = analyze_targets(["sort"], go=str(pinned_go), cwd=str(tmp_path))
    assert plain.sites
    for report in (by_link, replayed):
        assert not [s.pos.file for s in report.sites if os.path.isabs(s.pos.file)]
        assert report.sites == plain.sites


# --------------------------------------------------------------------------- GOFLAGS


@pytest.mark.parametrize(
    "goflags", ["-cover", "-covermode=atomic -coverpkg=./...", "-race", "-msan", "-asan"]
)
def test_goflags_that_instrument_give_the_plain_sites(
    enter_module: Callable[[dict[str, str]], Path],
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    goflags: str,
) -> None:
    # One line holding several statements: coverage counters shift its columns.
    source = HOT_GO.replace("\tsink = p\n\treturn", "\tsink = p; if n > 0 { n++ }; return")
    module = enter_module({"hot/hot.go": source})
    plain = analyze_targets(["./..."], go=str(pinned_go))
    plain_decisions = _decisions(capsys, pinned_go, module, "hot/hot.go")
    monkeypatch.setenv("GOFLAGS", goflags)
    flagged = analyze_targets(["./..."], go=str(pinned_go))
    assert _sites(flagged) == _sites(plain)
    assert len(_sites(plain)) == 2
    if "cover" in goflags:
        assert flagged.build.ignored == tuple(goflags.split())
        # --cross-check's binary is built without them too.
        capsys.readouterr()
        assert main(["analyze", "./...", "--cross-check", "--go", str(pinned_go)]) == 0
        assert "source and binary agree" in capsys.readouterr().err
    else:  # instrumented, and shown: checks of memory accesses allocate nothing
        assert flagged.build.goflags == (goflags,)
    assert _decisions(capsys, pinned_go, module, "hot/hot.go") == plain_decisions


# --------------------------------------------------------------------------- tags, gcflags

TAGGED_GO = """//go:build fancy

package hot

func Fancy() *[64]byte { return new([64]byte) }
"""


def test_tags_select_files_and_are_shown(
    enter_module: Callable[[dict[str, str]], Path],
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = enter_module({"hot/hot.go": HOT_GO, "hot/fancy.go": TAGGED_GO})
    plain = analyze_targets(["./..."], go=str(pinned_go))
    tagged = analyze_targets(["./..."], go=str(pinned_go), tags=("fancy",))
    assert [s.function for s in plain.sites] == ["Hot", "Hot"]
    assert sorted(s.function for s in tagged.sites) == ["Fancy", "Hot", "Hot"]
    assert tagged.build.tags == ("fancy",)
    monkeypatch.setenv("GOFLAGS", "-tags=fancy")
    from_goflags = analyze_targets(["./..."], go=str(pinned_go))
    assert from_goflags.sites == tagged.sites
    assert from_goflags.build.tags == ("fancy",)
    monkeypatch.delenv("GOFLAGS")
    assert main(["analyze", "./...", "--tags", "fancy", "--go", str(pinned_go)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[1] == "build: tags=fancy"
    assert (
        main(["analyze", "./...", "--tags", "fancy", "--format", "json", "--go", str(pinned_go)])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "escape-lens/1"
    assert data["build"] == {"tags": ["fancy"], "gcflags": [], "goflags": [], "ignored": []}
    assert _decisions(capsys, pinned_go, module, "hot/hot.go", "--tags", "fancy")[1][0] == 1


def test_a_directive_in_a_tagged_file_counts_under_those_tags(
    enter_module: Callable[[dict[str, str]], Path],
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """check reads directives from the files the build compiled: under --tags, the
    tagged file's //escape-lens:allow is seen."""
    quiet = TAGGED_GO.replace("*[64]byte { return new([64]byte) }", "int { return 1 }")
    module = enter_module({"hot/hot.go": HOT_GO, "hot/fancy.go": quiet})
    (module / "escape-lens.toml").write_text(
        CONFIG.replace('"]', '", "example.com/sit/hot.Fancy"]')
    )
    assert main(["baseline", "--tags", "fancy", "--go", str(pinned_go)]) == 0
    capsys.readouterr()
    allowed = TAGGED_GO.replace("}\n", "} //escape-lens:allow tagged builds only\n")
    (module / "hot" / "fancy.go").write_text(allowed)
    assert _check(capsys, pinned_go, "--tags", "fancy") == (0, [])
    (module / "hot" / "fancy.go").write_text(TAGGED_GO)  # without the directive: a finding
    code, findings = _check(capsys, pinned_go, "--tags", "fancy")
    assert code == 1
    assert findings


INLINED_GO = """package hot

type Sizer interface{ Size() int }

type P struct{ a [4]int }

func (p *P) Size() int { return p.a[0] }

func measure(s Sizer) int { return s.Size() }

func Hot(n int) int {
\tp := &P{}
\tp.a[0] = n
\treturn measure(p)
}
"""


@pytest.mark.parametrize(
    ("option", "goflags"),
    [(("--gcflags", "-l"), ""), ((), "-gcflags=-l"), ((), "-gcflags=all=-l")],
)
def test_gcflags_reach_the_targets(
    enter_module: Callable[[dict[str, str]], Path],
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    option: tuple[str, ...],
    goflags: str,
) -> None:
    module = enter_module({"hot/hot.go": INLINED_GO})
    inlined = analyze_targets(["./..."], go=str(pinned_go))
    # measure inlined into Hot devirtualises s.Size(): &P{} does not escape.
    assert not _sites(inlined)
    if goflags:
        monkeypatch.setenv("GOFLAGS", goflags)
    gcflags = option[1:] if option else ()
    not_inlined = analyze_targets(["./..."], go=str(pinned_go), gcflags=gcflags)
    assert [(s.function, s.construct) for s in not_inlined.sites if s.allocates] == [
        ("Hot", "composite-literal")
    ]
    assert not_inlined.build.gcflags == ("-l",)
    assert (
        main(
            [
                "analyze",
                "./...",
                *option,
                "--format",
                "html",
                "-o",
                "r.html",
                "--go",
                str(pinned_go),
            ]
        )
        == 0
    )
    assert '"gcflags":["-l"]' in (module / "r.html").read_text().replace(" ", "")
    # The binary of --cross-check is built with the same flags for the targets.
    capsys.readouterr()
    assert main(["analyze", "./...", *option, "--cross-check", "--go", str(pinned_go)]) == 0
    assert "source and binary agree" in capsys.readouterr().err


def test_goflags_gcflags_with_another_pattern_is_refused(
    hot_module: Path,
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOFLAGS", "-gcflags=example.com/sit/hot=-l")
    assert main(["analyze", "./...", "--go", str(pinned_go)]) == 2
    assert "give the flags with --gcflags" in capsys.readouterr().err


# --------------------------------------------------------------------------- go.work


def test_workspace_root_and_relative_files(
    tmp_path: Path,
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workspace = tmp_path / "ws"
    _module(workspace / "a", {"hot/hot.go": HOT_GO})
    other = workspace / "b"
    other.mkdir()
    (other / "go.mod").write_text("module example.com/b\n\ngo 1.21\n")
    (other / "b.go").write_text("package b\n\nfunc New() *[8]int { return new([8]int) }\n")
    (workspace / "go.work").write_text("go 1.21\n\nuse (\n\t./a\n\t./b\n)\n")
    monkeypatch.chdir(workspace)
    report = analyze_targets(["./a/...", "./b/..."], go=str(pinned_go))
    assert report.root == str(workspace.resolve())
    assert sorted({s.pos.file for s in report.sites}) == ["a/hot/hot.go", "b/b.go"]
    assert main(["analyze", "./a/...", "./b/...", "--format", "sarif", "--go", str(pinned_go)]) == 0
    sarif = json.loads(capsys.readouterr().out)
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
        for loc in result["locations"]
    }
    assert uris == {"a/hot/hot.go", "b/b.go"}
    monkeypatch.chdir(workspace / "a")
    from_module = analyze_targets(["./..."], go=str(pinned_go))
    assert from_module.root == report.root
    assert _sites(from_module) == [s for s in _sites(report) if s[0].startswith("a/")]
    # check decides in the workspace as on the module alone (GOWORK=off), whose
    # baseline it is given.
    monkeypatch.setenv("GOWORK", "off")
    plain_decisions = _decisions(capsys, pinned_go, workspace / "a", "hot/hot.go")
    assert [code for code, _ in plain_decisions] == [0, 1]
    monkeypatch.delenv("GOWORK")
    monkeypatch.chdir(workspace)
    assert _decisions_without_baseline(capsys, pinned_go, workspace / "a", "./a/...") == (
        plain_decisions
    )


# --------------------------------------------------------------------------- bad directories


@pytest.mark.parametrize("name", [b"bad dir", b"lt<x", b"bad\xff"])
def test_directory_that_is_no_import_path_is_skipped(
    hot_module: Path,
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    name: bytes,
) -> None:
    plain = analyze_targets(["./..."], go=str(pinned_go))
    plain_decisions = _decisions(capsys, pinned_go, hot_module, "hot/hot.go")
    bad = os.path.join(bytes(hot_module), name)
    os.mkdir(bad)
    with open(os.path.join(bad, b"x.go"), "w") as file:
        file.write("package x\n\nfunc F() *int { return new(int) }\n")
    report = analyze_targets(["./..."], go=str(pinned_go))
    assert report.sites == plain.sites
    [skipped] = report.skipped
    assert "malformed import path" in skipped.reason
    decisions = _decisions(capsys, pinned_go, hot_module, "hot/hot.go")
    assert [(code, findings) for code, findings in decisions] == plain_decisions


def test_one_broken_package_is_skipped_the_rest_analysed(tmp_path: Path, pinned_go: Path) -> None:
    module = _module(
        tmp_path / "mod",
        {
            "hot/hot.go": HOT_GO,
            "broken/b.go": "package broken\n\nfunc F( {\n",
            "imports/i.go": 'package imports\n\nimport _ "example.com/sit/nosuch"\n',
        },
    )
    report = analyze_targets(["./..."], go=str(pinned_go), cwd=str(module))
    assert len(_sites(report)) == 2
    assert [s.package for s in report.skipped] == [
        "example.com/sit/broken",
        "example.com/sit/imports",
    ]
    assert "nosuch" in report.skipped[1].reason


# --------------------------------------------------------------------------- file targets

HELPER_GO = """package hot

func helper(n int) *[3]int { return &[3]int{n, n, n} }

var keep *[3]int

func Use(n int) { keep = helper(n) }
"""


def test_file_target_is_its_package_reporting_its_own_sites(
    enter_module: Callable[[dict[str, str]], Path],
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uses_helper = HOT_GO.replace("p := &Point{n, n, n}", "p := &Point{n, helper(n)[0], n}")
    module = enter_module({"hot/hot.go": uses_helper, "hot/helper.go": HELPER_GO})
    whole = analyze_targets(["./hot"], go=str(pinned_go))
    one = analyze_targets(["hot/hot.go"], go=str(pinned_go))
    assert one.packages == ("example.com/sit/hot",)
    assert one.sites
    assert one.sites == tuple(s for s in whole.sites if s.pos.file == "hot/hot.go")
    assert {s.pos.file for s in whole.sites} == {"hot/hot.go", "hot/helper.go"}
    # A program excluded from its directory's package is compiled alone, as `go run` does.
    (module / "hot" / "gen.go").write_text(
        "//go:build ignore\n\npackage main\n\nfunc main() { println(new([2]int)) }\n"
    )
    alone = analyze_targets(["hot/gen.go"], go=str(pinned_go))
    assert alone.packages == ("command-line-arguments",)
    # check judges the file's whole package, as for the directory.
    file_decisions = _decisions(capsys, pinned_go, module, "hot/hot.go", "hot/hot.go")
    assert file_decisions == _decisions(capsys, pinned_go, module, "hot/hot.go", "./hot")


# --------------------------------------------------------------------------- architectures


@pytest.mark.parametrize("platform", ["linux/arm64", "darwin/arm64"])
def test_arm64_source_mode_is_amd64s_sites_and_decision(
    hot_module: Path,
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
) -> None:
    monkeypatch.setenv("GOARCH", "amd64")
    amd64 = analyze_targets(["./..."], go=str(pinned_go))
    amd64_decisions = _decisions(capsys, pinned_go, hot_module, "hot/hot.go")
    goos, goarch = platform.split("/")
    monkeypatch.setenv("GOOS", goos)
    monkeypatch.setenv("GOARCH", goarch)
    arm64 = analyze_targets(["./..."], go=str(pinned_go))
    assert arm64.toolchain.goarch == "arm64"
    assert [(s.type, s.count, s.prediction, s.fingerprint) for s in arm64.sites] == [
        (s.type, s.count, s.prediction, s.fingerprint) for s in amd64.sites
    ]
    assert all(s.type is not None for s in arm64.sites)
    # The baseline of the amd64 build (left in the module) judges the arm64 one the same way.
    assert [code for code, _ in amd64_decisions] == [0, 1]
    assert _decisions_without_baseline(capsys, pinned_go, hot_module) == amd64_decisions


def _decisions_without_baseline(
    capsys: pytest.CaptureFixture[str], go: Path, module: Path, *args: str
) -> list[tuple[int, list[str]]]:
    """check's decisions (unedited, then with a new hot allocation) against the
    baseline already in `module`."""
    path = module / "hot" / "hot.go"
    before = _check(capsys, go, *args)
    text = path.read_text()
    path.write_text(text.replace(*NEW_ALLOC))
    try:
        return [before, _check(capsys, go, *args)]
    finally:
        path.write_text(text)


def test_arm64_cross_check_agrees(
    hot_module: Path,
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOS", "linux")
    monkeypatch.setenv("GOARCH", "arm64")
    monkeypatch.setenv("CGO_ENABLED", "0")
    code = main(["analyze", "./...", "--cross-check", "--go", str(pinned_go)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "source and binary agree" in err
    assert "linux/arm64" in out.splitlines()[0]


@pytest.mark.parametrize("goarch", ["386", "riscv64", "wasm"])
def test_unsupported_goarch_is_refused(
    hot_module: Path,
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    goarch: str,
) -> None:
    monkeypatch.setenv("GOARCH", goarch)
    if goarch == "wasm":
        monkeypatch.setenv("GOOS", "js")
    assert main(["analyze", "./...", "--go", str(pinned_go)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"escape-lens: error: source mode reads amd64 and arm64 listings; "
        f"GOARCH={goarch} is not supported"
    )
    assert main(["check", "./...", "--go", str(pinned_go)]) == 2


def test_go_env_w_goflags_are_read(
    tmp_path: Path, pinned_go: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GOFLAGS set by `go env -w` (not in the environment) are honoured the same way."""
    module = _module(tmp_path / "mod", {"hot/hot.go": INLINED_GO})
    monkeypatch.setenv("GOENV", str(tmp_path / "goenv"))
    monkeypatch.delenv("GOFLAGS", raising=False)
    subprocess.run([str(pinned_go), "env", "-w", "GOFLAGS=-gcflags=-l"], check=True)
    report = analyze_targets(["./..."], go=str(pinned_go), cwd=str(module))
    assert report.build.gcflags == ("-l",)
    assert [s.function for s in report.sites if s.allocates] == ["Hot"]


def test_a_package_path_with_dots_in_its_last_element(tmp_path: Path, pinned_go: Path) -> None:
    """`example.com/b/v1.0.0` (std has crypto/internal/entropy/v1.0.0): symbols spell it
    `example.com/b/v1%2e0%2e0.New`, the compiler's -m names the function `New`; both must
    be the same function, or the diagnostic pairs with nothing."""
    (tmp_path / "v1.0.0").mkdir()
    (tmp_path / "go.mod").write_text("module example.com/b\n\ngo 1.22\n")
    (tmp_path / "v1.0.0" / "p.go").write_text(
        "package p\n\ntype source struct {\n\tn int64\n\tp *int\n}\n\n"
        "//go:noinline\nfunc New(n int64) *source {\n\treturn &source{n: n}\n}\n"
    )
    report = analyze_targets(["./..."], go=str(pinned_go), cwd=str(tmp_path))
    (site,) = report.sites
    assert (site.package, site.function, site.expr) == (
        "example.com/b/v1.0.0",
        "New",
        "&source{...}",
    )
    assert site.allocates
    assert site.diagnostic is not None
