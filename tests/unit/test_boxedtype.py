"""The type a convT call boxes, read from the listing after it (parsers/boxedtype.py);
the lines are go1.27.3's, amd64."""

from __future__ import annotations

from escape_lens.parsers.boxedtype import boxed_type
from escape_lens.parsers.registers import AMD64


def _lines(pc: int, *instructions: str) -> list[str]:
    return [
        f"\t0x{pc + i:04x} {pc + i:05d} (/m/m.go:10)\t{text}" for i, text in enumerate(instructions)
    ]


def test_a_map_literals_value_is_paired_through_its_spill() -> None:
    """`map[string]any{"q": q}`: the data word is spilled across mapassign, whose map
    type is loaded right after the call; the value's type is stored next to it."""
    after = _lines(
        100,
        "MOVQ\tAX, m..autotmp_26+80(SP)",
        "LEAQ\ttype:map[string]interface {}(SB), AX",
        "LEAQ\tm..autotmp_9+32(SP), BX",
        "CALL\truntime.mapassign_faststr(SB)",
        "LEAQ\ttype:[]float64(SB), DX",
        "MOVQ\tDX, (AX)",
        "CMPL\truntime.writeBarrier(SB), $0",
        "JNE\t110",
        "MOVQ\tm..autotmp_26+80(SP), DX",
        "JMP\t114",
        "MOVQ\t8(AX), CX",
        "CALL\truntime.gcWriteBarrier2(SB)",
        "MOVQ\tm..autotmp_26+80(SP), DX",
        "MOVQ\tDX, (R11)",
        "MOVQ\tDX, 8(AX)",
    )
    assert boxed_type(after, AMD64) == "[]float64"
    # Without the store, the map type stays what mapassign receives, not the boxed type.
    assert boxed_type(after[:9], AMD64) is None


def test_a_type_word_stored_beside_another_value_is_not_taken() -> None:
    """`Sink = s; Sink = m`: the dead box's data word is never stored; the type loaded
    after it is the map's, stored next to another word."""
    after = _lines(
        200,
        "LEAQ\ttype:map[string]int(SB), DX",
        "MOVQ\tDX, m.Sink(SB)",
        "CMPL\truntime.writeBarrier(SB), $0",
        "JNE\t206",
        "MOVQ\tm.m+72(SP), CX",
        "JMP\t209",
        "MOVQ\tm.Sink+8(SB), AX",
        "CALL\truntime.gcWriteBarrier2(SB)",
        "MOVQ\tm.m+72(SP), CX",
        "MOVQ\tCX, m.Sink+8(SB)",
        "RET",
    )
    assert boxed_type(after, AMD64) is None


def test_an_indexed_store_pairs_the_words() -> None:
    """`vals[i] = int(x)`: type word and data word stored into one slice element."""
    after = _lines(
        300,
        "MOVQ\tm..autotmp_100+88(SP), DX",
        "LEAQ\ttype:int(SB), SI",
        "MOVQ\tm.vals+160(SP), DI",
        "MOVQ\tSI, (DI)(DX*1)",
        "CMPL\truntime.writeBarrier(SB), $0",
        "JEQ\t308",
        "MOVQ\t8(DX)(DI*1), CX",
        "CALL\truntime.gcWriteBarrier2(SB)",
        "MOVQ\tAX, 8(DI)(DX*1)",
        "JMP\t2401",
    )
    assert boxed_type(after, AMD64) == "int"


def test_a_stored_data_word_is_not_paired_with_a_switch_arms_type() -> None:
    """reflect.ValueOf(s) inlined: the data word goes into the Value; the itab loaded
    before the next jump is the Value's type method's, not the boxed type."""
    after = _lines(
        400,
        "MOVQ\tAX, m.~r0ptr+168(SP)",
        "MOVL\t$152, CX",
        "TESTQ\tDX, DX",
        "JEQ\t409",
        "LEAQ\tgo:itab.*reflect.rtype,reflect.Type(SB), BX",
        "JMP\t420",
    )
    assert boxed_type(after, AMD64) is None
    # In registers only, a switch arm's one type word is the interface's.
    assert boxed_type(after[1:], AMD64) == "*reflect.rtype"


def test_no_type_word_is_taken_past_a_jump() -> None:
    """archive/tar `err = headerError{...}`: convTslice, then a jump to the merge point;
    the next lines are another path's (the next literal's `[4]string`)."""
    after = _lines(
        500,
        "JMP\t3990",
        "MOVL\t$64, AX",
        "LEAQ\ttype:[4]string(SB), BX",
        "CALL\truntime.mallocgcSmallScanNoHeaderSC6(SB)",
    )
    assert boxed_type(after, AMD64) is None


def test_a_type_word_past_a_nil_check_is_read_on_both_arms() -> None:
    """`m.Store(k, v)` with v a non-empty interface (sync.Map inlined, go1.27.3): v's
    itab is nil-checked between convT64 and the key's type word; one arm jumps over the
    other, and both reach `LEAQ type:uintptr(SB), CX` with the data word in DI."""
    after = [
        "\t0x002b 00043 (/m/m.go:17)\tMOVQ\tm.v+88(SP), SI",
        "\t0x0030 00048 (/m/m.go:17)\tTESTQ\tSI, SI",
        "\t0x0033 00051 (/m/m.go:17)\tJEQ\t59",
        "\t0x0035 00053 (/m/m.go:17)\tMOVQ\t8(SI), CX",
        "\t0x0039 00057 (/m/m.go:17)\tJMP\t62",
        "\t0x003b 00059 (/m/m.go:17)\tMOVQ\tSI, CX",
        "\t0x003e 00062 (/go/hashtriemap.go:200)\tLEAQ\tinternal/sync..dict.HashTrieMap(SB), BX",
        "\t0x0046 00070 (/go/hashtriemap.go:200)\tMOVQ\tAX, DI",
        "\t0x0049 00073 (/go/hashtriemap.go:200)\tMOVQ\tCX, SI",
        "\t0x004c 00076 (/go/hashtriemap.go:200)\tMOVQ\tm.v+96(SP), R8",
        "\t0x0051 00081 (/go/hashtriemap.go:200)\tMOVQ\tm..autotmp_26+48(SP), AX",
        "\t0x0056 00086 (/go/hashtriemap.go:200)\tLEAQ\ttype:uintptr(SB), CX",
        "\t0x0060 00096 (/go/hashtriemap.go:200)\tCALL\tinternal/sync.(*HashTrieMap).Swap(SB)",
    ]
    assert boxed_type(after, AMD64) == "uintptr"
    # Without the jump's landing in the lines read, nothing pairs the words.
    assert boxed_type(after[:5], AMD64) is None


def test_paths_that_pair_the_data_word_with_different_types_say_nothing() -> None:
    """A conversion has one type: when two paths out of the call store the data word
    beside different type words, the lines cannot say which, and none is taken."""
    after = _lines(
        600,
        "TESTQ\tBX, BX",
        "JEQ\t606",
        "LEAQ\ttype:int(SB), CX",
        "MOVQ\tCX, m.Sink(SB)",
        "MOVQ\tAX, m.Sink+8(SB)",
        "RET",
        "LEAQ\ttype:uint(SB), CX",
        "MOVQ\tCX, m.Sink(SB)",
        "MOVQ\tAX, m.Sink+8(SB)",
        "RET",
    )
    assert boxed_type(after, AMD64) is None
    # Each path alone pairs them.
    assert boxed_type(after[:6], AMD64) == "int"
    assert boxed_type(after[6:], AMD64) == "uint"
