"""What the argument registers hold at an allocation call, read from real listings."""

from __future__ import annotations

import re
from pathlib import Path

from escape_lens.records import GoToolchain, TypeInfo
from escape_lens.toolchain.build import compile_targets


def _module(root: Path, source: str) -> Path:
    root.mkdir()
    (root / "go.mod").write_text("module example.com/regs\n\ngo 1.21\n")
    (root / "p.go").write_text(source)
    return root


def test_a_type_compared_before_the_call_stays_in_its_register(
    tmp_path: Path, pinned_toolchain: GoToolchain
) -> None:
    # The type switch loads type:S into DX, compares it (`CMPQ AX, DX`), then passes it
    # to the allocation (`MOVQ DX, BX`): a comparison does not write DX.
    module = _module(
        tmp_path / "m",
        "package p\n\ntype S struct{ a, b, c, d, e, f, g *int }\n\nvar sink any\n\n"
        "func F(x any) {\n\tswitch v := x.(type) {\n\tcase S:\n\t\tsink = &v\n\t}\n}\n",
    )
    output = compile_targets(pinned_toolchain, ["."], cwd=str(module))
    (package,) = output.packages
    (call,) = [c for c in package.calls if c.function == "example.com/regs.F"]
    assert any(line.startswith("CMPQ\t") for line in call.asm)  # the case this is about
    assert call.type == TypeInfo("example.com/regs.S", 56, 56)


def test_a_boxed_value_has_the_type_the_interface_says(
    tmp_path: Path, pinned_toolchain: GoToolchain
) -> None:
    # convTstring takes a string, convT64 a uint64; the interface's type word, loaded
    # into the register before the one the data word is moved to (register ABI), names
    # the value's own type. In Put a generic dictionary and the key's type are loaded
    # first (sync.Map's Store inlined): the first type word after the call is not it.
    module = _module(
        tmp_path / "m",
        'package p\n\nimport "sync"\n\ntype Label string\n\ntype Celsius float64\n\n'
        "var m sync.Map\n\nfunc Put(k int, v Label) { m.Store(k, v) }\n\n"
        "func Temp(x float64) any { return Celsius(x) }\n",
    )
    output = compile_targets(pinned_toolchain, ["."], cwd=str(module))
    (package,) = output.packages
    boxed = sorted(
        (c.function.rpartition(".")[2], c.entry, c.boxed or "")
        for c in package.calls
        if c.entry.startswith("convT")
    )
    assert ("Put", "convTstring", "example.com/regs.Label") in boxed
    assert ("Temp", "convT64", "example.com/regs.Celsius") in boxed


def test_a_switch_arm_boxing_into_a_variable_has_its_own_type(
    pinned_toolchain: GoToolchain,
) -> None:
    # debug/dwarf's attribute decoding: each arm of a switch boxes `int64(b.uint8())` or
    # `Offset(b.uint32())` into `val` and jumps to where it is used, the pair in registers
    # of no ABI order (R11 and CX), the type word loaded several instructions later.
    source = Path(pinned_toolchain.goroot, "src", "debug", "dwarf", "entry.go").read_text()
    lines = source.splitlines()
    arms = [
        (number, re.fullmatch(r"\s*val = (int64|Offset)\(b\.uint(8|16|32|64)\(\)\).*", line))
        for number, line in enumerate(lines, 1)
        if lines[number - 2].strip().startswith("case form")
    ]
    wanted = {
        number: "int64" if found.group(1) == "int64" else "debug/dwarf.Offset"
        for number, found in arms
        if found is not None
    }
    assert len(wanted) >= 6
    output = compile_targets(pinned_toolchain, ["debug/dwarf"], cwd=str(Path.cwd()))
    (package,) = output.packages
    boxed = {
        c.pos.line: c.boxed
        for c in package.calls
        if c.entry.startswith("convT") and c.pos.file.endswith("debug/dwarf/entry.go")
    }
    assert {line: boxed.get(line) for line in wanted} == wanted
