"""Paths as CI systems see them: relative to the repository root, with `/`.

GitHub annotations and SARIF locations must name files in the checked-out tree whatever
directory escape-lens ran in.
"""

from __future__ import annotations

import os

from escape_lens.records import Report
from escape_lens.toolchain.targets import nearest_ancestor


def repository_root(start: str) -> str | None:
    """The nearest directory at or above `start` with `.git` (a dir or a worktree file)."""
    return nearest_ancestor(start, ".git") if start else None


def repository_path(report: Report, file: str) -> str:
    """`file` (relative to the report root) relative to the repository root, with `/`."""
    root = report.root
    repo = repository_root(root)
    absolute = file if os.path.isabs(file) else os.path.join(root, file)
    base = repo or root
    if base:
        relative = os.path.relpath(absolute, base)
        if not relative.startswith(".."):
            return relative.replace(os.sep, "/")
    return file.replace(os.sep, "/")
