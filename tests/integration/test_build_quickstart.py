"""compile_targets on the quickstart program with go1.21, go1.24 and the pinned go1.27."""

from __future__ import annotations

import pytest

from escape_lens.records import CompileOutput, GoToolchain, SourcePos, TypeInfo
from escape_lens.toolchain.build import compile_targets
from tests.conftest import FIXTURES
from tests.integration.build_helpers import MATRIX, toolchain

QUICKSTART = FIXTURES / "quickstart"


@pytest.fixture(scope="module", params=MATRIX)
def quickstart(request: pytest.FixtureRequest, pinned_toolchain: GoToolchain) -> CompileOutput:
    go = toolchain(str(request.param), pinned_toolchain)
    return compile_targets(go, ["main.go"], cwd=str(QUICKSTART))


def test_the_struct_allocation_is_found_with_its_type(quickstart: CompileOutput) -> None:
    (package,) = quickstart.packages
    assert package.error is None
    assert package.import_path == "command-line-arguments"
    assert package.dir == str(QUICKSTART)
    assert quickstart.root == str(QUICKSTART)
    (call,) = [c for c in package.calls if c.pos == SourcePos("main.go", 14)]
    assert call.function == "main.newSmallStruct"
    assert call.type == TypeInfo("main.smallStruct", 32, 0)
    # go1.27 calls the size-specialized entry for new(T) <= 80 bytes (docs/allocator.md §8)
    expected = "mallocgcSmallNoScanSC4" if quickstart.toolchain.version.minor >= 27 else "newobject"
    assert call.entry == expected
    assert call.call_pos is None
    assert any("type:main.smallStruct(SB)" in line for line in call.asm)


def test_the_escape_diagnostic_explains_it(quickstart: CompileOutput) -> None:
    (package,) = quickstart.packages
    (escape,) = [
        d
        for d in package.diagnostics
        if d.pos == SourcePos("main.go", 14, 9) and d.kind == "escapes"
    ]
    assert escape.subject == "&smallStruct{}"
    assert escape.function == "main.newSmallStruct"
    assert any(step.text.startswith("from return &smallStruct{}") for step in escape.flow)


def test_functions_and_command(quickstart: CompileOutput) -> None:
    (package,) = quickstart.packages
    spans = {f.name: f for f in package.functions}
    assert (spans["main.newSmallStruct"].first_line, spans["main.newSmallStruct"].last_line) == (
        13,
        14,
    )
    assert spans["main.main"].file == "main.go"
    assert quickstart.command[1:5] == ("list", "-e", "-export", "-deps")
    # Flags end with `--`: a target is never read as a flag.
    assert quickstart.command[-3:] == ("-gcflags=-m=2 -S", "--", str(QUICKSTART / "main.go"))
