from __future__ import annotations

import pytest

from escape_lens.gonames import symbol_path
from escape_lens.records import GoVersion, Prediction, Site, SourcePos, TypeInfo


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("go1.27.3", GoVersion(1, 27, 3)),
        ("1.22", GoVersion(1, 22, 0)),
        ("go1.21.13", GoVersion(1, 21, 13)),
        ("go1.28rc1", GoVersion(1, 28, 0)),
    ],
)
def test_go_version_parses(text: str, expected: GoVersion) -> None:
    assert GoVersion.parse(text) == expected


def test_go_version_orders_numerically_and_prints_canonically() -> None:
    assert GoVersion.parse("go1.9.0") < GoVersion.parse("go1.21.0") < GoVersion.parse("1.21.13")
    assert str(GoVersion.parse("1.22")) == "go1.22.0"
    assert GoVersion.parse("go1.28rc1").suffix == "rc1"


@pytest.mark.parametrize("text", ["", "go", "version 1", "gox.y"])
def test_go_version_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="not a Go version"):
        GoVersion.parse(text)


def _prediction(class_bytes: int, waste: int) -> Prediction:
    return Prediction("small", 4, class_bytes, 0, 9, 1, 252, waste, class_bytes - waste)


def test_site_totals_cover_extra_objects_and_ignore_non_allocating_sites() -> None:
    site = Site(
        pos=SourcePos("a.go", 3, 2),
        package="p",
        function="p.f",
        construct="chan",
        type=TypeInfo("chan *int", 8, 8),
        count=8,
        diagnostic=None,
        call=None,
        prediction=_prediction(64, 0),
        extra=(_prediction(112, 8),),
    )
    assert (site.class_bytes, site.waste_bytes) == (176, 8)
    stack = Site(**{**{f: getattr(site, f) for f in Site.__slots__}, "allocates": False})
    assert (stack.class_bytes, stack.waste_bytes) == (0, 0)


def test_type_info_is_pointerful_only_with_pointer_bytes() -> None:
    assert TypeInfo("*int", 8, 8).pointers
    assert not TypeInfo("[4]int", 32, 0).pointers


def test_symbol_path_escapes_as_the_linker_does() -> None:
    # cmd/internal/objabi.PathToPrefix's cases
    assert symbol_path("example.com/m/p") == "example.com/m/p"
    assert symbol_path("gopkg.in/yaml.v3") == "gopkg.in/yaml%2ev3"
    assert symbol_path("crypto/internal/entropy/v1.0.0") == "crypto/internal/entropy/v1%2e0%2e0"
    assert symbol_path('a b/c%"') == "a%20b/c%25%22"
    assert symbol_path("x.y/é") == "x.y/%c3%a9"
