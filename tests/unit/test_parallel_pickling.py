"""Records cross the parsing processes' pipes as their class and field values
(toolchain/parallel.py): they must come back equal, every field in its place."""

from __future__ import annotations

import pickle
import pickletools
from multiprocessing.reduction import ForkingPickler

from escape_lens.records import (
    AllocCall,
    EscapeDiagnostic,
    FieldInfo,
    FlowStep,
    FlowStepKind,
    JoinedPackage,
    Site,
    SourcePos,
    TypeInfo,
)
from escape_lens.toolchain import parallel
from escape_lens.vocab import EscapeKind

_FIELDS = (FieldInfo("s", "string", 0, 16), FieldInfo("n", "int", 16, 8))


def _site(line: int) -> Site:
    pos = SourcePos("/src/p/a.go", line, 7)
    struct = TypeInfo("p.T", 40, 16, fields=_FIELDS)
    step = FlowStep(pos, "flow: {heap} ← &T{}", FlowStepKind.HOP, "{heap}", "&T{}")
    return Site(
        pos=pos,
        package="p",
        function="p.f",
        construct="new",
        type=struct,
        count=3,
        diagnostic=EscapeDiagnostic(pos, EscapeKind.ESCAPES, "&T{}", "m", (step,), "p.f"),
        call=AllocCall(pos, "p.f", "newobject", struct, None, None, ("LEAQ\ttype:p.T(SB), AX",)),
        prediction=None,
    )


def test_records_come_back_equal_through_the_pipes_pickler() -> None:
    joined = JoinedPackage("p", sites=(_site(12), _site(14)), types=(TypeInfo("p.U", 8, 0),))
    back = pickle.loads(ForkingPickler.dumps({"p": (joined, [("probe", (), None)])}))
    assert back == {"p": (joined, [("probe", (), None)])}
    # (TypeInfo's fields are left out of its equality)
    assert [s.type.fields for s in back["p"][0].sites if s.type] == [_FIELDS, _FIELDS]


def test_records_are_pickled_by_their_values() -> None:
    assert parallel.MAX_JOBS  # (imported: its reducers are registered)
    data = bytes(ForkingPickler.dumps(SourcePos("a.go", 1, 2)))
    ops = [op.name for op, _, _ in pickletools.genops(data)]
    # A slotted dataclass's own pickling is a new object and its state (BUILD).
    assert "REDUCE" in ops
    assert "BUILD" not in ops
    assert pickle.loads(data) == SourcePos("a.go", 1, 2)
