"""What the argument registers hold on every path into an allocation call through its
window (parsers/registers.py `arguments_reaching`), and the listing parser's fallback to
the straight line where a jump table hides ways in (parsers/asm.py)."""

from __future__ import annotations

from collections import Counter

from escape_lens.entries import ENTRIES
from escape_lens.parsers.asm import iter_alloc_calls
from escape_lens.parsers.positions import Positions
from escape_lens.parsers.registers import AMD64
from escape_lens.parsers.straightline import Window, jumps_through_register
from escape_lens.records import TypeInfo

GROWSLICE = ENTRIES["growslice"]


def _window(*instructions: tuple[int, str]) -> Window:
    lines = [f"\t0x{pc:04x} {pc:05d} (/m/m.go:17)\t{text}" for pc, text in instructions]
    return Window((), lines, 0, len(lines))


# go1.27.3, `out = append(out, t.(*T))` after `if err != nil { return nil, err }`: the
# assertion's `LEAQ type:*T(SB), SI` reaches growslice through `JCS 204`, the only branch
# to the growslice block (the code it skips jumps away).
_COLLECT = (
    (154, "TESTQ\tCX, CX"),
    (157, "JNE\t273"),
    (159, "LEAQ\ttype:*m.T(SB), SI"),
    (166, "CMPQ\tAX, SI"),
    (169, "JNE\t314"),
    (175, "MOVQ\tm.out.len+64(SP), DX"),
    (180, "INCQ\tDX"),
    (183, "MOVQ\tm.out.cap+72(SP), CX"),
    (192, "CMPQ\tCX, DX"),
    (195, "JCS\t204"),
    (197, "MOVQ\tm.out.ptr+96(SP), AX"),
    (202, "JMP\t237"),
    (204, "MOVQ\tBX, m.t.data+88(SP)"),
    (209, "MOVQ\tm.out.ptr+96(SP), AX"),
    (214, "MOVQ\tDX, BX"),
    (217, "MOVL\t$1, DI"),
)
_JUMPS = Counter({273: 1, 314: 1, 204: 1, 237: 1})


def _element(window: Window, jumps: Counter[int]) -> str | None:
    return AMD64.arguments_reaching(window, jumps, GROWSLICE)[0]


def test_a_type_loaded_before_the_only_branch_in_reaches_the_call() -> None:
    assert _element(_window(*_COLLECT), _JUMPS) == "*m.T"


def test_a_target_with_a_way_in_from_outside_the_window_knows_nothing() -> None:
    # Another branch to 204 (a loop's, from after the call) may bring any SI.
    jumps = _JUMPS + Counter({204: 1})
    assert _element(_window(*_COLLECT), jumps) is None


def test_ways_in_keep_only_what_they_agree_on() -> None:
    # The skipped code falls through into the target: SI is known on both ways only
    # when both load the same type.
    same = (
        (10, "LEAQ\ttype:int(SB), SI"),
        (17, "JCS\t30"),
        (19, "LEAQ\ttype:int(SB), SI"),
        (26, "MOVL\t$1, DI"),
        (30, "MOVL\t$1, DI"),
    )
    jumps = Counter({30: 1})
    assert _element(_window(*same), jumps) == "int"
    other = (*same[:2], (19, "LEAQ\ttype:uint(SB), SI"), *same[3:])
    assert _element(_window(*other), jumps) is None


def test_code_after_a_jump_that_no_branch_names_knows_nothing() -> None:
    window = _window(
        (10, "LEAQ\ttype:int(SB), SI"),
        (17, "JMP\t90"),
        (19, "MOVL\t$1, DI"),
    )
    assert _element(window, Counter({90: 1})) is None


def test_a_jump_table_keeps_the_straight_line() -> None:
    """The cases of `JMP (DX)(AX*8)` are reached by no counted branch: a target whose
    counted branches are all seen may still be a case. The listing parser then reads
    only the straight line, which stops at the target."""
    assert jumps_through_register(["JCS\t204", "JMP\t(DX)(AX*8)"])
    assert jumps_through_register(["JMP\t(R27)"])
    assert not jumps_through_register(["JCS\t204", "JMP\t237"])
    body = [
        (0, "TEXT\tm.F(SB), ABIInternal, $120-24"),
        (4, "JMP\t(DX)(AX*8)"),
        *_COLLECT,
        (224, "CALL\truntime.growslice(SB)"),
        (229, "RET"),
    ]
    listing = [
        "m.F STEXT size=300 args=0x18 locals=0x78 funcid=0x0",
        *(f"\t0x{pc:04x} {pc:05d} (/m/m.go:17)\t{text}" for pc, text in body),
        "\t0x0000 49 3b 66 10                                      I;f.",
        "type:*m.T SRODATA dupok size=56",
        "\t0x0000 08 00 00 00 00 00 00 00 08 00 00 00 00 00 00 00  ................",
    ]
    (call,) = iter_alloc_calls(listing, Positions("/m", "/m"), "m")
    assert (call.entry, call.type) == ("growslice", None)
    # Without the jump table the same listing reaches the type.
    listing[2] = "\t0x0004 00004 (/m/m.go:17)\tNOP"
    (call,) = iter_alloc_calls(listing, Positions("/m", "/m"), "m")
    assert call.type == TypeInfo("*m.T", 8, 8)
