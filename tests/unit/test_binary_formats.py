"""Binary-mode readers on hand-made inputs (no Go needed): each format's edge cases.

The real-binary tests are in tests/integration/test_binary_mode.py; these pin down the
encodings the Go sources define (cited per test) where a real binary of every shape is
not at hand (pre-1.18 build info, a branch into the middle of a call sequence).
"""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import pytest

from escape_lens.binary.buildinfo import MAGIC, parse_buildinfo
from escape_lens.binary.disasm import (
    Disassembler,
    asm_lines,
    iter_call_hits_amd64,
    iter_call_hits_arm64,
)
from escape_lens.binary.elf import open_elf
from escape_lens.binary.entries import EntrySpec, entry_spec
from escape_lens.binary.pclntab import MAGIC_GO120, PcLnTab
from escape_lens.binary.program import package_matcher, package_of
from escape_lens.crosscheck import Disagreement, cross_check, normalize_type_name
from escape_lens.errors import BinaryFormatError
from escape_lens.records import (
    AllocCall,
    GoToolchain,
    GoVersion,
    Prediction,
    Report,
    Site,
    SourcePos,
    TypeInfo,
)

_MODINFO = (
    "0123456789abcdef"  # cmd/go's 16-byte start sentinel
    "path\texample.com/m/cmd/x\n"
    "mod\texample.com/m\t(devel)\t\n"
    "dep\tgolang.org/x/sys\tv0.1.0\th1:abc\n"
    'build\t-ldflags="-s -w"\n'
    "build\tGOEXPERIMENT=noallocheaders,sizespecializedmalloc\n"
    "build\tGOARCH=amd64\n"
    "\n0123456789abcdef"  # and end sentinel, preceded by a newline
)


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append(n & 0x7F | 0x80)
        n >>= 7


def test_buildinfo_inline_format_go118() -> None:
    version = b"go1.24.11"
    blob = MAGIC + bytes([8, 2]) + bytes(16)
    blob += _uvarint(len(version)) + version + _uvarint(len(_MODINFO)) + _MODINFO.encode()
    info = parse_buildinfo(blob, lambda addr, size: b"")
    assert info.go_version == "go1.24.11"
    assert info.version == GoVersion(1, 24, 11)
    assert info.path == "example.com/m/cmd/x"
    assert info.module == "example.com/m"
    assert info.setting("-ldflags") == "-s -w"
    assert info.goexperiment == ("noallocheaders", "sizespecializedmalloc")
    assert info.goarch == "amd64"


def test_buildinfo_pointer_format_before_go118() -> None:
    """Header pointers to Go string headers (data pointer, length) elsewhere in memory."""
    memory = {
        0x1000: struct.pack("<QQ", 0x2000, 8),
        0x1010: struct.pack("<QQ", 0x3000, len(_MODINFO)),
        0x2000: b"go1.17.9",
        0x3000: _MODINFO.encode(),
    }

    def read_at(addr: int, size: int) -> bytes:
        data = memory[addr]
        assert len(data) >= size
        return data[:size]

    blob = MAGIC + bytes([8, 0]) + struct.pack("<QQ", 0x1000, 0x1010)
    info = parse_buildinfo(blob, read_at)
    assert info.go_version == "go1.17.9"
    assert info.module == "example.com/m"


def test_buildinfo_without_module_text() -> None:
    version = b"go1.27.3"
    blob = MAGIC + bytes([8, 2]) + bytes(16) + _uvarint(len(version)) + version + _uvarint(0)
    info = parse_buildinfo(blob, lambda addr, size: b"")
    assert (info.go_version, info.path, info.module, info.settings) == ("go1.27.3", "", "", ())


def test_buildinfo_truncated_is_an_error() -> None:
    version = b"go1.27.3"
    blob = MAGIC + bytes([8, 2]) + bytes(16) + _uvarint(len(version)) + version[:3]
    with pytest.raises(ValueError, match="truncated"):
        parse_buildinfo(blob, lambda addr, size: b"")


def _pclntab(pctab: bytes) -> PcLnTab:
    header = struct.pack("<IBBBB", MAGIC_GO120, 0, 0, 1, 8)
    header += struct.pack("<8Q", 0, 0, 0x1000, 72, 72, 72, 72, 72)
    return PcLnTab(header + pctab + bytes(16), 0x5000, "x")


def test_pcvalue_decoding() -> None:
    """runtime.step: zig-zag value delta, then pc delta x minLC; a 0 byte ends the table."""
    # value -1 -> 0 (uv 2) for 4 bytes, -> 2 (uv 4) for 3 bytes, -> 1 (uv 1: -1) for 0x81 bytes
    table = bytes([0x00, 0x02, 0x04, 0x04, 0x03, 0x01, 0x81, 0x01, 0x00])
    tab = _pclntab(table)
    ends, values = tab._pcvalue(1, 0x1000)
    assert ends == [0x1004, 0x1007, 0x1007 + 0x81]
    assert values == [0, 2, 1]


def test_old_pclntab_magic_names_the_go_version() -> None:
    data = struct.pack("<IBBBB", 0xFFFFFFFA, 0, 0, 1, 8) + bytes(64)
    with pytest.raises(BinaryFormatError, match=r"Go 1\.16-1\.17"):
        PcLnTab(data, 0, "old")


def test_pclntab_too_many_functions_is_an_error() -> None:
    header = struct.pack("<IBBBB", MAGIC_GO120, 0, 0, 1, 8)
    header += struct.pack("<8Q", 10**6, 0, 0, 72, 72, 72, 72, 72)
    with pytest.raises(BinaryFormatError, match=r"corrupt \.gopclntab"):
        PcLnTab(header, 0, "bad")


@pytest.mark.parametrize(
    ("symbol", "package"),
    [
        ("main.main", "main"),
        ("example.com/m/pkg.(*T).Method", "example.com/m/pkg"),
        ("main.Stack[go.shape.int].Push", "main"),
        ("example.com/m/p.F[example.com/x/y.T]", "example.com/m/p"),
        ("gopkg.in/yaml%2ev3.Unmarshal", "gopkg.in/yaml.v3"),
        ("type:.eq.main.point", ""),
        ("go:buildid", ""),
        ("go.uber.org/zap.New", "go.uber.org/zap"),
        ("go.uber.org/zap/zapcore.(*Entry).Write", "go.uber.org/zap/zapcore"),
    ],
)
def test_package_of(symbol: str, package: str) -> None:
    assert package_of(symbol) == package


def test_package_patterns() -> None:
    matcher = package_matcher(["main", "example.com/m/..."])
    assert matcher.match("main")
    assert matcher.match("example.com/m")
    assert matcher.match("example.com/m/a/b")
    assert not matcher.match("example.com/mod")
    assert not matcher.match("mainx")
    assert package_matcher(["..."]).match("runtime")
    assert package_matcher(["net/..."]).match("net")
    assert not package_matcher(["net/..."]).match("network")


def test_entry_spec() -> None:
    assert entry_spec("runtime.newobject") == ("newobject", EntrySpec(type_arg=0))
    spec = entry_spec("runtime.mallocgcSmallScanNoHeaderSC3")
    assert spec is not None
    assert (spec[1].type_arg, spec[1].count_arg) == (1, 0)
    assert entry_spec("runtime.mallocgcTiny") is None  # the runtime's own helper
    assert entry_spec("runtime.concatstring6") is None
    assert entry_spec("main.newobject") is None


def _entries() -> dict[int, tuple[str, EntrySpec]]:
    found = {}
    for addr, name in (
        (0x41CDC0, "runtime.mallocgcSmallScanNoHeaderSC3"),
        (0x47A460, "runtime.makeslice"),
    ):
        spec = entry_spec(name)
        assert spec is not None
        found[addr] = spec
    return found


def _call(pc: int, target: int) -> bytes:
    return b"\xe8" + struct.pack("<i", target - (pc + 5))


def test_amd64_call_site_type_and_size() -> None:
    """The shape go1.27.3 emits for `&point{}`: size in AX, type in BX, needzero in CX."""
    base = 0x499E00
    code = bytes.fromhex("b818000000")  # mov eax, 0x18
    code += bytes.fromhex("488d1d00100000")  # lea rbx, [rip + 0x1000]
    lea_end = base + len(code)
    code += bytes.fromhex("b901000000") + b"\x90"  # mov ecx, 1; nop
    code += _call(base + len(code), 0x41CDC0)
    disasm = Disassembler("amd64", _entries())
    (call,) = disasm.iter_calls(code, base)
    assert call.entry == "mallocgcSmallScanNoHeaderSC3"
    assert call.type_addr == lea_end + 0x1000
    assert call.count == 0x18
    lines = asm_lines(call)
    assert lines[0] == f"{base:#x}: mov eax, 0x18"
    assert lines[-1].endswith("call runtime.mallocgcSmallScanNoHeaderSC3")


def test_amd64_register_copy_and_branch_barrier() -> None:
    """`mov ebx, 10; mov ecx, ebx` gives cap 10; a jump into the sequence hides it."""
    base = 0x1000
    code = bytes.fromhex("488d0500200000")  # lea rax, [rip + 0x2000]
    code += bytes.fromhex("bb0a000000")  # mov ebx, 10
    code += bytes.fromhex("89d9")  # mov ecx, ebx
    code += _call(base + len(code), 0x47A460)
    disasm = Disassembler("amd64", _entries())
    (call,) = disasm.iter_calls(code, base)
    assert (call.entry, call.count) == ("makeslice", 10)
    assert call.type_addr == base + 7 + 0x2000
    # Prefix a jump to the `mov ecx, ebx`: ebx may come from elsewhere on that path.
    jump = bytes.fromhex("eb0c")  # jmp +12 -> the mov ecx, ebx (2 + 7 + 5 = 14 = 2 + 12)
    moved = jump + code
    (call,) = Disassembler("amd64", _entries()).iter_calls(
        moved[:-5] + _call(base + len(moved) - 5, 0x47A460), base
    )
    assert call.count is None
    assert call.type_addr is None


def test_compares_and_stores_do_not_set_the_traced_register() -> None:
    """`cmp rbx, 5` reads rbx (amd64); `str x1, [x0]` reads x1 (arm64)."""
    base = 0x1000
    code = bytes.fromhex("488d0500200000")  # lea rax, [rip + 0x2000]
    code += bytes.fromhex("bb0a000000")  # mov ebx, 10
    code += bytes.fromhex("89d9")  # mov ecx, ebx
    code += bytes.fromhex("4883fb05")  # cmp rbx, 5
    code += bytes.fromhex("4885c9")  # test rcx, rcx
    code += _call(base + len(code), 0x47A460)
    (call,) = Disassembler("amd64", _entries()).iter_calls(code, base)
    assert (call.count, call.type_addr) == (10, base + 7 + 0x2000)
    arm_base = 0x20000
    words = [
        0x90000000,  # adrp x0, page
        0x91000000,  # add x0, x0, #0
        0xD2800142,  # mov x2, #0xa
        0xF9000002,  # str x2, [x0]
        0x94000000 | ((0x47A460 - (arm_base + 16)) // 4 & 0x3FFFFFF),  # bl makeslice
    ]
    (arm,) = Disassembler("arm64", _entries()).iter_calls(struct.pack("<5I", *words), arm_base)
    assert arm.count == 10


def test_e8_inside_another_instruction_is_not_a_call() -> None:
    target = 0x41CDC0
    base = 0x2000
    # mov eax, imm32 whose immediate bytes spell `e8 rel32`... the rel32 cannot fit in
    # 4 bytes after e8 inside a 5-byte mov, so use a 10-byte movabs rax, imm64.
    rel = struct.pack("<i", target - (base + 2 + 5))
    code = b"\x48\xb8" + b"\xe8" + rel + b"\x00\x00\x00"
    hits = list(iter_call_hits_amd64(code, base, {target: "x"}))
    assert hits == [base + 2]
    assert list(Disassembler("amd64", _entries()).iter_calls(code, base)) == []


def test_arm64_call_site() -> None:
    """ADRP x1 + ADD x1 for the type, MOVZ x0 for the size, BL to the entry."""
    base = 0x10000
    words = [
        0xD2800300,  # mov x0, #0x18
        0x90000001 | (1 << 29),  # adrp x1, page + 0x1000 (immlo = 1 -> +1 page... see below)
        0x91010021,  # add x1, x1, #0x40
        0x94000000 | ((0x41CDC0 - (base + 12)) // 4 & 0x3FFFFFF),  # bl target
    ]
    code = struct.pack("<4I", *words)
    hits = list(iter_call_hits_arm64(code, base, {0x41CDC0: "x"}))
    assert hits == [base + 12]
    (call,) = Disassembler("arm64", _entries()).iter_calls(code, base)
    assert call.entry == "mallocgcSmallScanNoHeaderSC3"
    assert call.count == 0x18
    # ADRP with immlo=1: (pc & ~0xfff) + (1 << 12) pages.
    assert call.type_addr == ((base + 4) & ~0xFFF) + 0x1000 * 1 + 0x40


def test_arm64_constant_built_with_movk() -> None:
    """`mov x2, #0xfffb; movk x2, #4, lsl #16` is 0x4fffb (cmd/go's compress/flate)."""
    base = 0x20000
    words = [
        0x90000000,  # adrp x0, page
        0x91000000,  # add x0, x0, #0
        0xD29FFF62,  # mov x2, #0xfffb
        0xF2A00082,  # movk x2, #4, lsl #16
        0x94000000 | ((0x47A460 - (base + 16)) // 4 & 0x3FFFFFF),  # bl makeslice
    ]
    code = struct.pack("<5I", *words)
    (call,) = Disassembler("arm64", _entries()).iter_calls(code, base)
    assert call.entry == "makeslice"
    assert call.count == 0x4FFFB
    assert call.type_addr == base & ~0xFFF


def test_non_elf_and_bad_elf_files(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("hello")
    with pytest.raises(BinaryFormatError, match="not an ELF binary"):
        open_elf(text)
    short = tmp_path / "short"
    short.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(20))
    with pytest.raises(BinaryFormatError, match="truncated ELF"):
        open_elf(short)
    elf32 = tmp_path / "elf32"
    header = b"\x7fELF\x01\x01\x01" + bytes(9)
    header += struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, 0, 0, 0, 0, 52, 0, 0, 40, 0, 0)
    elf32.write_bytes(header)
    with pytest.raises(BinaryFormatError, match="32-bit"):
        open_elf(elf32)
    with pytest.raises(BinaryFormatError, match="cannot read"):
        open_elf(tmp_path / "missing")
    riscv = tmp_path / "riscv64"
    header = b"\x7fELF\x02\x01\x01" + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", 2, 243, 1, 0, 0, 0, 0, 64, 56, 0, 64, 0, 0)
    riscv.write_bytes(header)
    with pytest.raises(BinaryFormatError, match="architecture RISCV is not supported"):
        open_elf(riscv)


def test_normalize_type_name() -> None:
    assert normalize_type_name("*example.com/m/shapes.Rect") == "*Rect"
    assert normalize_type_name("*shapes.Rect") == "*Rect"
    assert normalize_type_name("encoding/json/v2.SemanticError") == "SemanticError"
    assert normalize_type_name("json.SemanticError") == "SemanticError"
    assert normalize_type_name("map[example.com/a.K][]gopkg.in/x.v3.T") == "map[K][]T"
    assert normalize_type_name("map[a.K][]x.T") == "map[K][]T"
    assert normalize_type_name("noalg.struct { F uintptr; X0 *int }") == (
        "struct { F uintptr; X0 *int }"
    )
    assert normalize_type_name("struct { F uintptr; X0 *main.point }") == (
        "struct { F uintptr; X0 *point }"
    )
    assert normalize_type_name("[3]int64") == "[3]int64"
    assert normalize_type_name("cmd/go/internal/modload.dedupKey·1") == "dedupKey"
    assert normalize_type_name("main.Stack[go.shape.int]") == "Stack[int]"
    assert normalize_type_name("*net.C.struct_addrinfo") == normalize_type_name(
        "*net._Ctype_struct_addrinfo"
    )


def _site(line: int, entry: str, type_name: str, size: int, size_class: int) -> Site:
    prediction = Prediction("small", size_class, 32, 0, 2 * size_class, 1, 256, 0, size)
    info = TypeInfo(type_name, size, 0)
    call = AllocCall(SourcePos("main.go", line), "main.f", entry, info)
    return Site(
        SourcePos("main.go", line, 9),
        "example.com/m",
        "f",
        "new",
        info,
        None,
        None,
        call,
        prediction,
    )


def _report(*sites: Site) -> Report:
    toolchain = GoToolchain("go", GoVersion(1, 27, 3), "linux", "amd64")
    return Report("0", toolchain, ("example.com/m",), sites)


def test_cross_check_agreement_and_each_kind_of_disagreement() -> None:
    a = _site(14, "newobject", "example.com/m.smallStruct", 32, 4)
    b = _site(14, "newobject", "m.smallStruct", 32, 4)
    assert cross_check(_report(a), _report(b)) == []
    wrong_class = _site(14, "newobject", "m.smallStruct", 32, 5)
    (diff,) = cross_check(_report(a), _report(wrong_class))
    assert diff.what == "class"
    assert str(diff) == "main.go:14 f newobject: class differs: source 4, binary 5"
    assert "\n" not in str(diff)
    wrong_type = _site(14, "newobject", "m.other", 32, 4)
    assert [d.what for d in cross_check(_report(a), _report(wrong_type))] == ["type"]
    missing = cross_check(_report(a, _site(20, "makeslice", "int", 8, 1)), _report(b))
    assert [d.what for d in missing] == ["missing-in-binary"]
    assert "\n" not in str(missing[0])
    assert "the binary has not" in str(missing[0])
    extra = cross_check(_report(a), _report(b, _site(20, "makeslice", "int", 8, 1)))
    assert [d.what for d in extra] == ["missing-in-source"]
    assert isinstance(extra[0], Disagreement)


def test_cross_check_ignores_functions_missing_from_one_side() -> None:
    """The linker drops functions nobody calls; their source sites are not disagreements."""
    a = _site(14, "newobject", "example.com/m.smallStruct", 32, 4)
    dropped = replace(_site(30, "newobject", "example.com/m.T", 16, 2), function="unused")
    assert cross_check(_report(a, dropped), _report(a)) == []


def test_cross_check_pairs_calls_on_one_line_by_identity() -> None:
    """Two allocations on one line: source lists them by column, binary by address."""
    first = _site(60, "newobject", "example.com/m.Response", 256, 11)
    second = _site(60, "newobject", "io.PipeWriter", 64, 8)
    assert cross_check(_report(first, second), _report(second, first)) == []


def test_cross_check_count_differs() -> None:
    source = replace(_site(9, "makeslice", "uint8", 1, 0), count=None)
    binary = replace(_site(9, "makeslice", "uint8", 1, 44), count=4096)
    (diff,) = cross_check(_report(source), _report(binary))
    assert diff.what == "count"
    assert str(diff) == "main.go:9 f makeslice: count differs: source not constant, binary 4096"
