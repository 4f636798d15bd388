"""Machine code spelled as a `-S` listing (binary/goasm.py), and read by source mode's
reader of boxed types (parsers/boxedtype.py). The instructions are capstone's for code
go1.27.3 compiled: `fmt.Println(n)` boxing an int on amd64 (AT&T syntax) and
`abi.NewName`'s string on arm64."""

from __future__ import annotations

from escape_lens.binary.disasm import Disassembler, Insn
from escape_lens.binary.goasm import boxed_address, listing_lines
from escape_lens.parsers.boxedtype import boxed_type
from escape_lens.parsers.registers import AMD64, ARM64

ENTRY = 0x1000
INT_TYPE = 0x4A1B20
ITAB = 0x4C0000
STRINGER_TYPE = 0x4A2000


def _type_word(address: int) -> int | None:
    return {INT_TYPE: INT_TYPE, ITAB: STRINGER_TYPE}.get(address)


def _function_at(address: int) -> str | None:
    return {0x2000: "fmt.Println", 0x3000: "runtime.gcWriteBarrier2"}.get(address)


def test_amd64_operands_are_spelled_as_a_listing_spells_them() -> None:
    insns: list[Insn] = [
        (0x1005, 3, "movq", "%rax, %rbx"),
        (0x1008, 7, "leaq", f"{INT_TYPE - 0x100F:#x}(%rip), %rax"),
        (0x100F, 8, "movq", "%rcx, 0x28(%rsp)"),
        (0x1017, 5, "movl", "$0x1, %edi"),
        (0x101C, 4, "movq", "0x8(%rax,%rcx,8), %r8"),
        (0x1020, 7, "leaq", f"{ITAB - 0x1027:#x}(%rip), %r9"),
        (0x1027, 7, "movq", "0x10(%rip), %r10"),
        (0x102E, 2, "jne", "0x1040"),
        (0x1030, 5, "callq", "0x3000"),
        (0x1035, 5, "callq", "0x5000"),
        (0x103A, 1, "retq", ""),
    ]
    lines = listing_lines(insns, ENTRY, _function_at, _type_word)
    assert [line.split("\t", 2)[2] for line in lines] == [
        "MOVQ\tAX, BX",
        "LEAQ\ttype:T4a1b20(SB), AX",
        "MOVQ\tCX, 40(SP)",
        "MOVL\t$0x1, DI",
        "MOVQ\t8(AX)(CX*8), R8",
        "LEAQ\tgo:itab.T4a2000,interface(SB), R9",
        f"MOVQ\tmem+{0x1027 + 7 + 0x10}(SB), R10",
        "JNE\t64",
        "CALL\truntime.gcWriteBarrier2(SB)",
        "CALL\t0x5000",  # a function with no name: left as capstone gave it
        "RET",
    ]
    assert lines[0] == "\t0x0005 00005 (binary)\tMOVQ\tAX, BX"


def test_an_int_boxed_for_a_call_reads_as_in_a_listing() -> None:
    """After `CALL runtime.convT64`: the data word goes to BX, the type word to AX, the
    ABI's order for an `any` argument."""
    insns: list[Insn] = [
        (0x1005, 3, "movq", "%rax, %rbx"),
        (0x1008, 7, "leaq", f"{INT_TYPE - 0x100F:#x}(%rip), %rax"),
        (0x100F, 5, "callq", "0x2000"),
    ]
    lines = listing_lines(insns, ENTRY, _function_at, _type_word)
    assert boxed_address(boxed_type(lines, AMD64)) == INT_TYPE
    # A type word another call receives is not the boxed one.
    other = [(0x1005, 3, "movq", "%rax, 0x30(%rsp)"), *insns[1:], (0x1014, 5, "callq", "0x2000")]
    assert boxed_type(listing_lines(other, ENTRY, _function_at, _type_word), AMD64) is None


def test_an_interface_stored_on_the_stack_pairs_its_words() -> None:
    insns: list[Insn] = [
        (0x1005, 7, "leaq", f"{ITAB - 0x100C:#x}(%rip), %rcx"),
        (0x100C, 5, "movq", "%rcx, 0x28(%rsp)"),
        (0x1011, 5, "movq", "%rax, 0x30(%rsp)"),
        (0x1016, 5, "callq", "0x2000"),
    ]
    lines = listing_lines(insns, ENTRY, _function_at, _type_word)
    assert boxed_address(boxed_type(lines, AMD64)) == STRINGER_TYPE


def test_arm64_operands_come_destination_last_and_adrp_add_is_one_address() -> None:
    page, offset = INT_TYPE & ~0xFFF, INT_TYPE & 0xFFF
    insns: list[Insn] = [
        (0x1004, 4, "mov", "x1, x0"),
        (0x1008, 4, "adrp", f"x0, #{page:#x}"),
        (0x100C, 4, "add", f"x0, x0, #{offset:#x}"),
        (0x1010, 4, "bl", "#0x2000"),
        (0x1014, 4, "stp", "x0, x1, [sp, #8]"),
        (0x1018, 4, "str", "x2, [sp, #0x28]"),
        (0x101C, 4, "ldr", "x3, [x2, #8]"),
        (0x1020, 4, "ldp", "x0, x1, [sp, #8]"),
        (0x1024, 4, "mov", "x0, xzr"),
        (0x1028, 4, "b.ne", "#0x1040"),
        (0x102C, 4, "cbz", "x1, #0x1044"),
        (0x1030, 4, "add", "x1, x2, #8"),
        (0x1034, 4, "b", "#0x1000"),
    ]
    lines = listing_lines(insns, ENTRY, _function_at, _type_word, "arm64")
    assert [line.split("\t", 2)[2] for line in lines] == [
        "MOVD\tR0, R1",
        "MOVD\t$type:T4a1b20(SB), R0",
        "CALL\tfmt.Println(SB)",
        "STP\t(R0, R1), 8(RSP)",
        "MOVD\tR2, 40(RSP)",
        "MOVD\t8(R2), R3",
        "LDP\t8(RSP), (R0, R1)",
        "MOVD\tZR, R0",
        "BNE\t64",
        "CBZ\tR1, 68",
        "ADD\t$8, R2, R1",
        "JMP\t0",
    ]
    assert boxed_address(boxed_type(lines[:3], ARM64)) == INT_TYPE


def test_the_code_after_a_call_is_read_in_att_syntax_on_amd64() -> None:
    """`CALL rel32`, then `mov %rax, %rbx` and `lea 0x100(%rip), %rax` as bytes."""
    code = bytes.fromhex("e8000000004889c3488d0500010000")
    following = Disassembler("amd64", {}).following(code, ENTRY, ENTRY, 8)
    assert following == [
        (ENTRY + 5, 3, "movq", "%rax, %rbx"),
        (ENTRY + 8, 7, "leaq", "0x100(%rip), %rax"),
    ]
