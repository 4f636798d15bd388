"""Every output format of every command comes from the one registry (escape_lens.reporters)."""

from __future__ import annotations

import click
import pytest

from escape_lens.cli import analyze, check, diff, sizeclass
from escape_lens.reporters import (
    OUTPUTS,
    VERBOSE,
    check_reporter,
    diff_reporter,
    formats,
    get_reporter,
    matrix_reporter,
    sizeclass_reporter,
)
from escape_lens.reporters.text import TextReporter

INTERFACE = {
    "analyze": ("render",),
    "check": ("render_check",),
    "diff": ("render_diff",),
    "matrix": ("render_matrix",),
    "sizeclass": ("render_predictions", "render_table", "render_verification"),
}
LOADERS = {
    "analyze": get_reporter,
    "check": check_reporter,
    "diff": diff_reporter,
    "matrix": matrix_reporter,
    "sizeclass": sizeclass_reporter,
}


@pytest.mark.parametrize(
    ("command", "name"), [(command, name) for command in OUTPUTS for name in OUTPUTS[command]]
)
def test_each_registered_format_loads_a_renderer_of_its_command(command: str, name: str) -> None:
    renderer = LOADERS[command](name)
    for method in INTERFACE[command]:
        assert callable(getattr(renderer, method, None)), f"{command} {name} lacks {method}"


@pytest.mark.parametrize(
    ("command", "module"),
    [("analyze", analyze), ("check", check), ("diff", diff), ("sizeclass", sizeclass)],
)
def test_the_cli_offers_exactly_the_registered_formats(command: str, module: object) -> None:
    click_command = module.command
    assert isinstance(click_command, click.Command)
    option = next(p for p in click_command.params if "--format" in getattr(p, "opts", ()))
    assert isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == formats(command)
    assert option.default == formats(command)[0]


def test_verbose_is_a_variant_of_a_registered_format() -> None:
    assert set(VERBOSE) <= set(OUTPUTS["analyze"])
    verbose = get_reporter("text", verbose=True)
    assert isinstance(verbose, TextReporter)
    assert verbose.verbose
    plain = get_reporter("text")
    assert isinstance(plain, TextReporter)
    assert not plain.verbose
    assert get_reporter("json", verbose=True) is get_reporter("json")  # no verbose form


def test_a_version_matrix_comes_in_formats_analyze_offers() -> None:
    assert set(formats("matrix")) <= set(formats("analyze"))
    assert formats("matrix")[0] == formats("analyze")[0]
