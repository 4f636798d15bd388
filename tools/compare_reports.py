#!/usr/bin/env python3
"""Byte-identity of escape-lens's reports before and after a change.

`--save DIR` runs the installed `escape-lens analyze` on a fixed set of targets in every
output format and writes each report to DIR; `--against DIR` writes them again to a
temporary directory and compares byte for byte, exit 1 with a summary of what differs.
Run `--save` with the unchanged code, then `--against` with the changed one. The code is
the checkout this script is in, or `--code DIR` (another checkout's root, put first on
PYTHONPATH): `git archive BASE | tar -x -C DIR` makes one, so a reference is never made
from a worktree being edited meanwhile. (`python -P`: the working directory, the
repository root for some targets, must not shadow the code run.)

The environment is fixed so that only the code can change a byte: COLUMNS, no terminal
(stdin from /dev/null, output through -o), LC_ALL=C, the Go of the interpreter's venv.
`--ignore-key KEY` drops KEY from every JSON object before comparing JSON reports, for
fields a change adds on purpose (say them in the commit); every other byte stays strict.
The reports hold no absolute paths (JSON and HTML name the root and the go binary): the
interpreter's venv is written `.venv/`, the checkout's root `.`, so a reference made in
one checkout compares with a run in another.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = "120"


@dataclass(frozen=True)
class Target:
    name: str
    pattern: str
    cwd: Path
    formats: tuple[str, ...]


# "text-v" is the text format with -v: the flow chains
ALL_FORMATS = ("json", "text", "text-v", "sarif", "github", "html")
TARGETS = (
    Target("constructs", "./...", ROOT / "fixtures" / "constructs", ALL_FORMATS),
    Target("net-http", "net/http", ROOT, ALL_FORMATS),
    # std's HTML is too large to be worth keeping; the others cover it
    Target("std", "std", ROOT, ("json", "text", "text-v", "sarif", "github")),
)


def _environment(code: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCAPE_LENS_")}
    env.pop("PYTHONPATH", None)
    if code is not None:
        env["PYTHONPATH"] = str(code.resolve())
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["COLUMNS"] = COLUMNS
    env["LC_ALL"] = "C"
    env.pop("NO_COLOR", None)
    env.pop("FORCE_COLOR", None)
    return env


def _file_name(target: Target, fmt: str) -> str:
    suffix = {"json": "json", "sarif": "sarif", "html": "html"}.get(fmt, "txt")
    return f"{target.name}.{fmt}.{suffix}"


def produce(out_dir: Path, selected: set[str] | None, code: Path | None) -> list[Path]:
    """Write every report of the selected targets into out_dir; the files written."""
    env = _environment(code)
    written = []
    for target in TARGETS:
        if selected and target.name not in selected:
            continue
        for fmt in target.formats:
            path = out_dir / _file_name(target, fmt)
            command = [sys.executable, "-P", "-m", "escape_lens", "analyze", target.pattern]
            command += ["--format", fmt.removesuffix("-v"), "-o", str(path)]
            if fmt.endswith("-v"):
                command.append("-v")
            print(f"compare_reports: {target.name} {fmt}", file=sys.stderr, flush=True)
            result = subprocess.run(
                command,
                cwd=target.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                sys.exit(
                    f"compare_reports: {' '.join(command)} exited {result.returncode}:\n"
                    f"{result.stderr[-2000:]}"
                )
            _relative(path)
            written.append(path)
    return written


def _relative(path: Path) -> None:
    """The report with the venv's and the checkout's absolute paths made relative."""
    data = path.read_bytes()
    for absolute, relative in (
        (f"{sys.prefix}/", ".venv/"),
        (f"{ROOT}/", ""),
        (str(ROOT), "."),
    ):
        data = data.replace(absolute.encode(), relative.encode())
    path.write_bytes(data)


def _without_keys(value: Any, ignored: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without_keys(v, ignored) for k, v in value.items() if k not in ignored}
    if isinstance(value, list):
        return [_without_keys(v, ignored) for v in value]
    return value


def _comparable(path: Path, ignored: set[str]) -> bytes:
    data = path.read_bytes()
    if not ignored or path.suffix != ".json":
        return data
    # Re-serialised the way the JSON reporter writes (indent 2, sorted keys not assumed):
    # the same reports give the same bytes, and only the ignored keys are gone.
    stripped = _without_keys(json.loads(data), ignored)
    return json.dumps(stripped, indent=2, ensure_ascii=False).encode() + b"\n"


def _summary(name: str, old: bytes, new: bytes) -> str:
    old_lines = old.decode(errors="replace").splitlines()
    new_lines = new.decode(errors="replace").splitlines()
    diff = list(difflib.unified_diff(old_lines, new_lines, "reference", "now", n=1, lineterm=""))
    # (an HTML page is one long line: show where it differs, not all of it)
    shown = "\n".join(line if len(line) <= 300 else line[:300] + " ..." for line in diff[:40])
    more = f"\n  ... {len(diff) - 40} more diff lines" if len(diff) > 40 else ""
    return f"DIFFERS {name}: {len(old)} -> {len(new)} bytes\n{shown}{more}"


def compare(reference: Path, current: Path, names: list[str], ignored: set[str]) -> int:
    failures = 0
    for name in names:
        old_path, new_path = reference / name, current / name
        if not old_path.exists():
            print(f"MISSING in reference: {name}")
            failures += 1
            continue
        old, new = _comparable(old_path, ignored), _comparable(new_path, ignored)
        if old == new:
            print(f"same    {name}")
        else:
            print(_summary(name, old, new))
            failures += 1
    print(f"compare_reports: {len(names) - failures} identical, {failures} differ")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--save", type=Path, metavar="DIR", help="write the reports to DIR")
    mode.add_argument("--against", type=Path, metavar="DIR", help="compare with DIR")
    parser.add_argument(
        "--target",
        action="append",
        choices=[t.name for t in TARGETS],
        help="only this target (repeatable; default: all)",
    )
    parser.add_argument(
        "--ignore-key",
        action="append",
        default=[],
        metavar="KEY",
        help="drop KEY from JSON objects before comparing (repeatable)",
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="with --against: write here")
    parser.add_argument("--code", type=Path, metavar="DIR", help="run the escape_lens in DIR")
    args = parser.parse_args(argv)
    selected = set(args.target or ())
    if args.save is not None:
        args.save.mkdir(parents=True, exist_ok=True)
        produce(args.save.resolve(), selected, args.code)
        return 0
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        names = [p.name for p in produce(args.keep.resolve(), selected, args.code)]
        return compare(args.against, args.keep, names, set(args.ignore_key))
    with tempfile.TemporaryDirectory(prefix="compare-reports-") as tmp:
        names = [p.name for p in produce(Path(tmp), selected, args.code)]
        return compare(args.against, Path(tmp), names, set(args.ignore_key))


if __name__ == "__main__":
    sys.exit(main())
