"""Runs the composite action of action.yml the way a GitHub runner does, minus GitHub.

GitHub is not reachable from the tests, so the `uses:` steps (setup-python, setup-go,
upload-sarif) are recorded with their evaluated `with:` instead of run; every `run:` step
runs with bash, in the step's working directory, with the step's `env:` evaluated and the
variables a runner sets (GITHUB_ACTION_PATH, GITHUB_WORKSPACE, RUNNER_TEMP, GITHUB_OUTPUT,
CI). Expressions are evaluated for the small grammar action.yml uses (contexts `inputs`,
`steps.<id>.outputs`, string literals, `==`, `!=`, `&&`, `||`, `always()`); anything else
raises, so the action cannot grow an expression these tests do not understand.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

ACTION = REPO / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
TOKEN = re.compile(r"\s*(&&|\|\||==|!=|always\(\)|'(?:[^']|'')*'|[A-Za-z_][\w.-]*)")


def load_action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return action


@dataclass
class StepRun:
    name: str
    uses: str | None
    with_: dict[str, str]
    returncode: int
    stdout: str
    stderr: str


@dataclass
class ActionRun:
    runner_temp: Path
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: bool = False

    def step(self, name: str) -> StepRun:
        [found] = [step for step in self.steps if step.name == name]
        return found

    @property
    def exit_code(self) -> int:
        """What the runner would report: the first failing step's code, else 0."""
        return next((step.returncode for step in self.steps if step.returncode), 0)


class _Context:
    def __init__(self, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> None:
        self.inputs = inputs
        self.outputs = outputs

    def lookup(self, name: str) -> str:
        parts = name.split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            return self.inputs[parts[1]]
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self.outputs.get(parts[1], {}).get(parts[3], "")
        raise ValueError(f"expression context not understood by the test runner: {name}")

    def evaluate(self, expression: str) -> str | bool:
        tokens = TOKEN.findall(expression)
        if "".join(tokens) != expression.replace(" ", ""):
            raise ValueError(f"expression not understood by the test runner: {expression}")
        disjunction = False
        for alternative in _split(tokens, "||"):
            conjunction = True
            for term in _split(alternative, "&&"):
                conjunction = conjunction and self._term(term)
            disjunction = disjunction or conjunction
        return disjunction

    def _term(self, term: list[str]) -> bool:
        if term == ["always()"]:
            return True
        if len(term) == 3 and term[1] in ("==", "!="):
            left, right = self._value(term[0]), self._value(term[2])
            return (left == right) == (term[1] == "==")
        raise ValueError(f"term not understood by the test runner: {term}")

    def _value(self, token: str) -> str:
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        return self.lookup(token)

    def substitute(self, text: str) -> str:
        return EXPRESSION.sub(lambda match: self.lookup(match.group(1)), text)


def _split(tokens: list[str], operator: str) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token == operator:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def action_checkout(destination: Path) -> Path:
    """This repository as GitHub checks out an action: its files, no build products."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
    )
    shutil.copytree(REPO, destination, ignore=ignore)
    return destination


def run_action(
    inputs: dict[str, str],
    workspace: Path,
    runner_temp: Path,
    path: str,
    skip: frozenset[str] = frozenset(),
) -> ActionRun:
    """Run action.yml's steps for `inputs` in `workspace`; PATH is the runner's PATH.

    The action runs from `runner_temp/action` (made by `action_checkout`). Steps whose id
    is in `skip` are left out: a later run in the same `runner_temp` reuses what an
    earlier one installed.
    """
    action = load_action()
    declared = action["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    values = {
        name: str(inputs.get(name, spec.get("default", ""))) for name, spec in declared.items()
    }
    run = ActionRun(runner_temp)
    context = _Context(values, run.outputs)
    for index, step in enumerate(action["runs"]["steps"]):
        name = step.get("id", f"step{index}")
        if name in skip:
            continue
        condition = step.get("if")
        if condition is not None and not context.evaluate(EXPRESSION.sub(r"\1", condition)):
            continue
        if "uses" in step:
            with_ = {
                key: context.substitute(str(value)) for key, value in step.get("with", {}).items()
            }
            run.steps.append(StepRun(name, step["uses"], with_, 0, "", ""))
            continue
        assert step.get("shell") == "bash", f"{name}: run steps use bash"
        output_file = runner_temp / f"output-{index}"
        output_file.write_text("")
        env = {
            "PATH": path,
            "HOME": os.environ.get("HOME", "/root"),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTION_PATH": str(runner_temp / "action"),
            "GITHUB_WORKSPACE": str(workspace),
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_OUTPUT": str(output_file),
            **{key: context.substitute(str(value)) for key, value in step.get("env", {}).items()},
        }
        cwd = workspace / context.substitute(step.get("working-directory", "."))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        run.steps.append(StepRun(name, None, {}, done.returncode, done.stdout, done.stderr))
        run.outputs[name] = _read_outputs(output_file)
        if done.returncode:
            run.failed = True
            break
    return run


def _read_outputs(path: Path) -> dict[str, str]:
    outputs = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        outputs[key] = value
    return outputs
