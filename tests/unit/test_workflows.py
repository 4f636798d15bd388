"""The GitHub Action and workflows: well-formed, no script injection, trusted publishing.

`${{ }}` inside a `run:` script is pasted into the script before bash reads it, so an
input (or a branch name, a PR title) could run code: values reach scripts only through
`env:`. tests/integration/test_action.py runs the action's steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTION = REPO / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INPUT_REFERENCE = re.compile(r"\binputs\.([A-Za-z_][\w-]*)")


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def _steps(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "runs" in document:
        yield from document["runs"]["steps"]
    for job in document.get("jobs", {}).values():
        yield from job.get("steps", [])


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def test_the_repository_has_the_workflows() -> None:
    assert {path.name for path in WORKFLOWS} >= {"release.yml", "action.yml"}


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_no_expression_is_interpolated_into_a_script(path: Path) -> None:
    runs = [step["run"] for step in _steps(_load(path)) if "run" in step]
    assert runs, f"{path.name} has no run step"
    for script in runs:
        assert not EXPRESSION.search(script), f"{path.name}: ${{{{ }}}} in a run script"


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_every_action_used_is_pinned_to_a_release(path: Path) -> None:
    for step in _steps(_load(path)):
        uses = step.get("uses")
        if uses is not None and uses != "./":
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+|release/v\d+)", uses), uses


def test_action_inputs_are_declared_used_and_reach_scripts_as_env() -> None:
    action = _load(ACTION)
    declared = set(action["inputs"])
    referenced = {
        name
        for text in _strings(action["runs"])
        for expression in EXPRESSION.findall(text)
        for name in INPUT_REFERENCE.findall(expression)
    }
    conditions = {
        name
        for step in action["runs"]["steps"]
        for name in INPUT_REFERENCE.findall(step.get("if", ""))
    }
    assert referenced | conditions == declared
    for step in action["runs"]["steps"]:
        if "run" not in step:
            continue
        assert step["shell"] == "bash"
        for variable, value in step.get("env", {}).items():
            # One whole expression per variable, and the script reads the variable.
            assert EXPRESSION.fullmatch(value), (variable, value)
            assert f"${variable}" in step["run"] or f"${{{variable}" in step["run"], variable


def test_action_installs_itself_and_uploads_the_sarif_it_wrote() -> None:
    steps = _load(ACTION)["runs"]["steps"]
    [install] = [step for step in steps if step.get("id") == "install"]
    assert '"$GITHUB_ACTION_PATH$extra"' in install["run"]
    [upload] = [step for step in steps if step.get("uses", "").startswith("github/codeql-action/")]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif-file }}"
    # The verdict is the last step, after the upload: findings still reach code scanning.
    assert "CHECK_EXIT_CODE" in steps[-1]["env"]


def test_release_publishes_on_a_tag_with_trusted_publishing() -> None:
    path = REPO / ".github" / "workflows" / "release.yml"
    release = _load(path)
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    trigger = release.get("on", release.get(True))
    assert trigger == {"push": {"tags": ["v*"]}}
    publish = release["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    [step] = [s for s in publish["steps"] if s.get("uses", "").startswith("pypa/")]
    assert step["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert "with" not in step, "trusted publishing needs no password or token"
    text = path.read_text()
    assert "secrets." not in text
    assert "password" not in text
    build = "\n".join(s.get("run", "") for s in release["jobs"]["build"]["steps"])
    assert "python -m build" in build
    assert "twine check --strict dist/*" in build


def test_the_action_workflow_runs_the_action_on_the_example() -> None:
    workflow = _load(REPO / ".github" / "workflows" / "action.yml")
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    [action] = [step for step in steps if step.get("uses") == "./"]
    example = REPO / action["with"]["working-directory"]
    assert (example / "go.mod").is_file()
    assert (example / "escape-lens.toml").is_file()
