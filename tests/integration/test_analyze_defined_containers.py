"""`make` of a defined map or channel type (`http.Header`, `type Cache map[...]...`) is
predicted like the type literal it is defined as, buckets/groups and buffers included,
and pairs with its escape line (go1.21, go1.24, the pinned go1.27)."""

from __future__ import annotations

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.records import GoToolchain, Report, Site
from tests.integration.build_helpers import MATRIX, toolchain

SOURCE = """package nm

import (
\t"net/http"
\t"net/url"
)

type Entry struct{ a, b, c int64 }

type Cache map[string]*Entry
type Events chan Entry
type cacheLocal map[string]*Entry

func Named() Cache                       { return make(Cache, 100) }
func Literal() map[string]*Entry         { return make(map[string]*Entry, 100) }
func Local() cacheLocal                  { return make(cacheLocal, 100) }
func NamedChan() Events                  { return make(Events, 8) }
func LiteralChan() chan Entry            { return make(chan Entry, 8) }
func Header() http.Header                { return make(http.Header, 20) }
func HeaderLiteral() map[string][]string { return make(map[string][]string, 20) }
func Values() url.Values                 { return make(url.Values, 20) }

// Unexported and used only here: export data does not describe these, the descriptors
// in the listing do.
type hidden map[int64]Entry
type hiddenChan chan *Entry
type handlers map[string]func(any) bool // names with spaces in the descriptor's relocations

var sink any

func useHidden()            { sink = make(hidden, 50) }
func useHiddenLiteral()     { sink = make(map[int64]Entry, 50) }
func useHiddenChan()        { sink = make(hiddenChan, 4) }
func useHiddenChanLiteral() { sink = make(chan *Entry, 4) }
func useHandlers()          { sink = make(handlers, 9) }
func useHandlersLiteral()   { sink = make(map[string]func(any) bool, 9) }

type IP []byte

func CopyIP(x [16]byte) IP {
	ip := make(IP, len(x))
	copy(ip, x[:])
	return ip
}
"""


@pytest.fixture(scope="module", params=MATRIX)
def report(
    request: pytest.FixtureRequest,
    pinned_toolchain: GoToolchain,
    tmp_path_factory: pytest.TempPathFactory,
) -> Report:
    go = toolchain(str(request.param), pinned_toolchain)
    module = tmp_path_factory.mktemp("defined")
    (module / "go.mod").write_text("module example.com/nm\n\ngo 1.21\n")
    (module / "nm.go").write_text(SOURCE)
    return analyze_targets(["./..."], go=go.path, cwd=str(module))


def _site(report: Report, function: str) -> Site:
    (site,) = [s for s in report.sites if s.function == function and s.allocates]
    return site


@pytest.mark.parametrize(
    ("defined", "literal", "construct"),
    [
        ("Named", "Literal", "map"),
        ("Local", "Literal", "map"),
        ("Header", "HeaderLiteral", "map"),
        ("Values", "HeaderLiteral", "map"),
        ("NamedChan", "LiteralChan", "chan"),
        ("useHidden", "useHiddenLiteral", "map"),
        ("useHiddenChan", "useHiddenChanLiteral", "chan"),
        ("useHandlers", "useHandlersLiteral", "map"),
    ],
)
def test_a_defined_type_costs_what_its_literal_costs(
    report: Report, defined: str, literal: str, construct: str
) -> None:
    named, spelled = _site(report, defined), _site(report, literal)
    assert (named.construct, spelled.construct) == (construct, construct)
    assert named.prediction == spelled.prediction
    assert named.extra == spelled.extra
    assert named.prediction is not None
    total = named.prediction.requested_bytes + sum(e.requested_bytes for e in named.extra)
    bare = {"map": 48, "chan": 96}[construct]  # the map header, the hchan
    assert total > bare, "the groups or the buffer are predicted too"
    assert "unknown" not in named.note


def test_make_of_a_defined_map_pairs_with_its_escape_line(report: Report) -> None:
    named = _site(report, "Named")
    assert named.diagnostic is not None
    assert named.diagnostic.subject == "make(Cache, 100)"
    assert named.pos.col > 0
    assert not [s for s in report.sites if s.function == "Named" and not s.allocates]


def test_make_and_copy_of_a_defined_slice_type_is_sized_by_its_bytes(report: Report) -> None:
    site = _site(report, "CopyIP")
    assert site.construct == "make-slice"
    assert site.diagnostic is not None
    assert site.diagnostic.subject.startswith("make(IP, ")  # `len(x)`, or 16 (go1.24+)
    assert site.prediction is not None
    assert site.prediction.requested_bytes == 16


def test_nothing_else_is_reported(report: Report) -> None:
    assert {s.construct for s in report.sites} == {"map", "chan", "make-slice"}
