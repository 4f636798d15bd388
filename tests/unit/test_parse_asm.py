"""The -S parser on captured go1.21 / go1.24 / go1.27 output (fixtures/captured/)."""

from __future__ import annotations

import pytest

from escape_lens.entries import ENTRIES, alloc_entry
from escape_lens.gonames import chan_elem, component_types, map_key_elem
from escape_lens.parsers.asm import iter_alloc_calls, iter_functions, iter_types
from escape_lens.parsers.positions import Positions
from escape_lens.records import AllocCall, SourcePos, TypeInfo
from tests.unit.parse_captured import KINDS, VERSIONS, captured_lines, parse_kinds, parse_mod


def calls_in(version: str, function: str, line: int) -> list[AllocCall]:
    return [
        c
        for c in parse_kinds(version).calls
        if c.function == function and c.pos == SourcePos("main.go", line)
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_type_descriptors_give_size_and_pointer_bytes(version: str) -> None:
    types = {t.name: t for t in iter_types(captured_lines(version, "kinds"))}
    assert types["main.pair"] == TypeInfo("main.pair", 16, 8)
    assert types["chan *int"].size == 8
    assert types["noalg.struct { F uintptr; X0 int }"] == TypeInfo(
        "noalg.struct { F uintptr; X0 int }", 16, 0
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_calls_get_type_and_constant_count(version: str) -> None:
    (chan,) = calls_in(version, "main.chans", 46)
    assert chan.entry == "makechan"
    assert chan.type is not None
    assert chan.type.name == "chan *int"
    assert chan.const_count == 8
    assert chan.asm[-1] == "CALL\truntime.makechan(SB)"
    (iface,) = calls_in(version, "main.iface", 32)
    assert (iface.entry, iface.type) == ("convT", TypeInfo("main.pair", 16, 8))
    (conv,) = calls_in(version, "main.iface", 33)
    assert conv.entry == "convTstring"
    assert conv.type is None


def test_entry_names_follow_the_version() -> None:
    # 1.27 specialises new(T) of <= 80 bytes (docs/allocator.md §8); older ones call newobject
    for version in ("go1.21.13", "go1.24.11"):
        (gowrap,) = [c for c in calls_in(version, "main.gor", 58) if c.entry != "newproc"]
        assert gowrap.entry == "newobject"
    (gowrap,) = [c for c in calls_in("go1.27.3", "main.gor", 58) if c.entry != "newproc"]
    assert gowrap.entry == "mallocgcSmallNoScanSC2"
    assert gowrap.const_count == 16
    assert gowrap.type == TypeInfo("noalg.struct { F uintptr; X0 int }", 16, 0)


@pytest.mark.parametrize("version", VERSIONS)
def test_generic_dictionary_types_are_not_guessed(version: str) -> None:
    (grow,) = calls_in(version, "main.(*Stack[go.shape.int]).Push", 74)
    assert grow.entry == "growslice"
    assert grow.type is None


@pytest.mark.parametrize("version", VERSIONS)
def test_inlined_calls_keep_callee_pos_and_get_the_call_pos(version: str) -> None:
    calls = parse_kinds(version).calls
    errors_new = [c for c in calls if c.pos.file.endswith("src/errors/errors.go")]
    assert {c.function for c in errors_new} == {"main.err", "main.main"}
    by_function = {c.function: c for c in errors_new}
    assert by_function["main.err"].call_pos == SourcePos("main.go", 55, 37)
    assert by_function["main.main"].call_pos == SourcePos("main.go", 82, 78)
    (concat,) = calls_in(version, "main.main", 37)
    assert concat.call_pos == SourcePos("main.go", 82, 20)
    (moved,) = calls_in(version, "main.main", 22)
    assert moved.call_pos == SourcePos("main.go", 79, 7)
    (own,) = calls_in(version, "main.concat", 37)
    assert own.call_pos is None


@pytest.mark.parametrize("version", VERSIONS)
def test_function_spans_stop_before_the_next_declaration(version: str) -> None:
    spans = {f.name: f for f in parse_kinds(version).functions}
    assert (spans["main.moved"].first_line, spans["main.moved"].last_line) == (21, 24)
    assert (spans["main.main"].first_line, spans["main.main"].last_line) == (78, 88)
    assert spans["main.main"].file == "main.go"
    assert spans["main.main"].package == "command-line-arguments"
    assert spans["main.gor.func1"].first_line == 58
    lazy = {
        f.name
        for f in iter_functions(
            captured_lines(version, "kinds"), Positions(KINDS.dir, KINDS.dir), KINDS.import_path
        )
    }
    assert lazy == set(spans)


@pytest.mark.parametrize("version", VERSIONS)
def test_iter_alloc_calls_sees_the_same_calls(version: str) -> None:
    positions = Positions(KINDS.dir, KINDS.dir)
    lazy = list(iter_alloc_calls(captured_lines(version, "kinds"), positions, KINDS.import_path))
    assert sorted((c.pos, c.entry) for c in lazy) == sorted(
        (c.pos, c.entry) for c in parse_kinds(version).calls
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_constants_survive_register_moves(version: str) -> None:
    # make([]byte, 10): `MOVL $10, BX; MOVQ BX, CX` (len and cap) before makeslice
    (make,) = [c for c in parse_mod(version)["example.com/m/a"].calls if c.function.endswith(".C")]
    assert make.entry == "makeslice"
    assert make.const_count == 10
    assert make.type is None  # uint8's descriptor is in runtime's listing, not here: unsized
    (variable,) = [
        c for c in parse_mod(version)["example.com/m/a"].calls if c.function.endswith(".S")
    ]
    assert variable.const_count is None


@pytest.mark.parametrize("version", VERSIONS)
def test_types_of_other_target_packages_are_shared(version: str) -> None:
    outputs = parse_mod(version)
    (new_a,) = [c for c in outputs["example.com/m/b"].calls if c.function.endswith("NewA")]
    assert new_a.type == TypeInfo("example.com/m/a.T", 16, 8)
    (use_a,) = [c for c in outputs["example.com/m/b"].calls if c.function.endswith("UseA")]
    assert use_a.pos == SourcePos("a/a.go", 7)
    assert use_a.call_pos == SourcePos("b/b.go", 5, 32)


def test_entry_table() -> None:
    assert alloc_entry("runtime.newobject") == ("newobject", ENTRIES["newobject"])
    assert alloc_entry("runtime.mallocgcSmallScanNoHeaderSC12") is not None
    assert alloc_entry("runtime.mallocgcTinySC2") is not None
    assert alloc_entry("runtime.concatstring3") is not None
    assert alloc_entry("runtime.concatbyte5") is not None
    assert alloc_entry("runtime.morestack_noctxt") is None
    assert alloc_entry("runtime.mapassign_faststr") is None
    assert alloc_entry("internal/bytealg.MakeNoZero") is not None
    assert alloc_entry("main.newobject") is None


def test_component_types() -> None:
    assert map_key_elem("map[string][]int") == ("string", "[]int")
    assert map_key_elem("map[[2]int]map[string]int") == ("[2]int", "map[string]int")
    assert map_key_elem("[]int") is None
    assert chan_elem("chan *int") == "*int"
    assert chan_elem("<-chan struct {}") == "struct {}"
    assert component_types("chan<- [4]byte") == ("[4]byte",)
    assert component_types("main.T") == ()
