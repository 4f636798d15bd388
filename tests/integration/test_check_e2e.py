"""`escape-lens check` and `baseline` end to end, with the real compiler on fixtures/checkmod.

Each test copies the fixture module into its own tmp_path, edits the Go source or the
configuration, and runs the CLI in-process. The baseline is made once per session from
the unedited module (it holds no machine paths, so it is valid for every copy).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from escape_lens.cli import main
from tests.conftest import FIXTURES, fetch_toolchain

pytestmark = pytest.mark.slow

CHECKMOD = FIXTURES / "checkmod"
CODEC = "codec/codec.go"
BASELINE = "escape-lens.baseline.json"


def _run(
    capsys: pytest.CaptureFixture[str], go: Path, command: str, *args: str
) -> tuple[int, str, str]:
    code = main([command, *args, "--go", str(go)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="session")
def baseline_text(tmp_path_factory: pytest.TempPathFactory, pinned_go: Path) -> str:
    module = tmp_path_factory.mktemp("checkmod-baseline") / "checkmod"
    shutil.copytree(CHECKMOD, module)
    code = main(["baseline", str(module / "..."), "--go", str(pinned_go)])
    assert code == 0
    return (module / BASELINE).read_text()


@pytest.fixture
def module(tmp_path: Path, baseline_text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "checkmod"
    shutil.copytree(CHECKMOD, root)
    (root / BASELINE).write_text(baseline_text)
    monkeypatch.chdir(root)
    return root


def _edit(module: Path, old: str, new: str, path: str = CODEC) -> None:
    source = (module / path).read_text()
    assert source.count(old) == 1, old
    (module / path).write_text(source.replace(old, new))


def _line_of(module: Path, text: str, path: str = CODEC) -> int:
    lines = (module / path).read_text().splitlines()
    [index] = [i for i, line in enumerate(lines) if text in line]
    return index + 1


def _findings(out: str) -> list[tuple[str, int, str]]:
    """(rule, line, message) of each text finding line."""
    found = []
    for line in out.splitlines():
        match = re.match(r"^(\S+?):(\d+)(?::\d+)?: (?:error|warning|note): (EL\d{3}) (.*)$", line)
        if match:
            found.append((match.group(3), int(match.group(2)), match.group(4)))
    return found


NEW_ALLOC = "\tvar sum uint32\n"
NEW_ALLOC_WITH = "\tvar sum uint32\n\tsink = new([4]uint64)\n"


def test_baseline_is_sorted_hot_only_and_machine_independent(baseline_text: str) -> None:
    data = json.loads(baseline_text)
    assert data["kind"] == "baseline"
    assert data["root"] == ""
    assert data["toolchain"]["path"] == ""
    functions = {(s["function"], s["expr"]) for s in data["sites"]}
    # Encode is hot by pattern; Clone and Buffer are not hot: not in the baseline.
    assert functions == {("(*Encoder).Encode", "window"), ("(*Encoder).Encode", "&Record{...}")}
    lines = [(s["file"], s["line"], s["column"]) for s in data["sites"]]
    assert lines == sorted(lines)
    assert all(s["asm"] == [] and s["fingerprint"] for s in data["sites"])
    assert "time" not in baseline_text.lower()


def test_unchanged_module_passes(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    code, out, err = _run(capsys, pinned_go, "check")
    assert code == 0, out + err
    assert _findings(out) == []
    assert "2 hot-path heap sites checked against escape-lens.baseline.json" in out
    assert "note:" not in out


def test_hot_function_gains_an_allocation(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    # Checksum is hot through its //escape-lens:hot comment, not through the config.
    _edit(module, NEW_ALLOC, NEW_ALLOC_WITH)
    line = _line_of(module, "sink = new([4]uint64)")
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 1
    [(rule, at, message)] = _findings(out)
    assert (rule, at) == ("EL001", line)
    assert "example.com/checkmod/codec.Checksum" in message
    assert "32 B small" in message
    assert f"{CODEC}:{line}:" in out


def test_line_shift_passes(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _edit(
        module,
        "// Encode keeps",
        "\n\n// Unrelated comment lines\n// pushed the code down.\n\n// Encode keeps",
    )
    _edit(module, "\te.last = &Record", "\n\t// a comment inside the function\n\te.last = &Record")
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0
    assert _findings(out) == []


def test_renamed_local_passes(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _edit(
        module,
        "\tvar window [16]byte\n\te.scratch = window[:]",
        "\tvar buf [16]byte\n\te.scratch = buf[:]",
    )
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0
    assert _findings(out) == []


def test_reordered_functions_pass(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    source = (module / CODEC).read_text()
    encode = source[source.index("// Encode keeps") : source.index("// Reset does")]
    reset = source[source.index("// Reset does") : source.index("// Checksum does")]
    (module / CODEC).write_text(source.replace(encode + reset, reset + encode))
    assert (module / CODEC).read_text() != source
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0
    assert _findings(out) == []


def test_suppression_with_reason_passes(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _edit(
        module,
        NEW_ALLOC,
        "\tvar sum uint32\n\t//escape-lens:allow one small object per call, measured\n"
        "\tsink = new([4]uint64)\n",
    )
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0
    assert _findings(out) == []


def test_trailing_suppression_passes(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _edit(
        module, NEW_ALLOC, "\tvar sum uint32\n\tsink = new([4]uint64) //escape-lens:allow cached\n"
    )
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0
    assert _findings(out) == []


def test_suppression_without_reason_is_a_finding(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _edit(module, NEW_ALLOC, "\tvar sum uint32\n\t//escape-lens:allow\n\tsink = new([4]uint64)\n")
    directive = _line_of(module, "//escape-lens:allow")
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 1
    rules = {(rule, line) for rule, line, _ in _findings(out)}
    # The directive accepts nothing: the allocation is still new.
    assert rules == {("EL006", directive), ("EL001", directive + 1)}


def test_unused_suppression_is_reported(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _edit(module, NEW_ALLOC, "\t//escape-lens:allow left over from an old version\n" + NEW_ALLOC)
    directive = _line_of(module, "//escape-lens:allow")
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0  # a warning does not fail the gate
    [(rule, line, message)] = _findings(out)
    assert (rule, line) == ("EL005", directive)
    assert f"no heap allocation on line {directive + 1}" in message
    assert "1 warning," in out


def test_bigger_struct_crossing_a_size_class_grew(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _edit(module, "\tTags []string\n}", "\tTags []string\n\tHash [2]int64\n}")
    line = _line_of(module, "e.last = &Record")
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 1
    [(rule, at, message)] = _findings(out)
    assert (rule, at) == ("EL002", line)
    assert "grew" in message
    assert "48 B small (class 5) -> 64 B small (class 6)" in message


def test_smaller_struct_is_an_improvement(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _edit(module, "\tvar window [16]byte", "\tvar window [8]byte")
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0
    [(rule, _, message)] = _findings(out)
    assert rule == "EL007"
    # 8 noscan bytes go to the tiny allocator (a 16-byte block shared by tiny objects).
    assert "16 B small (class 2) -> 16 B tiny" in message


def test_removed_allocation_is_an_improvement(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _edit(module, "\tvar window [16]byte\n\te.scratch = window[:]\n", "")
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0
    [(rule, _, message)] = _findings(out)
    assert rule == "EL007"
    assert "gone" in message
    assert "1 improvement\n" in out


def _config(module: Path, text: str) -> None:
    (module / "escape-lens.toml").write_text(text)


def test_budget_exceeded(capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path) -> None:
    _config(
        module,
        'hot = ["example.com/checkmod/codec.(*Encoder).*"]\n\n[[budget]]\n'
        'function = "example.com/checkmod/codec.(*Encoder).Encode"\nmax-sites = 1\n'
        "max-bytes = 32\n",
    )
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 1
    found = _findings(out)
    messages = [m for rule, _, m in found if rule == "EL003"]
    assert len(messages) == 2, out
    assert any("has 2 heap allocation sites, budget max-sites = 1" in m for m in messages)
    assert any("allocates 64 B per call" in m and "max-bytes = 32" in m for m in messages)
    assert all("escape-lens.toml:3" in m for m in messages)


def test_budget_none(capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path) -> None:
    _config(module, '[[budget]]\nfunction = "example.com/checkmod/codec.Clone"\nnone = true\n')
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 1
    # Clone became hot through its budget: its site is also new against the baseline,
    # one cause, so one finding (the budget's: a new baseline would not lift it).
    [(rule, line, message)] = _findings(out)
    assert (rule, line) == ("EL003", _line_of(module, "c := *r"))
    assert "must not allocate" in message
    assert message.endswith("; also new against the baseline")
    assert "next (EL003): " in out
    assert "next: remove the allocation, or accept it" not in out


def test_forbidden_large_path(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _config(
        module,
        '[[budget]]\nfunction = "example.com/checkmod/codec.Buffer"\nforbid = ["large"]\n',
    )
    (module / BASELINE).unlink()
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 1
    [(rule, line, message)] = _findings(out)
    assert (rule, line) == ("EL004", _line_of(module, "make([]byte, 64<<10)"))
    assert "forbidden large path" in message
    assert "65536 B large" in message


def test_invalid_config_exits_2_naming_file_and_line(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _config(
        module,
        'hot = ["example.com/checkmod/codec.F"]\n\n[[budget]]\nfunction = "x.F"\nmax-sitez = 1\n',
    )
    code, out, err = _run(capsys, pinned_go, "check")
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        "escape-lens: error: escape-lens.toml:5: budget[0].max-sitez: unknown key "
        "(known: forbid, function, max-bytes, max-sites, none)"
    ]


def test_explicit_config_and_pyproject(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    (module / "escape-lens.toml").unlink()
    (module / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.escape-lens]\nbaseline = "escape-lens.baseline.json"\n'
        'hot = ["example.com/checkmod/codec.(*Encoder).Encode"]\n'
    )
    _edit(module, "\tTags []string\n}", "\tTags []string\n\tHash [2]int64\n}")
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 1
    assert [rule for rule, _, _ in _findings(out)] == ["EL002"]
    other = module / "other.toml"
    other.write_text('hot = ["example.com/checkmod/codec.(*Encoder).Reset"]\n')
    code, out, _ = _run(capsys, pinned_go, "check", "--config", str(other), "--baseline", BASELINE)
    # Encode is no longer hot: its baseline sites are ignored, Reset does not allocate.
    assert code == 0
    assert _findings(out) == []


def test_exit_zero(capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path) -> None:
    _edit(module, NEW_ALLOC, NEW_ALLOC_WITH)
    code, out, _ = _run(capsys, pinned_go, "check", "--exit-zero")
    assert code == 0
    assert [rule for rule, _, _ in _findings(out)] == ["EL001"]
    assert "FAIL" in out


def test_without_baseline_only_budgets(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    (module / BASELINE).unlink()
    _edit(module, NEW_ALLOC, NEW_ALLOC_WITH)
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0
    assert _findings(out) == []
    assert "run `escape-lens baseline`" in out
    code, _, err = _run(capsys, pinned_go, "check", "--baseline", "missing.json")
    assert code == 2
    assert "missing.json: no such baseline file" in err


def test_github_format(capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path) -> None:
    _edit(module, NEW_ALLOC, NEW_ALLOC_WITH)
    _edit(module, "\tvar window [16]byte", "\tvar window [8]byte")
    line = _line_of(module, "sink = new([4]uint64)")
    code, out, _ = _run(capsys, pinned_go, "check", "--format", "github")
    assert code == 1
    lines = out.splitlines()
    errors = [entry for entry in lines if entry.startswith("::error ")]
    assert len(errors) == 1
    assert re.match(
        rf"^::error file={CODEC},line={line},col=\d+,title=EL001 new-allocation::new heap",
        errors[0],
    )
    # Messages with ':' and ',' stay intact in the data part; property values are escaped.
    assert "%3A" not in errors[0].split("::")[2]
    notices = [entry for entry in lines if entry.startswith("::notice ")]
    assert len(notices) == 1
    assert "title=EL007 improvement" in notices[0]


def test_output_file(capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path) -> None:
    _edit(module, NEW_ALLOC, NEW_ALLOC_WITH)
    code, out, _ = _run(capsys, pinned_go, "check", "--format", "json", "-o", "result.json")
    assert code == 1
    data = json.loads((module / "result.json").read_text())
    assert data["passed"] is False
    [finding] = data["findings"]
    assert finding["rule"] == "EL001"
    assert finding["name"] == "new-allocation"
    assert finding["site"]["expr"] == "new([4]uint64)"
    # The human summary still goes to stdout.
    assert "escape-lens check: FAIL" in out


def test_config_targets_from_a_subdirectory(
    capsys: pytest.CaptureFixture[str],
    module: Path,
    pinned_go: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (module / "escape-lens.toml").read_text()
    (module / "escape-lens.toml").write_text('targets = ["./codec"]\n' + text)
    _edit(module, "\tTags []string\n}", "\tTags []string\n\tHash [2]int64\n}")
    monkeypatch.chdir(module / "codec")
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 1
    assert [rule for rule, _, _ in _findings(out)] == ["EL002"]
    # `baseline -o` writes where it is told, and check then passes against it.
    code, out, _ = _run(capsys, pinned_go, "baseline", "-o", str(module / "new-baseline.json"))
    assert code == 0
    assert "wrote 2 hot-path heap sites" in out
    code, out, _ = _run(capsys, pinned_go, "check", "--baseline", str(module / "new-baseline.json"))
    assert code == 0
    assert _findings(out) == []


def test_no_hot_functions_says_so(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _config(module, "")
    _edit(module, "//escape-lens:hot\n", "")
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0
    assert "note: no hot functions" in out
    assert "0 hot-path heap sites checked" in out


def test_check_with_go_1_21(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    go = fetch_toolchain("1.21.13")
    (module / BASELINE).unlink()
    assert _run(capsys, go, "baseline")[0] == 0
    baseline = json.loads((module / BASELINE).read_text())
    assert baseline["toolchain"]["version"] == "go1.21.13"
    _edit(module, "\tTags []string\n}", "\tTags []string\n\tHash [2]int64\n}")
    _edit(module, NEW_ALLOC, NEW_ALLOC_WITH)
    code, out, _ = _run(capsys, go, "check")
    assert code == 1
    assert sorted(rule for rule, _, _ in _findings(out)) == ["EL001", "EL002"]
    # The same baseline under another Go release: the difference is pointed out.
    code, out, _ = _run(capsys, pinned_go, "check")
    assert "note: the baseline was made with go1.21.13, this build uses go1.27.3" in out


def test_a_package_that_does_not_compile_is_an_error(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    (module / "broken").mkdir()
    (module / "broken" / "broken.go").write_text("package broken\n\nfunc F() int { return x }\n")
    code, out, err = _run(capsys, pinned_go, "check")
    assert code == 2
    assert out == ""
    # the compiler's messages of the broken package, then the one line
    assert err.splitlines() == [
        "escape-lens: example.com/checkmod/broken:",
        "  broken/broken.go:3:23: undefined: x",
        "escape-lens: error: example.com/checkmod/broken does not compile: "
        "broken/broken.go:3:23: undefined: x",
    ]


def test_pattern_matching_nothing_fails_the_gate(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _config(
        module,
        'hot = ["example.com/checkmod/codec.(*Encoder).*", "example.com/checkmod/codec.Chcksum",'
        ' "example.com/checkmod/codec.(*Encoder).Reset"]\n',
    )
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 1
    # Reset does not allocate but exists; the misspelt Checksum matches nothing.
    assert [line for line in out.splitlines() if " EL009 " in line] == [
        "escape-lens.toml:1: error: EL009 hot pattern 'example.com/checkmod/codec.Chcksum' "
        "matches no function of the checked packages: it guards nothing"
    ]
    (module / "escape-lens.toml").write_text(
        'unmatched-patterns = "warning"\n' + (module / "escape-lens.toml").read_text()
    )
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0
    assert [line for line in out.splitlines() if " EL009 " in line] == [
        "escape-lens.toml:2: warning: EL009 hot pattern 'example.com/checkmod/codec.Chcksum' "
        "matches no function of the checked packages: it guards nothing"
    ]


def test_closures_belong_to_their_hot_function(
    capsys: pytest.CaptureFixture[str], module: Path, pinned_go: Path
) -> None:
    _config(module, 'hot = ["example.com/checkmod/codec.Lookup"]\n')
    assert _run(capsys, pinned_go, "baseline")[0] == 0
    baseline = json.loads((module / BASELINE).read_text())
    assert [s["function"] for s in baseline["sites"]] == ["Lookup.func1"]
    # A new closure before it renumbers Lookup.func1 to Lookup.func2: still the same site.
    _edit(
        module,
        "func Lookup() func(int) *Record {\n",
        "func Lookup() func(int) *Record {\n\tdefer func() { sink = nil }()\n",
    )
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 0
    assert _findings(out) == []
    # A new allocation inside the closure is new in Lookup.
    _edit(
        module,
        "\t\treturn &Record{ID: int64(id)}",
        "\t\tsink = new([2]uint64)\n\t\treturn &Record{ID: int64(id)}",
    )
    code, out, _ = _run(capsys, pinned_go, "check")
    assert code == 1
    [(rule, _, message)] = _findings(out)
    assert rule == "EL001"
    assert "hot function example.com/checkmod/codec.Lookup:" in message
