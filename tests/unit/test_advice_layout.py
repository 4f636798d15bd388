"""The struct layout rules and the best field order, against every permutation."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from escape_lens.advice.layout import best_order
from escape_lens.gotypes import align_of, struct_size, with_fields
from escape_lens.parsers.descriptors import Descriptors
from escape_lens.records import FieldInfo, TypeInfo

# (size, align) of Go types on 64-bit targets, a zero-size one among them.
_KINDS = [(1, 1), (2, 2), (4, 4), (8, 8), (16, 8), (24, 8), (8, 4), (0, 1), (0, 8), (3, 1), (12, 4)]


def _fields(kinds: list[tuple[int, int]]) -> tuple[FieldInfo, ...]:
    return tuple(FieldInfo(f"f{n}", "t", size, align) for n, (size, align) in enumerate(kinds))


def _size(fields: tuple[FieldInfo, ...]) -> int:
    return struct_size(tuple((f.size, f.align) for f in fields))


def test_gc_layout_rules() -> None:
    assert struct_size(((1, 1), (8, 8), (1, 1), (8, 8), (1, 1))) == 40
    assert struct_size(((8, 8), (8, 8), (1, 1), (1, 1), (1, 1))) == 24
    # A final zero-size field gets a byte, so its address stays inside the object.
    assert struct_size(((8, 8), (0, 1))) == 16
    assert struct_size(((0, 1), (8, 8))) == 8
    assert struct_size(((0, 1),)) == 0
    assert struct_size(()) == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_KINDS), min_size=1, max_size=6))
def test_best_order_is_never_beaten_by_any_permutation(kinds: list[tuple[int, int]]) -> None:
    fields = _fields(kinds)
    best = _size(best_order(fields))
    assert best == min(_size(tuple(p)) for p in itertools.permutations(fields))
    assert sorted(f.name for f in best_order(fields)) == sorted(f.name for f in fields)


def test_alignment_from_the_language_and_known_structs() -> None:
    inner = TypeInfo("p.Inner", 8, 0, fields=_fields([(4, 4), (1, 1)]))
    known = {"p.Inner": inner}
    assert align_of("complex64", known) == 4
    assert align_of("[3]int16", known) == 2
    assert align_of("*p.Other", known) == 8
    assert align_of("p.Inner", known) == 4
    assert align_of("[2]p.Inner", known) == 4
    assert align_of("sync.Mutex", known) is None  # another package's: never guessed


def test_fields_are_kept_only_when_they_lay_out_to_the_descriptor_size() -> None:
    fields = (FieldInfo("a", "bool"), FieldInfo("b", "int64"))
    laid = with_fields(TypeInfo("p.T", 16, 0), fields, {})
    assert [(f.size, f.align) for f in laid.fields] == [(1, 1), (8, 8)]
    assert with_fields(TypeInfo("p.T", 24, 0), fields, {}).fields == ()
    unknown = (FieldInfo("a", "bool"), FieldInfo("m", "sync.Mutex"))
    assert with_fields(TypeInfo("p.U", 16, 0), unknown, {}).fields == ()


# The descriptor of `type Padded struct{ A bool; B int64; z struct{} }` as go1.27.3's -S
# listing prints it (abridged to the lines the parser reads; hex after line 2 elided).
_DESCRIPTOR = """\
\t0x0000 18 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   ................
\t0x0010 39 6b 3d e0 07 08 08 19 00 00 00 00 00 00 00 00  9k=.............
\trel 24+8 t=R_ADDR type:.eqfunc.x+0
\trel 40+4 t=R_ADDROFF type:.namedata.*adv.Padded.+0
\trel 56+8 t=R_ADDR type:example.com/adv.Padded+96
\trel 80+4 t=R_ADDROFF type:.importpath.example.com/adv.+0
\trel 96+8 t=R_ADDR type:.namedata.A.+0
\trel 104+8 t=R_ADDR type:bool+0
\trel 120+8 t=R_ADDR type:.namedata.B.+0
\trel 128+8 t=R_ADDR type:int64+0
\trel 144+8 t=R_ADDR type:.namedata.z-+0
\trel 152+8 t=R_ADDR type:struct {}+0
\trel 176+4 t=R_ADDROFF type:.namedata.M.+0"""


def test_a_defined_structs_descriptor_names_its_fields_in_order() -> None:
    descriptors = Descriptors()
    descriptors.start("example.com/adv.Padded")
    for line in _DESCRIPTOR.splitlines():
        assert descriptors.feed(line)
    assert descriptors.struct_fields["example.com/adv.Padded"] == [
        ("A", "bool"),
        ("B", "int64"),
        ("z", "struct {}"),
    ]
    (padded,) = descriptors.struct_types({}).values()
    assert [f.name for f in best_order(padded.fields)] == ["z", "B", "A"]
    assert _size(best_order(padded.fields)) == 16 < padded.size == 24
