"""The runtime agrees with the predictions that depend on a call's input: stack buffers,
channels sized at run time, a small map's first insert.

`fixtures/exact/cmd/measure` calls the corpus functions with inputs below, at and above
the buffers (testing.AllocsPerRun for objects per call, runtime.MemStats.TotalAlloc for
their size-class bytes); the sites escape-lens reports for the same build say how many
objects and bytes each input takes. go1.27.3 (pinned), go1.24.11 and go1.21.13.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.gonames import chan_elem
from escape_lens.model import chan_objects, first_insert_objects, predict, rules_for
from escape_lens.predict import first_insert, resolve_type
from escape_lens.records import Report, Site
from escape_lens.toolchain.process import go_environ
from escape_lens.vocab import NoteCode
from tests.conftest import FIXTURES, fetch_toolchain

pytestmark = pytest.mark.slow

EXACT = FIXTURES / "exact"

# The length in bytes of each buffered result, from the function's input n (the
# measure program's inputs: n ASCII bytes or runes, "z"/"w" as second operands).
RESULT_BYTES: dict[str, Callable[[int], int]] = {
    "BytesToString": lambda n: n,
    "StringToBytes": lambda n: n,
    "StringToRunes": lambda n: 4 * n,
    "RunesToString": lambda n: n,
    "Concat": lambda n: n + 1,
    "Concat3": lambda n: n + 2,
    "ContainsAny": lambda n: 4,
    "MakeInts": lambda n: 8 * n,
    "MakeBytes": lambda n: n,
    "ConcatLiteral": lambda n: n + len("-suffix"),
    "ConcatLongLiteral": lambda n: n + len("a literal longer than the stack buffer of 32 bytes"),
    "BytesConcat": lambda n: n + 1,
    "RuneString": lambda r: len(chr(r).encode()),
    "ConstBytes": lambda n: len("short"),
    "Concat4": lambda n: n + 3,
    "Concat5": lambda n: n + 4,
    "Concat6": lambda n: n + 5,
    "BytesConcat3": lambda n: n + 2,
    "BytesConcat6": lambda n: n + 5,
}


@pytest.fixture(scope="module", params=["pinned", "1.21.13", "1.24.11"])
def measured(
    request: pytest.FixtureRequest, pinned_go: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Report, list[dict[str, Any]]]:
    go = pinned_go if request.param == "pinned" else fetch_toolchain(str(request.param))
    binary = tmp_path_factory.mktemp("measure") / "measure"
    subprocess.run(
        [str(go), "build", "-o", str(binary), "./cmd/measure"],
        cwd=EXACT,
        env=go_environ(),
        check=True,
        timeout=300,
    )
    out = subprocess.run([str(binary)], capture_output=True, text=True, check=True, timeout=300)
    report = analyze_targets(["./stackbuf", "./chans", "./maps"], go=str(go), cwd=str(EXACT))
    return report, [json.loads(line) for line in out.stdout.splitlines()]


def _sites(report: Report, package: str, function: str) -> list[Site]:
    return [
        s
        for s in report.sites
        if s.package == f"example.com/exact/{package}" and s.function == function
    ]


def test_stack_buffers(measured: tuple[Report, list[dict[str, Any]]]) -> None:
    """Objects and bytes per call of every stack-buffer function, at every input size."""
    report, rows = measured
    rules = rules_for(report.toolchain.version)
    problems = []
    checked = set()
    for row in rows:
        package, function = row["function"].split(".")
        if package != "stackbuf":
            continue
        size = RESULT_BYTES[function](row["arg"])
        objects = []
        for site in _sites(report, package, function):
            if not site.allocates:
                continue
            if site.heap_above is None or size > site.heap_above:
                # slicerunetostring asks for 3 spare bytes (runtime/string.go)
                request = size + 3 if site.entry == "slicerunetostring" else size
                objects.append(predict(request, False, rules))
        if row["allocs"] != len(objects):
            problems.append(f"{row['function']}({row['arg']}): {row['allocs']} != {len(objects)}")
        elif all(p.path == "small" for p in objects):
            expected = sum(p.class_bytes for p in objects)
            if row["bytes"] != expected:
                problems.append(f"{row['function']}({row['arg']}): {row['bytes']} B != {expected}")
        checked.add(function)
    assert checked == set(RESULT_BYTES)
    assert not problems, f"{report.toolchain.version}:\n" + "\n".join(problems)


def test_buffered_sites_say_so(measured: tuple[Report, list[dict[str, Any]]]) -> None:
    report, _ = measured
    never = {s.function for s in _sites(report, "stackbuf", "RuneString")}
    assert never == {"RuneString"}
    assert all(not s.allocates for s in _sites(report, "stackbuf", "ContainsAny"))
    for function in ("BytesToString", "StringToBytes", "Concat", "ConcatLiteral"):
        (site,) = _sites(report, "stackbuf", function)
        assert site.heap_above == 32, site
        assert site.has_note(NoteCode.STACK_BUFFER)
        assert not site.has_note(NoteCode.STACK_YET_HEAP)
    (runes,) = _sites(report, "stackbuf", "StringToRunes")
    assert runes.heap_above == 128  # 32 runes


def test_dynamic_channels(measured: tuple[Report, list[dict[str, Any]]]) -> None:
    """The header is predicted whatever the size; header and buffer agree with the
    runtime for every size measured."""
    report, rows = measured
    rules = rules_for(report.toolchain.version)
    for row in rows:
        package, function = row["function"].split(".")
        if package != "chans":
            continue
        (site,) = _sites(report, package, function)
        assert site.type is not None
        assert site.prediction is not None
        elem = resolve_type(chan_elem(site.type.name) or "", {})
        assert elem is not None
        objects = chan_objects(elem.size, elem.pointers, row["arg"], rules)
        header = predict(*chan_objects(elem.size, elem.pointers, 0, rules)[0], rules)
        assert site.prediction == header, site
        predictions = [predict(size, pointers, rules) for size, pointers in objects]
        assert row["allocs"] == len(predictions), row
        assert row["bytes"] == sum(p.class_bytes for p in predictions), row


def test_first_inserts(measured: tuple[Report, list[dict[str, Any]]]) -> None:
    """A literal with entries: header and first group in the site; a make: the header,
    and the first insert's group named in its note, as the runtime allocates them."""
    report, rows = measured
    rules = rules_for(report.toolchain.version)
    by_function = {row["function"]: row for row in rows}
    for function in ("LiteralPtr", "LiteralStr"):
        (site,) = _sites(report, "maps", function)
        row = by_function[f"maps.{function}"]
        assert row["allocs"] == 1 + len(site.extra)
        assert row["bytes"] == site.class_bytes, site
    for function, inserts in (
        ("MakeSmall", False),
        ("FirstInsert", True),
        ("FirstInsertStr", True),
        ("FirstInsertIface", True),  # `map[string]interface {}{}`: braces in the type
        ("FirstInsertSet", True),
        ("FirstInsertDefined", True),  # `make(Counts)`: the package's defined map type
    ):
        (site,) = _sites(report, "maps", function)
        row = by_function[f"maps.{function}"]
        assert site.type is not None
        assert site.has_note(NoteCode.MAP_BUCKETS_LATER)
        first = first_insert(site.type.name, rules, {})
        if site.type.key is not None and site.type.elem is not None:
            key, elem = site.type.key, site.type.elem
            objects = first_insert_objects(key.size, key.pointers, elem.size, elem.pointers, rules)
            first = predict(*objects[0], rules)
        assert first is not None
        assert f"{first.requested_bytes}→{first.class_bytes} B" in site.note
        assert row["allocs"] == 1 + inserts
        assert row["bytes"] == site.class_bytes + (first.class_bytes if inserts else 0)
