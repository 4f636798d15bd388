"""Site fingerprints survive unrelated edits, with the real compiler (pinned and go1.21).

Each edit is applied to a copy of fixtures/checkmod; the allocating sites before and after
must carry the same set of fingerprints (and the lines must really have moved, so the
test could fail). Edits that change what is allocated must change the fingerprint.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.fingerprint import stable_function
from escape_lens.records import Report
from tests.conftest import FIXTURES, fetch_toolchain

pytestmark = pytest.mark.slow

CODEC = "codec/codec.go"


@pytest.fixture(scope="module", params=["pinned", "1.21.13"])
def go(request: pytest.FixtureRequest, pinned_go: Path) -> Path:
    return pinned_go if request.param == "pinned" else fetch_toolchain(str(request.param))


def _analyze(tmp: Path, go: Path, edit: Callable[[str], str] | None = None) -> Report:
    module = tmp / ("edited" if edit else "original")
    shutil.copytree(FIXTURES / "checkmod", module)
    if edit is not None:
        source = (module / CODEC).read_text()
        edited = edit(source)
        assert edited != source
        (module / CODEC).write_text(edited)
    return analyze_targets(["./..."], go=str(go), cwd=str(module))


Prints = dict[str, tuple[str, int, str]]


def _prints(report: Report) -> Prints:
    """fingerprint -> (function, line, expression) of each allocating site."""
    return {s.fingerprint: (s.function, s.pos.line, s.expr) for s in report.sites if s.allocates}


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory, go: Path) -> Prints:
    return _prints(_analyze(tmp_path_factory.mktemp("fp"), go))


def _blank_lines_and_comments(source: str) -> str:
    source = source.replace("// Encode keeps", "\n\n// Inserted.\n/* block */\n\n// Encode keeps")
    return source.replace("\te.last = &Record", "\n\t// inside\n\n\te.last = &Record")


def _renamed_locals(source: str) -> str:
    source = source.replace("window", "scratchpad")
    return source.replace("c := *r\n\treturn &c", "dup := *r\n\treturn &dup")


def _closure_added(source: str) -> str:
    # Lookup's closure was Lookup.func1; with a closure before it, it is Lookup.func2.
    return source.replace(
        "func Lookup() func(int) *Record {\n",
        "func Lookup() func(int) *Record {\n\tdefer func() { sink = nil }()\n",
    )


def _reordered_functions(source: str) -> str:
    encode = source[source.index("// Encode keeps") : source.index("// Reset does")]
    clone = source[source.index("// Clone is not hot") : source.index("// Keep publishes")]
    source = source.replace(encode, "").replace(clone, "")
    return source + "\n" + clone + encode


@pytest.mark.parametrize(
    "edit",
    [_blank_lines_and_comments, _renamed_locals, _reordered_functions, _closure_added],
    ids=lambda f: f.__name__,
)
def test_fingerprints_survive(
    tmp_path: Path, go: Path, original: Prints, edit: Callable[[str], str]
) -> None:
    edited = _prints(_analyze(tmp_path, go, edit))
    assert set(edited) == set(original)
    assert len(original) == 5
    # The edit really moved a site or renamed what it allocates: the test could fail.
    changed = [fp for fp in original if original[fp][1:] != edited[fp][1:]]
    assert changed
    assert all(
        stable_function(original[fp][0]) == stable_function(edited[fp][0]) for fp in original
    )


def test_fingerprints_change_with_what_is_allocated(
    tmp_path: Path, go: Path, original: Prints
) -> None:
    # A second identical allocation in the same function gets its own fingerprint
    # (ordinal), the first keeps its own; a renamed function changes its sites' prints.
    def edit(source: str) -> str:
        source = source.replace("func Clone(", "func Copy(")
        return source.replace("\te.count++\n", "\te.count++\n\tKeep(&Record{ID: r.ID})\n")

    edited = _prints(_analyze(tmp_path, go, edit))
    assert len(edited) == 6
    gone = set(original) - set(edited)
    assert [original[fp][0] for fp in gone] == ["Clone"]
    assert [original[fp][2] for fp in gone] == ["c"]
    added = {edited[fp][0] for fp in set(edited) - set(original)}
    assert added == {"Copy", "(*Encoder).Encode"}


def test_a_file_target_keeps_the_package_runs_fingerprints(tmp_path: Path, pinned_go: Path) -> None:
    """`analyze pkg/b.go` numbers the sites of the whole package before it keeps b.go's:
    a site equal to one in a.go (both `new(T)` in the package's initialiser, told apart by
    their ordinal) has the fingerprint the whole-package run gives it."""
    module = tmp_path / "twins"
    (module / "pkg").mkdir(parents=True)
    (module / "go.mod").write_text("module example.com/twins\n\ngo 1.21\n")
    (module / "pkg" / "t.go").write_text("package pkg\n\ntype T struct{ a, b, c int64 }\n")
    for name in ("a", "b"):
        (module / "pkg" / f"{name}.go").write_text(
            f"package pkg\n\nvar {name.upper()} = new(T)\n\nfunc Get{name.upper()}() *T "
            "{ return new(T) }\n"
        )
    whole = analyze_targets(["./pkg"], go=str(pinned_go), cwd=str(module))
    only_b = analyze_targets(["pkg/b.go"], go=str(pinned_go), cwd=str(module))

    def prints(report: Report, file: str) -> dict[tuple[str, int], str]:
        return {
            (s.function, s.pos.line): s.fingerprint
            for s in report.sites
            if s.allocates and s.pos.file.endswith(file)
        }

    assert {s.pos.file.rsplit("/", 1)[-1] for s in only_b.sites} == {"b.go"}
    assert prints(only_b, "b.go") == prints(whole, "b.go")
    # The initialisers' twins really are told apart by the ordinal (else this proves less).
    [in_a] = [f for (function, _), f in prints(whole, "a.go").items() if function == "init"]
    [in_b] = [f for (function, _), f in prints(whole, "b.go").items() if function == "init"]
    assert in_a != in_b
