"""The HTML reporter on hand-built reports: self-contained, small, deterministic, escaped.

The records are written the way the compiler described /tmp-free code like
fixtures/quickstart (go1.27.3 -m=2 and -S text), so the flow chains are real compiler
steps; the browser tests render reports from real compiler runs.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path

import pytest

from escape_lens import model
from escape_lens.advice.hints import size_words
from escape_lens.parsers.escape import flow_step
from escape_lens.records import (
    AllocCall,
    EscapeDiagnostic,
    GoToolchain,
    GoVersion,
    Report,
    Site,
    SourcePos,
    TypeInfo,
)
from escape_lens.reporters import get_reporter
from escape_lens.reporters import html as html_module
from escape_lens.reporters.html import (
    embed_json,
    flow_chain,
    function_sources,
    next_smaller,
    pack_sites,
    payload,
)
from escape_lens.reporters.json_report import site_to_dict

GO = GoToolchain("/go/bin/go", GoVersion.parse("go1.27.3"), "linux", "amd64")
RULES = model.rules_for(GO.version)

MAIN_GO = """\
package main

import "fmt"

type point struct {
\tx, y int64
\tname string
}

func show(x int) {
\tfmt.Println(x)
}

func main() {
\tp := &point{x: 1}
\tshow(3)
\tfmt.Println(p, "</script><!--")
}
"""

P_FLOW = (
    "flow: p ← &{storage for &point{...}}:",
    "from &point{...} (spill) at ./main.go:15:7",
    "from p := &point{...} (assign) at ./main.go:15:4",
    "flow: {storage for ... argument} ← p:",
    "from p (interface-converted) at ./main.go:17:14",
    "from ... argument (slice-literal-element) at ./main.go:17:13",
    "flow: fmt.a ← &{storage for ... argument}:",
    "from ... argument (spill) at ./main.go:17:13",
    "from fmt.a := ... argument (assign-pair) at ./main.go:17:13",
    "flow: {heap} ← *fmt.a:",
    "from fmt.Fprintln(os.Stdout, fmt.a...) (call parameter) at ./main.go:17:13",
)


def _site(
    line: int,
    col: int,
    function: str,
    expr: str,
    type_: TypeInfo,
    entry: str,
    flow: tuple[str, ...] = (),
    allocates: bool = True,
) -> Site:
    pos = SourcePos("main.go", line, col)
    diagnostic = EscapeDiagnostic(
        pos,
        "escapes",
        expr,
        f"{expr} escapes to heap",
        tuple(flow_step(None, text) for text in flow),
        function,
    )
    call = AllocCall(
        pos,
        function,
        entry,
        type_,
        asm=(
            f"0x001a 00026 (main.go:{line})\tLEAQ\ttype:{type_.name}(SB), AX",
            f"0x002b 00043 (main.go:{line})\tCALL\truntime.{entry}(SB)",
        ),
    )
    return Site(
        pos=pos,
        package="main",
        function=function,
        construct="new",
        type=type_,
        count=None,
        diagnostic=diagnostic,
        call=call,
        prediction=model.predict(type_.size, type_.pointers, RULES),
        expr=expr,
        allocates=allocates,
    )


def make_report(root: Path) -> Report:
    (root / "main.go").write_text(MAIN_GO)
    point = TypeInfo("main.point", 32, 24)
    odd = TypeInfo('main.x"</script>', 33, 0)
    return Report(
        tool_version="0.1.0",
        toolchain=GO,
        packages=("main",),
        sites=(
            _site(11, 14, "main.show", "x", TypeInfo("int", 8, 0), "convT64"),
            _site(15, 7, "main.main", "&point{...}", point, "newobject", P_FLOW),
            _site(17, 13, "main.main", "</script><!--", odd, "mallocgc"),
        ),
        root=str(root),
    )


def render(report: Report) -> str:
    out = io.StringIO()
    get_reporter("html").render(report, out)
    return out.getvalue()


def test_page_is_self_contained_and_embeds_the_report_once(tmp_path: Path) -> None:
    html = render(make_report(tmp_path))
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?!#)[a-z]+:""", html, re.I)
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert "@import" not in html
    assert "url(http" not in html
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert len(scripts) == 2, "the data and the code, nothing else"
    data = json.loads(scripts[0])
    assert data["report"]["schema"] == "escape-lens/1"
    packed = data["report"]["sites"]
    expr = packed["fields"].index("expr")
    assert [row[expr] for row in packed["rows"]] == ["x", "&point{...}", "</script><!--"]
    assert "<" not in scripts[0], "every < in the data is escaped"


def test_output_is_deterministic(tmp_path: Path) -> None:
    report = make_report(tmp_path)
    assert render(report) == render(report)


def test_size_stays_small_per_site(tmp_path: Path) -> None:
    report = make_report(tmp_path)
    many = dataclasses.replace(report, sites=report.sites * 300)
    size = len(render(many).encode())
    assert size < 2_000_000, size
    assert size / len(many.sites) < 1500, "about a kilobyte per site, assembly included"


def test_embed_json_round_trips_hostile_strings() -> None:
    value = {"s": "</script><!-- <script> \u2028 `${x}`"}
    text = embed_json(value)
    assert "<" not in text
    assert json.loads(text) == value


def test_flow_chain_is_readable() -> None:
    site = make_report_site_p()
    assert flow_chain(site.diagnostic, site.expr) == [
        "&point{...}",
        "p",
        "converted to an interface",
        "variadic arguments",
        "fmt.a",
        "passed to fmt.Fprintln",
        "heap",
    ]


def make_report_site_p() -> Site:
    return _site(
        15, 7, "main.main", "&point{...}", TypeInfo("main.point", 32, 24), "newobject", P_FLOW
    )


@pytest.mark.parametrize(
    ("size", "pointers", "text"),
    [
        (33, False, "remove 1 byte → 32 B class, 33% less memory"),
        (48, True, "remove 16 bytes → 32 B class, 33% less memory"),
        (520, True, "remove 8 bytes → 512 B class, 11% less memory"),
    ],
)
def test_next_smaller_class(size: int, pointers: bool, text: str) -> None:
    smaller = next_smaller(model.predict(size, pointers, RULES), pointers, RULES)
    assert str(smaller) == text


def test_smallest_class_has_no_smaller() -> None:
    assert next_smaller(model.predict(8, True, RULES), True, RULES) is None


def test_source_excerpt_and_explanations(tmp_path: Path) -> None:
    data = payload(make_report(tmp_path))
    functions = {f["function"]: f for f in data["functions"]}
    main = functions["main"]
    assert main["segments"][0][0] == 14  # from the func line
    assert main["segments"][0][1][0] == "func main() {"
    assert main["segments"][0][1][-1] == "}"
    assert data["views"][1]["hint"] == "remove 8 bytes → 24 B class, 25% less memory"
    assert data["views"][1]["chain"][-1] == "heap"


def test_unreadable_source_is_skipped(tmp_path: Path) -> None:
    report = make_report(tmp_path)
    (tmp_path / "main.go").unlink()
    data = payload(report)
    assert all(f["segments"] == [] for f in data["functions"])
    assert render(report)


def test_packed_sites_hold_every_field_but_the_raw_flow(tmp_path: Path) -> None:
    report = make_report(tmp_path)
    dicts = [site_to_dict(site) for site in report.sites]
    packed = pack_sites(dicts)
    for row, original in zip(packed["rows"], dicts, strict=True):
        site = dict(zip(packed["fields"], row, strict=True))
        assert site["expr"] == original["expr"]
        assert site["asm"] == original["asm"]
        assert site["prediction"] == list(original["prediction"].values())
        assert "flow" not in (site["escape"] or {})


def test_flow_chain_reads_go121_and_logopt_spellings() -> None:
    # go1.21 writes `=` where later versions write `←`; -json logopt prefixes `escflow:`.
    old = EscapeDiagnostic(
        SourcePos("main.go", 12, 13),
        "escapes",
        "make([]byte, n)",
        "make([]byte, n) escapes to heap",
        (
            flow_step(None, "escflow:    flow: ~r0 = &{storage for make([]byte, n)}:"),
            flow_step(None, "escflow:      from make([]byte, n) (spill) at ./main.go:12:13"),
            flow_step(None, "from return make([]byte, n) (return) at ./main.go:12:2"),
        ),
    )
    assert flow_chain(old) == ["make([]byte, n)", "returned", "heap"]
    assert flow_chain(None) == []


def test_long_functions_show_windows_and_the_budget_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "".join(f"\tx{i} := {i}\n" for i in range(200))
    (tmp_path / "long.go").write_text(f"package main\n\nfunc long() {{\n{body}}}\n")
    site = dataclasses.replace(
        make_report_site_p(), pos=SourcePos("long.go", 100, 2), function="main.long"
    )
    report = Report("0.1.0", GO, ("main",), (site,), root=str(tmp_path))
    segments = function_sources(report)[0]["segments"]
    assert segments[0] == [3, ["func long() {"]]
    assert segments[1][0] == 97
    assert len(segments[1][1]) == 7  # CONTEXT lines each side
    monkeypatch.setattr(html_module, "SOURCE_BUDGET", 20)
    segments = function_sources(report)[0]["segments"]
    assert [len(lines) for _, lines in segments] == [1, 1]  # the signature, the line


def test_the_budget_applies_to_functions_read_before_it_was_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sources are read a file at a time and only the lines a setting still possible
    # shows are kept: the budget, passed at the fourth file, shrinks the first three's
    # windows too; more files than are kept open, in no particular order.
    sites = []
    for n in range(6):
        body = "".join(f"\tx{i} := {i}\n" for i in range(200))
        (tmp_path / f"f{n}.go").write_text(f"package main\n\nfunc f{n}() {{\n{body}}}\n")
        site = make_report_site_p()
        sites.append(
            dataclasses.replace(site, pos=SourcePos(f"f{n}.go", 100, 2), function=f"main.f{n}")
        )
    report = Report("0.1.0", GO, ("main",), tuple(sites[3:] + sites[:3]), root=str(tmp_path))
    monkeypatch.setattr(html_module, "SOURCE_BUDGET", 400)
    functions = function_sources(report)
    assert [f["file"] for f in functions] == [f"f{n}.go" for n in range(6)]
    for n, function in enumerate(functions):
        assert function["segments"] == [
            [3, [f"func f{n}() {{"]],
            [99, ["\tx95 := 95", "\tx96 := 96", "\tx97 := 97"]],  # one line each side
        ]
    held, setting = html_module._functions(report, frozenset())
    assert setting == 1
    assert [len(f.text) for f in held] == [4] * 6  # no line the page will not show


def test_assets_reference_nothing_outside_the_page() -> None:
    for name in ("report.js", "report.css"):
        text = (Path(html_module.__file__).parent / "html_assets" / name).read_text()
        assert "https://" not in text
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert ".innerHTML" not in text  # data reaches the page as text only
        assert "fetch(" not in text
        assert "XMLHttpRequest" not in text


def test_empty_report_renders() -> None:
    report = Report("0.1.0", GO, ("example.com/empty",), ())
    html = render(report)
    data = json.loads(re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)[0])
    assert data["report"]["sites"] == {"fields": [], "rows": []}
    assert data["functions"] == []


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (1200, "remove 48 bytes → 1152 B class, 10% less memory"),
        (40000, "remove 7232 bytes → a 32 KiB span, 20% less memory"),
        ((2 << 20) + 5, "remove 5 bytes → a 2 MiB span, 0% less memory"),
    ],
)
def test_next_smaller_says_bytes_as_the_hints_do(size: int, text: str) -> None:
    # One way to say bytes (advice/hints.py size_words) for the page and the hints: exact,
    # as size classes are (1152 B is no "1.1 KiB").
    prediction = model.predict(size, False, RULES)
    assert str(next_smaller(prediction, False, RULES)) == text
    assert [size_words(n) for n in (48, 1152, 8190, 4096, 1 << 20, 10 << 20)] == [
        "48 B", "1152 B", "8190 B", "4 KiB", "1 MiB", "10 MiB",
    ]  # fmt: skip
