"""A result cache entry someone else wrote or a disk damaged: a miss, never code, never a
traceback, and the same report as without it (issue 13).

The entries are real: `analyze` of a fixture module with the pinned Go. Hypothesis
corrupts them (flipped bytes, truncation, values of the wrong type under a valid digest,
deep nesting, huge numbers and lists, a pickle), the reader must refuse each one and
delete it; a real `escape-lens analyze` run over each kind of damage writes the report
byte for byte as a run without a cache does, exit 0 and nothing on stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escape_lens.records import GoToolchain, JoinedPackage, ListedPackage
from escape_lens.toolchain import resultcache
from tests.conftest import FIXTURES

HEADER = b"escape-lens results 3 "
MARKER_NAME = "pickle-ran"


def _analyze(cwd: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCAPE_LENS_")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["ESCAPE_LENS_CACHE"] = str(cache)
    argv = [sys.executable, "-m", "escape_lens", "analyze", "./...", "--format", "json", *extra]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bytes, bytes]:
    """(module, cache, the report without any cache, the entry a first run stored)."""
    root = tmp_path_factory.mktemp("hostile-cache")
    module = root / "constructs"
    shutil.copytree(FIXTURES / "constructs", module)
    plain = _analyze(module, root / "off", "-o", str(root / "plain.json"))
    assert plain.returncode == 0, plain.stderr
    cache = root / "cache"
    first = _analyze(module, cache)
    assert first.returncode == 0, first.stderr
    assert first.stdout == (root / "plain.json").read_bytes()
    entries = sorted((cache / "results").glob("*/*"))
    assert entries, "the run stored its packages"
    return module, cache, first.stdout, max(entries, key=lambda p: p.stat().st_size).read_bytes()


def _signed(payload: bytes) -> bytes:
    """An entry whose digest is right: what someone who read the code would plant."""
    return HEADER + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def _payload(entry: bytes) -> Any:
    return json.loads(entry[entry.index(b"\n") + 1 :])


class _Evil:
    def __reduce__(self) -> tuple[Callable[..., object], tuple[str, str]]:
        return (open, (MARKER_NAME, "w"))  # creates the marker if it ever runs


def _nodes(value: Any, path: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    found = [path]
    if isinstance(value, list):
        for index, item in enumerate(value):
            found += _nodes(item, (*path, index))
    return found


def _replaced(value: Any, path: tuple[int, ...], new: Any) -> Any:
    if not path:
        return new
    copy = list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def _wrong_type(old: Any) -> Any:
    """A value of another JSON kind, which no slot of `old`'s accepts."""
    if isinstance(old, list):
        return "x"
    if isinstance(old, str):
        return []
    if isinstance(old, bool):
        return "true"
    if isinstance(old, int):
        return str(old)
    return {}  # null: objects are never written


@st.composite
def corrupted(draw: st.DrawFn, entry: bytes) -> bytes:
    kind = draw(
        st.sampled_from(
            ["flip", "truncate", "wrong-type", "deep", "huge-number", "huge-list", "pickle"]
        )
    )
    if kind == "flip":
        index = draw(st.integers(0, len(entry) - 1))
        mask = draw(st.integers(1, 255))
        return entry[:index] + bytes([entry[index] ^ mask]) + entry[index + 1 :]
    if kind == "truncate":
        return entry[: draw(st.integers(0, len(entry) - 1))]
    if kind == "pickle":
        return _signed(pickle.dumps(_Evil()))
    tree = _payload(entry)
    path = draw(st.sampled_from(_nodes(tree)[1:]))
    node: Any = tree
    for index in path:
        node = node[index]
    if kind == "deep":
        return _signed(_with_text(tree, path, "[" * 200_000 + "]" * 200_000))
    if kind == "huge-number":
        return _signed(_with_text(tree, path, "9" * 100_000))
    new = _wrong_type(node) if kind == "wrong-type" else [0] * 1_000_000
    return _signed(json.dumps(_replaced(tree, path, new)).encode())


def _with_text(tree: Any, path: tuple[int, ...], text: str) -> bytes:
    """The tree as JSON with the node at `path` spelled `text` (not a Python value)."""
    marker = "\x00marker\x00"
    return json.dumps(_replaced(tree, path, marker)).replace(json.dumps(marker), text).encode()


@pytest.fixture
def entry_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned_toolchain: GoToolchain
) -> tuple[resultcache.Context, ListedPackage, Path]:
    """Where the reader looks for one package's joined sites, in a cache of its own."""
    monkeypatch.setenv("ESCAPE_LENS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ESCAPE_LENS_RESULT_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)  # where a pickle that ran would leave its marker
    context = resultcache.Context(pinned_toolchain, str(tmp_path), str(tmp_path), False)
    listed = ListedPackage("example.com/m", str(tmp_path), "m", build_ids=("a/b",))
    resultcache.store(context, listed, JoinedPackage("example.com/m"), [])
    (path,) = (tmp_path / "cache" / "results").glob("*/*")
    return context, listed, path


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_corrupted_entry_is_a_miss_and_is_deleted(
    stored: tuple[Path, Path, bytes, bytes],
    entry_slot: tuple[resultcache.Context, ListedPackage, Path],
    data: st.DataObject,
) -> None:
    context, listed, path = entry_slot
    entry = stored[3]
    path.write_bytes(entry)
    original = resultcache.load(context, listed, JoinedPackage)
    assert original is not None, "the real entry reads back"
    assert original.sites
    damaged = data.draw(corrupted(entry))
    path.write_bytes(damaged)
    assert resultcache.load(context, listed, JoinedPackage) is None
    assert not path.exists(), "a bad entry is removed, so the next run stores a good one"
    assert not Path(MARKER_NAME).exists(), "the pickle ran"


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "flipped-byte": lambda entry: entry[:200] + bytes([entry[200] ^ 0x20]) + entry[201:],
    "flipped-digest": lambda entry: entry[:30] + bytes([entry[30] ^ 1]) + entry[31:],
    "truncated": lambda entry: entry[: len(entry) // 2],
    "wrong-type": lambda entry: _signed(
        json.dumps(_replaced(_payload(entry), (1, 1), "x")).encode()
    ),
    "deep": lambda entry: _signed(b"[" * 100_000 + b"]" * 100_000),
    "huge-length": lambda entry: _signed(b"[[]," + b"[" + b"0," * 2_000_000 + b"0]]"),
    "pickle": lambda entry: _signed(pickle.dumps(_Evil())),
    "old-pickle-format": lambda entry: b"escape-lens results 1\n" + pickle.dumps(_Evil()),
    "empty": lambda entry: b"",
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_run_over_a_damaged_cache_writes_the_same_report(
    stored: tuple[Path, Path, bytes, bytes], tmp_path: Path, damage: str
) -> None:
    module, cache, report, _ = stored
    own = tmp_path / "cache"
    shutil.copytree(cache, own)
    entries = sorted((own / "results").glob("*/*"))
    for entry in entries:
        entry.write_bytes(DAMAGE[damage](entry.read_bytes()))
    again = _analyze(module, own)
    assert again.stderr == b""
    assert again.returncode == 0
    assert again.stdout == report
    assert not (module / MARKER_NAME).exists()
    # the damaged entries were replaced by good ones: the next run reads them
    for entry in entries:
        assert entry.read_bytes().startswith(HEADER)
    assert _analyze(module, own).stdout == report
