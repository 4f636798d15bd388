"""Corrupted baselines and reports, fed to the readers and to what uses what they read
(issue 13). Each file starts as a real report of fixtures/checkmod (made once with the
real compiler); hypothesis flips bytes, truncates, replaces values anywhere in the
document with other JSON (wrong types, huge numbers, deep nesting), or drops keys. The
reader either gives a Report that `diff` and the gate then use without failing, or says
in one ReportFormatError line what is wrong: never another exception.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from escape_lens.analyze import analyze_targets
from escape_lens.diff import diff_reports
from escape_lens.errors import ReportFormatError
from escape_lens.gate.baseline import load_baseline, render_baseline
from escape_lens.gate.config import parse_config_file
from escape_lens.gate.directives import Directives
from escape_lens.gate.evaluate import evaluate
from escape_lens.records import Report
from escape_lens.reporters import check_reporter, diff_reporter
from escape_lens.reporters.json_report import read_report, write_report
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow

CHECKMOD = FIXTURES / "checkmod"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory, pinned_go: Path) -> tuple[Report, str, str]:
    """(the report, its JSON, its baseline JSON) of fixtures/checkmod."""
    module = tmp_path_factory.mktemp("fuzz") / "checkmod"
    shutil.copytree(CHECKMOD, module)
    report = analyze_targets(["./..."], go=str(pinned_go), cwd=str(module))
    path = module / "report.json"
    with path.open("w", encoding="utf-8") as out:
        write_report(report, out)
    config = parse_config_file(str(module / "escape-lens.toml"))
    directives = Directives(frozenset({"example.com/checkmod/codec.Checksum"}), ())
    return report, path.read_text(), render_baseline(report, config, directives)


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(1 << 70), max_value=1 << 70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


def _set(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return document


def _drop(document: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return document
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return document


@st.composite
def corrupted(draw: st.DrawFn, text: str) -> bytes:
    kind = draw(st.sampled_from(["flip", "truncate", "replace", "drop", "nest"]))
    data = text.encode()
    if kind == "flip":
        flips = draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=8))
        mutable = bytearray(data)
        for index in flips:
            mutable[index] ^= draw(st.integers(1, 255))
        return bytes(mutable)
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    document = json.loads(text)
    path = draw(st.sampled_from(_paths(document)))
    if kind == "replace":
        document = _set(document, path, draw(JSON_VALUES))
    elif kind == "drop":
        document = _drop(document, path)
    else:
        depth = draw(st.sampled_from([50, 900, 5000, 200_000]))
        nested: Any = []
        for _ in range(min(depth, 900)):
            nested = [nested]
        document = _set(document, path, nested)
        if depth > 900:
            encoded = json.dumps(document)
            return encoded.replace("[]", "[" * depth + "]" * depth, 1).encode()
    return json.dumps(document).encode()


def _use(report: Report, real: Report) -> None:
    """What escape-lens does with a report it read: diff it, gate against it."""
    result = diff_reports(report, real)
    for name in ("text", "json"):
        diff_reporter(name).render_diff(report, real, result, _Sink())
    reverse = diff_reports(real, report)
    diff_reporter("text").render_diff(real, report, reverse, _Sink())
    config = parse_config_file(str(CHECKMOD / "escape-lens.toml"))
    checked = evaluate(real, config, Directives(frozenset(), ()), report, "baseline.json")
    for name in ("text", "json", "sarif", "github"):
        check_reporter(name).render_check(checked, _Sink())


class _Sink:
    def write(self, text: str) -> int:
        return len(text)


def _read_each(reader: Callable[[str], Report], data: bytes, tmp_path: Path, real: Report) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(data)
    try:
        report = reader(str(path))
    except ReportFormatError as exc:
        message = str(exc)
        assert message.startswith(str(path)), message
        assert "\n" not in message.strip(), message
        event("refused")
        return
    event("read and used")
    _use(report, real)


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("kind", ["report", "baseline"])
@FUZZ
@given(data=st.data())
def test_corrupted_reports_and_baselines(
    real: tuple[Report, str, str], tmp_path: Path, kind: str, data: st.DataObject
) -> None:
    report, text, baseline = real
    if kind == "report":
        _read_each(read_report, data.draw(corrupted(text)), tmp_path, report)
    else:
        _read_each(load_baseline, data.draw(corrupted(baseline)), tmp_path, report)
