"""Go names taken apart (escape_lens.gonames), on names from real compiler output.

The names are copied from go1.27.3 output: `analyze net/http` and `analyze std` reports
(functions, types) and the captured listing fixtures/captured/go1.27.3/kinds.txt.
"""

from __future__ import annotations

import pytest

from escape_lens import gonames
from escape_lens.gonames import symbol_path
from tests.unit.parse_captured import captured_lines


@pytest.mark.parametrize(
    ("symbol", "package", "name"),
    [
        ("net/http.(*Client).Get", "net/http", "(*Client).Get"),
        (
            "net/http.(*persistConn).roundTrip.deferwrap2",
            "net/http",
            "(*persistConn).roundTrip.deferwrap2",
        ),
        (
            "net/http.AppendSeq[go.shape.[]go.shape.string,go.shape.string]-range1",
            "net/http",
            "AppendSeq[go.shape.[]go.shape.string,go.shape.string]-range1",
        ),
        ("sync/atomic.(*Pointer[os.dirInfo]).Load", "sync/atomic", "(*Pointer[os.dirInfo]).Load"),
        ("main.(*Stack[go.shape.int]).Push", "main", "(*Stack[go.shape.int]).Push"),
        ("gopkg.in/yaml%2ev3.Unmarshal", "gopkg.in/yaml%2ev3", "Unmarshal"),
        ("go.uber.org/zap.New", "go.uber.org/zap", "New"),
        ("main", "main", ""),
    ],
)  # fmt: skip
def test_symbols_split_into_package_and_name(symbol: str, package: str, name: str) -> None:
    assert gonames.split_symbol(symbol) == (package, name)
    assert gonames.package_of(symbol) == package
    assert gonames.short_function(symbol) == (name or package)


def test_qualified_and_local_names_are_inverse() -> None:
    assert gonames.qualified_name("net/http", "(*Client).Get") == "net/http.(*Client).Get"
    assert gonames.qualified_name("net/http", "net/http.(*Client).Get") == "net/http.(*Client).Get"
    assert gonames.local_name("net/http", "net/http.(*Client).Get") == "(*Client).Get"
    assert gonames.local_name("command-line-arguments", "main.f", "main") == "f"
    assert gonames.local_name("net/http", "(*Client).Get") == "(*Client).Get"


@pytest.mark.parametrize(
    ("name", "parent"),
    [
        ("(*Client).do.func2", "(*Client).do"),
        ("(*F).Fuzz.func1.1", "(*F).Fuzz.func1"),  # a closure in a closure (testing)
        ("(*Server).Shutdown.deferwrap1", "(*Server).Shutdown"),
        ("(*persistConn).waitForContinue.func1.deferwrap1", "(*persistConn).waitForContinue.func1"),
        ("main.gor.func1", "main.gor"),
        ("ParseCookie-range1", None),  # a range-func body keeps its name (see the module)
        ("(*Client).Get", None),
        ("NewStack[go.shape.int]", None),
    ],
)  # fmt: skip
def test_enclosing_function_of_closures(name: str, parent: str | None) -> None:
    assert gonames.enclosing_function(name) == parent


def test_closures_range_bodies_and_inline_copies() -> None:
    assert gonames.is_closure("(*Client).do.func2")
    assert gonames.is_closure("ParseCookie-range1")
    assert gonames.is_closure("(*Server).Shutdown.deferwrap1")
    assert not gonames.is_closure("(*Client).Get")
    assert not gonames.is_closure("(*mapping[go.shape.string,go.shape.*uint8]).add")
    # The captured go1.27.3 listing holds a closure copy made for an inlined caller.
    names = {line.split(" ", 1)[0] for line in captured_lines("go1.27.3", "kinds")}
    copy = next(name for name in names if name.startswith("main.closure.func1#"))
    assert copy == "main.closure.func1#BvZHsVe4VXo=#"
    assert gonames.without_inline_hash(copy) == "main.closure.func1"
    assert gonames.without_inline_hash(copy + ".1") == "main.closure.func1.1"
    assert gonames.without_inline_hash("main.closure.func1") == "main.closure.func1"


def test_shapes_and_type_arguments() -> None:
    assert gonames.is_shape("(*mapping[go.shape.string,go.shape.*uint8]).add")
    assert gonames.is_shape("go.shape.int")
    assert not gonames.is_shape("sync/atomic.(*Pointer[os.dirInfo]).Load")
    assert gonames.without_type_args("(*mapping[go.shape.string,go.shape.*uint8]).add") == (
        "(*mapping).add"
    )
    assert gonames.without_type_args("AppendSeq[go.shape.[]go.shape.string,go.shape.string]") == (
        "AppendSeq"
    )


@pytest.mark.parametrize(
    ("type_name", "parts", "spelled"),
    [
        (
            "map[string][]*mime/multipart.FileHeader",
            ("string", "[]*mime/multipart.FileHeader"),
            True,
        ),
        ("map[[2]int]map[string]int", ("[2]int", "map[string]int"), True),
        ("chan *net/http.Response", ("*net/http.Response",), True),
        ("chan<- internal/singleflight.Result", ("internal/singleflight.Result",), True),
        ("<-chan struct {}", ("struct {}",), True),
        ("net/http.Header", (), False),  # a defined map type does not spell its parts
        ("[]uint8", (), False),
    ],
)  # fmt: skip
def test_map_and_channel_type_names(type_name: str, parts: tuple[str, ...], spelled: bool) -> None:
    assert gonames.component_types(type_name) == parts
    assert gonames.spells_container(type_name) is spelled
    if type_name.startswith("map["):
        assert gonames.map_key_elem(type_name) == parts
    else:
        assert gonames.map_key_elem(type_name) is None


@pytest.mark.parametrize(
    ("name", "package", "written"),
    [
        ("*net/http.Request", "net/http", "*Request"),
        ("[]*net/http.Cookie", "net/http", "[]*Cookie"),
        ("*net/url.URL", "net/http", "*url.URL"),
        ("map[string]net/textproto.MIMEHeader", "net/http", "map[string]textproto.MIMEHeader"),
        # a command's types are main's, whatever its import path
        ("*main.point", "example.com/constructs/cmd/allocs", "*point"),
        ("*main.point", "command-line-arguments", "*point"),
        # another package whose last element is this package's (go1.27 std)
        ("*crypto/internal/fips140/ecdh.PrivateKey", "crypto/ecdh", "*ecdh.PrivateKey"),
        ("internal/godebug.Setting", "crypto/internal/fips140deps/godebug", "godebug.Setting"),
        ("*crypto/ecdh.PrivateKey", "crypto/ecdh", "*PrivateKey"),
    ],
)
def test_a_type_is_named_as_its_packages_source_writes_it(
    name: str, package: str, written: str
) -> None:
    # One rule for the text report's type column and the hints' words.
    assert gonames.type_in_package(name, package) == written


@pytest.mark.parametrize(
    "path",
    [
        "example.com/m/foo.bar",
        "crypto/internal/entropy/v1.0.0",
        "example.com/ünï/x.y",
        "a/b%c",
        "x",
    ],
)
def test_a_type_name_in_symbol_spelling_reads_as_go_spells_it(path: str) -> None:
    """objabi.PathToPrefix's escapes undone, in a composite type beside a Unicode name."""
    assert gonames.unescaped(f"map[{symbol_path(path)}.Ünï][]*{symbol_path(path)}.T") == (
        f"map[{path}.Ünï][]*{path}.T"
    )
