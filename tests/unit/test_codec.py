"""The result cache's codec: records round-trip exactly, and anything else is refused."""

from __future__ import annotations

import enum
import inspect
import json
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Literal

import pytest

from escape_lens import records
from escape_lens.codec import CodecError, decode, encode
from escape_lens.parsers.positions import Probe
from escape_lens.records import (
    AllocCall,
    EscapeDiagnostic,
    FlowStep,
    FlowStepKind,
    FunctionSpan,
    JoinedPackage,
    Note,
    PackageOutput,
    Prediction,
    Site,
    SourcePos,
    TypeInfo,
)
from escape_lens.vocab import AllocPath, Construct, EscapeKind, NoteCode, ProfileSample

POS = SourcePos("a/a.go", 7, 9)
MAP = TypeInfo("a.M", 8, 8, key=TypeInfo("string", 16, 8), elem=TypeInfo("a.T", 16, 8))
CALL = AllocCall(POS, "a.New", "newobject", MAP, None, POS, ("CALL\truntime.newobject(SB)",))
STEP = FlowStep(POS, "from &T{} (spill)", FlowStepKind.EDGE, expression="&T{}", reason="spill")
DIAG = EscapeDiagnostic(
    POS, EscapeKind.ESCAPES, "&T{...}", "escapes", (FlowStep(None, "spill"), STEP), "a.New"
)
PREDICTION = Prediction(AllocPath.SMALL, 2, 16, 0, 5, 1, 512, 0, 16)
SITE = Site(
    POS, "example.com/m/a", "a.New", Construct.NEW, MAP, None, DIAG, CALL, PREDICTION,
    extra=(PREDICTION,), notes=(Note(NoteCode.SIZE_UNKNOWN, "ünïcode \udcff surrogate"),),
    inlined_from=POS, fingerprint="f",
)  # fmt: skip


def test_package_records_round_trip_exactly() -> None:
    output = PackageOutput(
        "example.com/m/a",
        "/m/a",
        diagnostics=(DIAG,),
        calls=(CALL,),
        functions=(FunctionSpan("a.New", "example.com/m/a", "a/a.go", 6, 8),),
        types=(MAP,),
        error=None,
    )
    joined = JoinedPackage("example.com/m/a", (SITE, SITE), (MAP,))
    probes: list[Probe] = [("go-files", ("/m/a",), ("a.go",)), ("is-file", ("/m/a/b.go",), True)]
    for value, shape in ((output, PackageOutput), (joined, JoinedPackage)):
        again = decode(encode((probes, value)), tuple[list[Probe], shape])  # type: ignore[valid-type]
        assert again == (probes, value)
        assert type(again[0]) is list
        assert type(again[0][0][1]) is tuple
    again = decode(encode(SITE), Site)
    assert again.call.type.key == TypeInfo("string", 16, 8)
    assert again.construct is Construct.NEW
    assert again.notes[0].code is NoteCode.SIZE_UNKNOWN
    assert again.diagnostic.flow[1].kind is FlowStepKind.EDGE


def test_profile_fields_round_trip() -> None:
    """A joined site (`observed`, with per-operation floats) and a report's profile summary
    survive the codec as they are; `heap_above` from the exact join too."""
    observed = records.Observed(
        3, 96, (records.ObservedSize(32, 3),), 0.25, 8.0, "recorded 32, predicted 48", 2
    )
    site = replace(SITE, observed=observed, heap_above=64)
    assert decode(encode(site), Site) == site
    summary = records.ProfileSummary(
        ("heap.pprof",),
        ProfileSample.ALLOC_SPACE,
        10,
        320,
        3,
        96,
        (records.UnattributedPosition("runtime.f", "f.go", 3, 7, 224, "runtime"),),
        524288,
        1000,
        (("BenchmarkX", 1000),),
    )
    assert decode(encode(summary), records.ProfileSummary) == summary


def _all_records() -> list[type]:
    return [
        kind
        for _, kind in inspect.getmembers(records, inspect.isclass)
        if is_dataclass(kind) and kind.__module__ == records.__name__
    ]


@pytest.mark.parametrize("kind", _all_records(), ids=lambda kind: kind.__name__)
def test_every_record_has_a_checking_decoder(kind: type) -> None:
    """A record someone adds with a field the codec cannot check fails here, not in a run."""
    with pytest.raises(CodecError):
        decode(b"[" + b"0," * len(fields(kind)) + b"{}]", kind)


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


@dataclass(frozen=True, slots=True)
class Painted:
    """A record another helper might add: enums, literals, nested optional tuples."""

    colour: Colour
    level: Level
    shape: Literal["round", "square"]
    parts: tuple[tuple[int, str], ...] = ()
    inner: Painted | None = None
    answer: bool | tuple[str, ...] = False


def test_new_records_with_enums_need_no_codec_change() -> None:
    value = Painted(
        Colour.BLUE,
        Level.HIGH,
        "round",
        ((1, "a"),),
        Painted(Colour.RED, Level.LOW, "square"),
        ("x",),
    )
    text = encode(value)
    assert b'"blue"' in text
    assert b"2" in text
    again = decode(text, Painted)
    assert again == value
    assert again.colour is Colour.BLUE
    assert again.inner.level is Level.LOW


@pytest.mark.parametrize(
    "data",
    [
        b'["green",1,"round",[],null,false]',  # not a Colour
        b'["red",3,"round",[],null,false]',  # not a Level
        b'["red",1,"oval",[],null,false]',  # not one of the literals
        b'["red",1,"round",[[1,2]],null,false]',  # a number where a string goes
        b'["red",1,"round",[],null,1]',  # neither bool nor tuple
        b'["red",true,"round",[],null,false]',  # true is not an enum value 1
        b'["red",1,"round",[],null]',  # a field missing
        b'["red",1,"round",[],null,false,0]',  # a field too many
        b'{"colour":"red"}',  # objects are never written
        b'["red",1.0,"round",[],null,false]',  # floats neither
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the interpreter goes
        b'["red",1,"round",[[' + b"9" * 5000 + b',"a"]],null,false]',  # too long a number
        b"\x80\x04\x95pickle",  # not JSON at all
        b'["red",1,"round",[],["red",1,"round",[],' * 3000 + b"null" + b",false]" * 3001,
    ],
)
def test_anything_else_is_a_codec_error(data: bytes) -> None:
    with pytest.raises(CodecError):
        decode(data, Painted)


def test_values_it_cannot_check_are_refused_when_encoding_or_building() -> None:
    @dataclass(frozen=True)
    class Loose:
        anything: Any

    with pytest.raises(TypeError):
        decode(b"[1]", Loose)
    with pytest.raises(TypeError):
        encode(object())
    assert json.loads(encode((1, "a", None, True))) == [1, "a", None, True]
