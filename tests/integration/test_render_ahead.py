"""A warm run's report is made, and rendered, from the last run's results while go runs
(toolchain/build.py `_guess`, cli/analyze.py `render_ahead`); it is the run's own only
when the listing confirms every result, and the output is the same to the byte either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_lens.analyze import JOIN
from escape_lens.cli import analyze as analyze_cli
from escape_lens.cli import main
from escape_lens.records import GoToolchain, JoinedPackage
from escape_lens.toolchain.build import Built, build_targets
from tests.integration.build_helpers import TWO_PACKAGE_B, write_two_packages

pytestmark = pytest.mark.slow


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GOCACHE", str(tmp_path / "gocache"))
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / "escape-lens"))
    return write_two_packages(tmp_path / "mod")


def test_the_guess_is_the_build_only_when_every_result_holds(
    module: Path, monkeypatch: pytest.MonkeyPatch, pinned_toolchain: GoToolchain
) -> None:
    guesses: list[Built[JoinedPackage]] = []

    def build() -> Built[JoinedPackage]:
        return build_targets(
            pinned_toolchain, ["./..."], JOIN, cwd=str(module), ahead=guesses.append
        )

    first = build()
    assert guesses == []  # no run of these targets yet: nothing to guess from
    second = build()
    assert len(guesses) == 1
    assert second is guesses[0]  # confirmed: the very object
    assert second == first
    # b changes: the guess is made (the old results) but is not the build
    (module / "b" / "b.go").write_text(TWO_PACKAGE_B.replace("0, n)", "0, 8)"))
    third = build()
    assert len(guesses) == 2
    assert third is not guesses[1]
    assert third.results[0] is guesses[1].results[0]  # a still holds
    assert third.results[1] != guesses[1].results[1]
    with monkeypatch.context() as off:
        off.setenv("ESCAPE_LENS_RESULT_CACHE", "off")
        assert build() == third


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_report_rendered_ahead_is_the_one_rendered_after(
    fmt: str,
    module: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pinned_go: Path,
) -> None:
    rendered: list[object] = []
    render = analyze_cli._Rendered.of

    def counted(arranged: analyze_cli._Arranged) -> analyze_cli._Rendered:
        rendered.append(arranged)
        return render(arranged)

    monkeypatch.setattr(analyze_cli._Rendered, "of", staticmethod(counted))
    monkeypatch.chdir(module)

    def analyze() -> str:
        assert main(["analyze", "./...", "--go", str(pinned_go), "--format", fmt]) == 0
        return capsys.readouterr().out

    fresh = analyze()
    assert rendered == []
    assert analyze() == fresh  # rendered while go ran
    assert len(rendered) == 1
    (module / "b" / "b.go").write_text(TWO_PACKAGE_B.replace("0, n)", "0, 8)"))
    changed = analyze()  # rendered ahead, then again
    assert len(rendered) == 2
    assert changed != fresh
    monkeypatch.setenv("ESCAPE_LENS_RESULT_CACHE", "off")
    assert analyze() == changed
