"""The README's two set-up commands are what CI runs, word for word."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _block_after(heading: str, text: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n+```sh\n(.*?)\n```", text, re.M | re.S)
    assert match is not None, f"README has no shell block under '## {heading}'"
    return match.group(1).strip()


def test_ci_runs_the_readme_commands() -> None:
    readme = (REPO / "README.md").read_text()
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    for heading in ("Quick start", "Tests"):
        command = _block_after(heading, readme)
        assert "\n" not in command, f"'{heading}' must be one command"
        assert command in ci_lines, f".ci/run does not run the README's '{heading}' command"
