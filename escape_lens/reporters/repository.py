"""Paths as CI systems see them: relative to the repository root, with `/`.

GitHub annotations and SARIF locations must name files in the checked-out tree whatever
directory escape-lens ran in.
"""

from __future__ import annotations

import functools
import os

from escape_lens.records import Report
from escape_lens.toolchain.targets import nearest_ancestor


def repository_root(start: str) -> str | None:
    """The nearest directory at or above `start` with `.git` (a dir or a worktree file)."""
    return nearest_ancestor(start, ".git") if start else None


_repository_root = functools.lru_cache(maxsize=16)(repository_root)


def repository_path(report: Report, file: str) -> str:
    """`file` (relative to the report root) relative to the repository root, with `/`."""
    return _repository_path(report.root, file)


@functools.lru_cache(maxsize=4096)
def _repository_path(root: str, file: str) -> str:
    # Asked for every position of every finding (SARIF: tens of thousands for std), and
    # the answer is one walk up the tree per root: kept, as the tree does not change
    # while one report is written.
    repo = _repository_root(root)
    absolute = file if os.path.isabs(file) else os.path.join(root, file)
    base = repo or root
    if base:
        relative = os.path.relpath(absolute, base)
        if not relative.startswith(".."):
            return relative.replace(os.sep, "/")
    return file.replace(os.sep, "/")
