"""Writing a command's output where the user asked: stdout, or the one file named by -o."""

from __future__ import annotations

import sys
from pathlib import Path

from escape_lens.errors import UsageError


def write_output(text: str, output: str | None) -> None:
    """Write `text` (rendered in full beforehand, so a failure never leaves half a file)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
