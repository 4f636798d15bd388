"""One vocabulary: fixtures/constructs rendered in every format says paths, constructs and
counts with the words of one table (`vocab.SitePath`, `vocab.Construct` and the text's
labels), and docs/analyze.md#words lists exactly those words. The README's and the docs'
quick-start output is the real output, byte for byte."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from escape_lens.analyze import analyze_targets
from escape_lens.cli import main
from escape_lens.findings import describe_site
from escape_lens.model.explain import site_path
from escape_lens.records import Report
from escape_lens.reporters import get_reporter
from escape_lens.reporters.html import payload
from escape_lens.reporters.json_report import report_to_dict, site_from_dict
from escape_lens.reporters.text import TextReporter
from escape_lens.reporters.text_words import INLINED_MARK, SHORT_CONSTRUCT
from escape_lens.vocab import Construct, SitePath
from tests.conftest import FIXTURES, REPO

pytestmark = pytest.mark.slow

PATH_WORDS = [path.value for path in SitePath]
LABELS = {
    construct.value: SHORT_CONSTRUCT.get(construct, construct.value) for construct in Construct
}


@pytest.fixture(scope="module")
def constructs(pinned_go: Path) -> Report:
    return analyze_targets(["./..."], go=str(pinned_go), cwd=str(FIXTURES / "constructs"))


def _render(report: Report, fmt: str, verbose: bool = False) -> str:
    out = io.StringIO()
    if fmt == "text":
        TextReporter(verbose=verbose, width=200).render(report, out)
    else:
        get_reporter(fmt).render(report, out)
    return out.getvalue()


def _text_by_path(text: str) -> dict[str, int]:
    lines = text.splitlines()
    [start] = [k for k, line in enumerate(lines) if re.match(r"\d+ sites? by path: ", line)]
    words = lines[start].split(" by path: ", 1)[1]
    for line in lines[start + 1 :]:
        if not line.startswith("      "):
            break
        words += " " + line.strip()
    counts = {}
    for item in words.split(", "):
        number, word = item.strip(",").split(" ", 1)
        counts[word] = int(number)
    return counts


def test_every_format_counts_paths_with_the_same_words(constructs: Report) -> None:
    summary = report_to_dict(constructs)["summary"]
    by_path = summary["by_path"]
    # the fixture has every kind of path but none (a zero-byte request) and unknown
    assert set(by_path) == set(PATH_WORDS) - {"none", "unknown"}
    assert by_path == dict(
        sorted(Counter(str(site_path(s)) for s in constructs.sites if s.allocates).items())
    )
    assert sum(by_path.values()) == summary["sites"]

    text = _render(constructs, "text")
    assert _text_by_path(text) == by_path
    assert re.search(rf"^{summary['sites']} sites by path: ", text, re.M)
    assert (
        f"constant size: {summary['constant_size_sites']} sites, {summary['constant_size_bytes']} B"
        in text
    )
    assert f"variable size: {summary['variable_size_sites']} sites" in text

    data = json.loads(_render(constructs, "json"))
    assert data["summary"] == summary
    assert {s["construct"] for s in data["sites"]} <= set(LABELS)
    read_back = Counter(str(site_path(site_from_dict(s))) for s in data["sites"] if s["allocates"])
    assert dict(sorted(read_back.items())) == by_path

    page = payload(constructs)
    assert page["report"]["summary"] == summary
    html_paths = Counter(view["path"] for view in page["views"] if "path" in view)
    assert dict(sorted(html_paths.items())) == by_path
    assert all(
        ("path" in view) == site.allocates
        for view, site in zip(page["views"], constructs.sites, strict=True)
    )
    script = (REPO / "escape_lens/reporters/html_assets/report.js").read_text()
    match = re.search(r"var PATHS = (\[.*?\]);", script)
    assert match is not None
    assert json.loads(match.group(1)) == PATH_WORDS


def test_findings_formats_say_each_sites_path_word(constructs: Report) -> None:
    allocating = [s for s in constructs.sites if s.allocates]
    sarif = json.loads(_render(constructs, "sarif"))
    messages = [r["message"]["text"] for r in sarif["runs"][0]["results"]]
    github = [line.rsplit("::", 1)[1] for line in _render(constructs, "github").splitlines()]
    quality = [issue["description"] for issue in json.loads(_render(constructs, "codequality"))]
    for name, texts in (("sarif", messages), ("github", github), ("codequality", quality)):
        assert len(texts) == len(allocating), name
        for site, message in zip(allocating, texts, strict=True):
            cost = message.split(f"{describe_site(site)}, ", 1)[1]
            assert re.match(rf"(\d+ B )?{site_path(site)}\b", cost), (name, message)


def test_text_labels_are_the_table(constructs: Report) -> None:
    text = _render(constructs, "text")
    site_lines = [line.split() for line in text.splitlines() if re.match(r"    \S", line)]
    labels = [cells[1] for cells in site_lines if re.fullmatch(r"(\S+\.go:)?\d+(:\d+)?", cells[0])]
    labels = [label.removesuffix(INLINED_MARK) for label in labels]  # `literal↳`: inlined here
    assert Counter(labels) == Counter(LABELS[s.construct] for s in constructs.sites)
    legend = _render(constructs, "text", verbose=True).split("\nkey: ", 1)[1]
    pairs = [
        p for p in re.findall(r"(\S+) = ([a-z-]+)", legend) if p[0] not in ("tiny", INLINED_MARK)
    ]
    assert len(pairs) >= 5
    assert all(LABELS[full] == short for short, full in pairs)


def _doc_table(section: str, heading: str) -> list[list[str]]:
    part = section.split(heading, 1)[1]
    rows = []
    for line in part.splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0].startswith("---") or cells[0] in ("path", "construct"):
            continue
        rows.append([cell.strip("`") for cell in cells])
    return rows


def test_docs_list_exactly_the_words() -> None:
    doc = (REPO / "docs" / "analyze.md").read_text()
    section = doc.split("### Words", 1)[1].split("\n### ", 1)[0]
    paths = _doc_table(section, "Paths (")
    assert [row[0] for row in paths] == PATH_WORDS
    constructs = _doc_table(section, "Constructs (")
    assert [(row[0], row[1]) for row in constructs] == list(LABELS.items())
    # the text report's construct list says the labels the lines print
    text_section = doc.split("### Text output", 1)[1].split("\n### ", 1)[0]
    for label in set(LABELS.values()):
        assert f"`{label}`" in text_section, label


def _block_after(marker: str, text: str) -> str:
    tail = text.split(marker, 1)[1]
    match = re.search(r"\n```\n(.*?)\n```", tail, re.S)
    assert match is not None
    return match.group(1) + "\n"


@pytest.mark.parametrize(
    ("doc", "marker"),
    [
        ("README.md", "prints the two allocations of `fixtures/quickstart/main.go`:"),
        (
            "docs/analyze.md",
            "Quick start: `escape-lens analyze fixtures/quickstart/main.go` prints",
        ),
    ],
)
def test_quick_start_output_is_the_real_output(
    doc: str,
    marker: str,
    pinned_go: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["analyze", "fixtures/quickstart/main.go", "--go", str(pinned_go)]) == 0
    real = capsys.readouterr().out
    assert _block_after(marker, (REPO / doc).read_text()) == real
