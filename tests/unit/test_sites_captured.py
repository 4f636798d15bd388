"""The join on captured compiler output (fixtures/captured, labelled by Go version).

These complement the integration tests (which run the real compiler): the same
`-m=2 -S` text, recorded once per version, goes through the build parser and the join,
so the join's rules are checked on go1.21.13, go1.24.11 and go1.27.3 output without Go.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from escape_lens.model import rules_for
from escape_lens.parsers.gobuild import BuildParser, ListedPackage
from escape_lens.parsers.positions import Positions
from escape_lens.predict import specialized_disagreement
from escape_lens.records import (
    AllocCall,
    GoToolchain,
    GoVersion,
    PackageOutput,
    Report,
    SourcePos,
    TypeInfo,
)
from escape_lens.reporters.text import render_lines
from escape_lens.reporters.text_layout import visible_width
from escape_lens.sites import CONSTRUCTS, join_package, join_sites
from escape_lens.vocab import NoteCode
from tests.conftest import FIXTURES

CAPTURE_DIR = "/tmp/escape-lens-capture/kinds"
VERSIONS = ("go1.21.13", "go1.24.11", "go1.27.3")


def _kinds(version: str) -> PackageOutput:
    text = (FIXTURES / "captured" / version / "kinds.txt").read_text()
    listed = ListedPackage("command-line-arguments", CAPTURE_DIR, name="main")
    parser = BuildParser([listed], Positions(CAPTURE_DIR, CAPTURE_DIR))
    parser.feed_all(text.splitlines()[1:])  # line 1 says how it was captured
    [output] = parser.outputs()
    return output


@pytest.fixture(params=VERSIONS)
def kinds(request: pytest.FixtureRequest) -> tuple[GoVersion, PackageOutput]:
    version = str(request.param)
    return GoVersion.parse(version), _kinds(version)


def test_every_call_is_one_site(kinds: tuple[GoVersion, PackageOutput]) -> None:
    version, output = kinds
    sites = join_package(output, rules_for(version))
    with_calls = [s.call for s in sites if s.call is not None]
    assert sorted(with_calls, key=repr) == sorted(output.calls, key=repr)
    assert all(s.construct in CONSTRUCTS for s in sites)
    assert not [s for s in sites if s.has_note(NoteCode.MODEL_DISAGREES)]


def test_channel_without_escape_line_is_a_site(kinds: tuple[GoVersion, PackageOutput]) -> None:
    version, output = kinds
    sites = join_package(output, rules_for(version))
    [chan] = [s for s in sites if s.function == "chans"]
    assert chan.construct == "chan"
    assert chan.diagnostic is None
    assert chan.count == 8
    # make(chan *int, 8): a pointerful hchan plus a separate 64-byte buffer
    assert chan.prediction is not None
    assert [p.class_bytes for p in chan.extra] == [64]


def test_inlined_errors_new_is_attributed_to_the_caller(
    kinds: tuple[GoVersion, PackageOutput],
) -> None:
    version, output = kinds
    sites = join_package(output, rules_for(version))
    [site] = [s for s in sites if s.function == "err" and s.allocates]
    assert site.pos.file == "main.go"
    assert site.pos.line == 55
    assert site.inlined_from is not None
    assert site.inlined_from.file.endswith("errors/errors.go")
    assert site.construct == "composite-literal"


def test_escape_lines_without_calls_say_why(kinds: tuple[GoVersion, PackageOutput]) -> None:
    version, output = kinds
    sites = join_package(output, rules_for(version))
    silent = [s for s in sites if not s.allocates]
    assert all(s.note for s in silent)
    assert all(s.call is None and s.prediction is None for s in silent)
    # `sink = 1000` boxes a constant: read-only data, no call (all versions)
    assert any(s.function == "iface" and s.construct == "interface" for s in silent)


def test_binary_mode_joins_calls_alone(kinds: tuple[GoVersion, PackageOutput]) -> None:
    version, output = kinds
    sites = join_sites(output.calls, (), rules_for(version), origin="binary")
    assert len(sites) == len(output.calls)
    assert {s.origin for s in sites} == {"binary"}
    assert all(s.allocates and s.diagnostic is None for s in sites)
    assert {s.package for s in sites} == {"main"}


def test_model_disagreement_is_flagged_loudly() -> None:
    """A compiler-chosen class the model does not reproduce must not pass silently."""
    rules = rules_for(GoVersion.parse("go1.27.3"))
    call = AllocCall(
        pos=SourcePos("x.go", 3),
        function="main.f",
        entry="mallocgcSmallNoScanSC4",
        type=TypeInfo("main.T", 48, 0),  # 48 B is class 5, not the entry's class 4
    )
    [site] = join_sites([call], (), rules)
    assert site.has_note(NoteCode.MODEL_DISAGREES)
    assert specialized_disagreement(site) is not None
    report = Report(
        "0", GoToolchain("go", GoVersion.parse("go1.27.3"), "linux", "amd64"), (), (site,)
    )
    [line] = [line for line in render_lines(report) if line.startswith("    3")]
    assert "MODEL DISAGREES" in line
    assert visible_width(line) <= 80
    agreeing = replace(call, type=TypeInfo("main.T", 32, 0))
    [fine] = join_sites([agreeing], (), rules)
    assert specialized_disagreement(fine) is None
    assert not fine.has_note(NoteCode.MODEL_DISAGREES)


def test_symbols_split_where_the_import_path_ends() -> None:
    from escape_lens.gonames import package_of, short_function

    # A promoted method of an anonymous struct: the struct's fields hold slashes too.
    wrapper = (
        "net/http.(*struct { reflect.typ *internal/abi.Type; reflect.ptr unsafe.Pointer;"
        " reflect.flag }).reflect.mustBe"
    )
    assert package_of(wrapper) == "net/http"
    assert short_function(wrapper).startswith("(*struct { reflect.typ *internal/abi.Type;")
    assert package_of("example.com/m/p.Stack[go.shape.*uint8].Push") == "example.com/m/p"
    assert short_function("example.com/m/p.Stack[go.shape.*uint8].Push") == (
        "Stack[go.shape.*uint8].Push"
    )
    assert (package_of("main.main.func1"), short_function("main.main.func1")) == (
        "main",
        "main.func1",
    )
