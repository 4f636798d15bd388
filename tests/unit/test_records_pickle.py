"""Records survive the result cache's pickling unchanged, nested ones included."""

from __future__ import annotations

import pickle

from escape_lens.records import (
    AllocCall,
    EscapeDiagnostic,
    FlowStep,
    FunctionSpan,
    PackageOutput,
    SourcePos,
    TypeInfo,
)


def test_package_outputs_round_trip_through_pickle() -> None:
    pos = SourcePos("a/a.go", 7, 9)
    output = PackageOutput(
        "example.com/m/a",
        "/m/a",
        diagnostics=(
            EscapeDiagnostic(
                pos, "escapes", "&T{...}", "escapes to heap", (FlowStep(pos, "spill"),), "a.New"
            ),
        ),
        calls=(AllocCall(pos, "a.New", "newobject", TypeInfo("a.T", 16, 8), None, pos, ("CALL",)),),
        functions=(FunctionSpan("a.New", "example.com/m/a", "a/a.go", 6, 8),),
        types=(TypeInfo("a.T", 16, 8),),
    )
    again = pickle.loads(pickle.dumps(output, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == output
    assert type(again.calls[0].type) is TypeInfo
    assert again.diagnostics[0].flow[0].pos == pos
