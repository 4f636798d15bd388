"""The `check` configuration: which functions are hot, their budgets, where the baseline is.

Invariants:
- One source per run: `--config FILE`, else the first `escape-lens.toml` or `pyproject.toml`
  with a `[tool.escape-lens]` table found walking up from the target (or the working
  directory) to the module root (the directory with `go.mod`); else the defaults.
- Nothing is silently ignored: an unknown key, a value of the wrong type, an invalid
  pattern is a `ConfigError` whose message starts `FILE:LINE:`. tomllib reports lines only
  for syntax errors, so `_KeyLines` finds the line of a key (or of a list element) by
  reading the file text itself.
- Relative paths in the file (baseline, targets) are relative to the file's directory.

Function patterns match the compiler's full function names
(`example.com/svc/codec.(*Encoder).Encode`):
- `...` matches any run of characters, `/` included (`example.com/svc/...`);
- `*` matches any run of characters except `/`; but `(*` is the literal pointer receiver
  of a method, as Go spells it (`codec.(*Encoder).*`);
- everything else is literal. A pattern that matches a function also matches its closures
  (`F.func1`, `F.gowrap2`), and type arguments of generic functions are ignored
  (`Stack[go.shape.int].Push` is matched as `Stack.Push`).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from escape_lens.errors import ConfigError, TargetError
from escape_lens.gonames import enclosing_function, without_type_args
from escape_lens.inputs import MAX_CONFIG_BYTES, read_text
from escape_lens.toolchain.targets import find_go_mod, reject_flag
from escape_lens.vocab import AllocPath

CONFIG_NAME = "escape-lens.toml"
PYPROJECT = "pyproject.toml"
DEFAULT_BASELINE = "escape-lens.baseline.json"
# the paths a budget may forbid (`none`, a zero-byte request, takes nothing)
PATHS = tuple(path for path in AllocPath if path != AllocPath.NONE)
# What a hot or budget pattern that matches no function is: a failing finding (the
# default: a gate guarding nothing must not pass), or a warning.
UNMATCHED = ("error", "warning")

_PATTERN_CHARS = re.compile(r"^[\w.~+\-/*()\[\],]+$")


@dataclass(frozen=True, slots=True)
class FunctionPattern:
    """A function-name pattern from the configuration, compiled."""

    text: str
    regex: re.Pattern[str]
    line: int = 0  # where the configuration file names it (0: not from a file)

    @classmethod
    def parse(cls, text: str) -> FunctionPattern:
        """Raises ValueError (with the reason) for a pattern that cannot be meant."""
        if not text:
            raise ValueError("empty pattern")
        if not _PATTERN_CHARS.match(text):
            bad = sorted({c for c in text if not re.match(r"[\w.~+\-/*()\[\],]", c)})
            raise ValueError(f"invalid character {''.join(bad)!r}")
        depth = 0
        for char in text:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth < 0:
                break
        if depth != 0:
            raise ValueError("unbalanced parentheses")
        if text.count("[") != text.count("]"):
            raise ValueError("unbalanced brackets")
        if "**" in text.replace("(**", ""):
            raise ValueError("'**' is not a pattern: use '...' to cross '/'")
        pieces: list[str] = []
        index = 0
        while index < len(text):
            if text.startswith("...", index):
                pieces.append(".*")
                index += 3
            elif text[index] == "*" and index > 0 and text[index - 1] == "(":
                pieces.append(re.escape("*"))
                index += 1
            elif text[index] == "*":
                pieces.append("[^/]*")
                index += 1
            else:
                pieces.append(re.escape(text[index]))
                index += 1
        return cls(text, re.compile("".join(pieces)))

    def matches(self, function: str) -> bool:
        """True if `function` (a full name) or a function enclosing it matches."""
        return any(self.regex.fullmatch(name) for name in enclosing_names(function))


def enclosing_names(function: str) -> list[str]:
    """`function` without type arguments, then each function enclosing it (closures)."""
    name = without_type_args(function)
    names = [name]
    while (parent := enclosing_function(name)) is not None:
        name = parent
        names.append(name)
    return names


_SHARE_RE = re.compile(r"^(\d{1,3}(?:\.\d{1,6})?)%$")


def parse_share(text: str) -> float:
    """`1%` -> 0.01 (`hot-share`, `check --hot-share`); raises ValueError with the reason."""
    match = _SHARE_RE.match(text.strip())
    if match is None or not 0 < float(match.group(1)) <= 100:
        raise ValueError(f"a share must read like 1% or 0.5% (above 0, at most 100%), not {text!r}")
    return float(match.group(1)) / 100


def check_profile_path(path: str) -> str | None:
    """Why a configured heap profile path is refused, or None: the configuration is the
    checked repository's, so its paths stay inside its directory."""
    if os.path.isabs(path) or ".." in path.replace("\\", "/").split("/"):
        return "must be a relative path inside the configuration's directory"
    return None


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits for every function the pattern matches (each function on its own)."""

    pattern: FunctionPattern
    max_sites: int | None = None
    max_bytes: int | None = None
    forbid: tuple[AllocPath, ...] = ()
    none: bool = False
    line: int = 0


@dataclass(frozen=True, slots=True)
class Config:
    """path: the file it came from ("" for defaults); base: where relative paths start."""

    path: str
    base: str
    hot: tuple[FunctionPattern, ...] = ()
    budgets: tuple[Budget, ...] = ()
    baseline: str = ""
    targets: tuple[str, ...] = ()
    tests: bool = False
    profiles: tuple[str, ...] = ()  # heap profiles, relative to base (profile/hot.py)
    hot_share: str = ""  # "1%": functions holding that share of the profile are hot
    unmatched_patterns: str = "error"

    @property
    def baseline_path(self) -> str:
        return os.path.join(self.base, self.baseline or DEFAULT_BASELINE)

    @property
    def file(self) -> str:
        """The configuration file's absolute path ("" for defaults)."""
        return os.path.join(self.base, os.path.basename(self.path)) if self.path else ""

    def is_hot_name(self, function: str) -> bool:
        patterns = (*self.hot, *(b.pattern for b in self.budgets))
        return any(p.matches(function) for p in patterns)


# --------------------------------------------------------------------------- discovery


def find_config(start: str) -> tuple[str, tuple[str, ...]] | None:
    """(file, table path) of the configuration for `start`, or None.

    Walks up from `start` to the module root (inclusive); at each level an
    escape-lens.toml wins over a pyproject.toml with `[tool.escape-lens]`.
    """
    here = Path(start).resolve()
    if here.is_file() or not here.exists():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_NAME
        if os.path.lexists(candidate):
            # Whatever it is (a FIFO, a link to /dev/zero, a directory): the file meant
            # to configure this run, so an error if unreadable, never silently skipped.
            return str(candidate), ()
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return str(pyproject), ("tool", "escape-lens")
        if (directory / "go.mod").is_file():
            return None
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        text = read_text(path, limit=MAX_CONFIG_BYTES, what="pyproject.toml", error=ConfigError)
    except ConfigError:
        return False  # not a readable file at all: not one that configures us
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        # A broken pyproject.toml that may not even be ours: only an error if it is used.
        return "[tool.escape-lens" in text
    return isinstance(data.get("tool"), dict) and "escape-lens" in data["tool"]


def load_config(explicit: str | None, start: str) -> Config:
    """The configuration for a run: `explicit` (--config) or the one found from `start`."""
    if explicit is not None:
        if not os.path.lexists(explicit):
            raise ConfigError(f"{explicit}: no such configuration file")
        table: tuple[str, ...] = ()
        if os.path.basename(explicit) == PYPROJECT:
            table = ("tool", "escape-lens")
        return parse_config_file(explicit, table)
    found = find_config(start)
    if found is None:
        root = find_go_mod(start) or os.path.abspath(
            start if os.path.isdir(start) else os.path.dirname(start) or "."
        )
        return Config(path="", base=root)
    return parse_config_file(*found)


def parse_config_file(path: str, table: tuple[str, ...] = ()) -> Config:
    shown = _display(path)
    text = read_text(path, limit=MAX_CONFIG_BYTES, what="configuration", error=ConfigError)
    return parse_config_text(text, shown, os.path.dirname(os.path.abspath(path)), table)


def _display(path: str) -> str:
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else path


# --------------------------------------------------------------------------- parsing

_TOP_KEYS = {
    "baseline": "a path (string)",
    "hot": "a list of function patterns",
    "budget": "a list of tables ([[budget]])",
    "targets": "a list of Go targets",
    "tests": "a boolean",
    "profile": "a list of heap profile paths",
    "hot-share": 'a share of the profiled bytes, like "1%"',
    "unmatched-patterns": f"one of {', '.join(repr(v) for v in UNMATCHED)}",
}
_BUDGET_KEYS = {
    "function": "a function pattern",
    "max-sites": "a non-negative integer",
    "max-bytes": "a non-negative integer",
    "forbid": f"a list of paths ({', '.join(PATHS)})",
    "none": "a boolean",
}


def parse_config_text(text: str, source: str, base: str, table: tuple[str, ...] = ()) -> Config:
    """Parse and validate; `table` is where our keys live (`tool.escape-lens` in pyproject)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)$", message)
        line = match.group(1) if match else "1"
        reason = message[: match.start()].strip() if match else message
        raise ConfigError(f"{source}:{line}: invalid TOML: {reason}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{source}: invalid TOML: nested too deeply") from exc
    lines = _KeyLines(text)
    data: Any = document
    for name in table:
        data = data.get(name, {}) if isinstance(data, dict) else {}
    validator = _Validator(source, lines, table)
    if not isinstance(data, dict):
        validator.fail((), "must be a table")
    return validator.config(data, base)


class _Validator:
    def __init__(self, source: str, lines: _KeyLines, table: tuple[str, ...]) -> None:
        self.source = source
        self.lines = lines
        self.table = table

    def fail(self, key: tuple[str | int, ...], message: str, value: object = None) -> None:
        line = self.lines.line_of((*self.table, *key), value)
        where = _key_text(key)
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{self.source}:{line}: {prefix}{message}")

    def config(self, data: Mapping[str, Any], base: str) -> Config:
        for key in data:
            if key not in _TOP_KEYS:
                self.fail((key,), f"unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
        baseline = data.get("baseline", "")
        if not isinstance(baseline, str) or ("baseline" in data and not baseline):
            self.fail(("baseline",), f"must be {_TOP_KEYS['baseline']}")
        hot = tuple(self.pattern(("hot",), p) for p in self.string_list(data, "hot"))
        unmatched = data.get("unmatched-patterns", "error")
        if unmatched not in UNMATCHED:
            self.fail(("unmatched-patterns",), f"must be {_TOP_KEYS['unmatched-patterns']}")
        targets = tuple(self.string_list(data, "targets"))
        for target in targets:
            try:
                reject_flag(target)
            except TargetError as exc:
                self.fail(("targets",), str(exc), target)
        tests = data.get("tests", False)
        if not isinstance(tests, bool):
            self.fail(("tests",), f"must be {_TOP_KEYS['tests']}")
        budgets_data = data.get("budget", [])
        if not isinstance(budgets_data, list) or not all(isinstance(b, dict) for b in budgets_data):
            self.fail(("budget",), f"must be {_TOP_KEYS['budget']}")
        budgets = tuple(self.budget(i, b) for i, b in enumerate(budgets_data))
        profiles, hot_share = self.profile_keys(data)
        return Config(
            path=self.source,
            base=base,
            hot=hot,
            budgets=budgets,
            baseline=baseline,
            targets=targets,
            tests=tests,
            profiles=profiles,
            hot_share=hot_share,
            unmatched_patterns=unmatched,
        )

    def profile_keys(self, data: Mapping[str, Any]) -> tuple[tuple[str, ...], str]:
        profiles = tuple(self.string_list(data, "profile"))
        for index, path in enumerate(profiles):
            refused = check_profile_path(path)
            if refused:
                self.fail(("profile", index), refused, path)
        hot_share = data.get("hot-share", "")
        if not isinstance(hot_share, str):
            self.fail(("hot-share",), f"must be {_TOP_KEYS['hot-share']} (a string)")
        if hot_share:
            try:
                parse_share(hot_share)
            except ValueError as exc:
                self.fail(("hot-share",), str(exc), hot_share)
        return profiles, hot_share

    def string_list(self, data: Mapping[str, Any], key: str) -> list[str]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail((key,), f"must be {_TOP_KEYS[key]} (strings)")
        return list(value)

    def pattern(self, key: tuple[str | int, ...], text: str) -> FunctionPattern:
        try:
            pattern = FunctionPattern.parse(text)
        except ValueError as exc:
            self.fail(key, f"invalid pattern {text!r}: {exc}", text)
            raise AssertionError("unreachable") from exc
        return replace(pattern, line=self.lines.line_of((*self.table, *key), text))

    def budget(self, index: int, data: Mapping[str, Any]) -> Budget:
        key: tuple[str | int, ...] = ("budget", index)
        for name in data:
            if name not in _BUDGET_KEYS:
                known = ", ".join(sorted(_BUDGET_KEYS))
                self.fail((*key, name), f"unknown key (known: {known})")
        if "function" not in data:
            self.fail(key, "missing 'function' (the pattern the budget applies to)")
        if not isinstance(data["function"], str):
            self.fail((*key, "function"), f"must be {_BUDGET_KEYS['function']} (a string)")
        pattern = self.pattern((*key, "function"), data["function"])
        limits: dict[str, int | None] = {}
        for name in ("max-sites", "max-bytes"):
            value = data.get(name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 0
            ):
                self.fail((*key, name), f"must be {_BUDGET_KEYS[name]}")
            limits[name] = value
        forbid = data.get("forbid", [])
        if not isinstance(forbid, list) or not all(isinstance(p, str) for p in forbid):
            self.fail((*key, "forbid"), f"must be {_BUDGET_KEYS['forbid']}")
        for path in forbid:
            if path not in PATHS:
                self.fail(
                    (*key, "forbid"), f"unknown path {path!r} (known: {', '.join(PATHS)})", path
                )
        none = data.get("none", False)
        if not isinstance(none, bool):
            self.fail((*key, "none"), f"must be {_BUDGET_KEYS['none']}")
        if limits["max-sites"] is None and limits["max-bytes"] is None and not forbid and not none:
            self.fail(key, "sets no limit (max-sites, max-bytes, forbid or none)")
        return Budget(
            pattern=pattern,
            max_sites=limits["max-sites"],
            max_bytes=limits["max-bytes"],
            forbid=tuple(AllocPath(path) for path in forbid),
            none=none,
            line=self.lines.line_of((*self.table, *key)),
        )


def _key_text(key: Sequence[str | int]) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# --------------------------------------------------------------------------- key lines

_TABLE_RE = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY_RE = re.compile(
    r"^\s*((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)


def _split_key(text: str) -> tuple[str, ...]:
    parts = re.findall(r"[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'", text)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


class _KeyLines:
    """Line numbers of keys and tables in TOML text, keyed by their path.

    Array-of-tables entries get their index in the path (`("budget", 1, "max-sites")`),
    as the parsed document has them. Lines inside multi-line strings are skipped.
    """

    def __init__(self, text: str) -> None:
        self.text_lines = text.splitlines()
        self.lines: dict[tuple[str | int, ...], int] = {}
        counts: dict[tuple[str | int, ...], int] = {}
        current: tuple[str | int, ...] = ()
        in_string: str | None = None
        for number, line in enumerate(self.text_lines, start=1):
            if in_string is not None:
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            table = _TABLE_RE.match(line)
            if table:
                path = _split_key(table.group(2))
                if table.group(1) == "[[":
                    index = counts.get(path, 0)
                    counts[path] = index + 1
                    current = (*path, index)
                else:
                    current = path
                self.lines.setdefault(current, number)
                continue
            key = _KEY_RE.match(line)
            if key:
                self.lines.setdefault((*current, *_split_key(key.group(1))), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote

    def line_of(self, path: tuple[str | int, ...], value: object = None) -> int:
        """The line of `path` (or its nearest known parent); of `value` in it if given."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                break
        else:
            return 1
        if isinstance(value, str):
            for number in range(line, len(self.text_lines) + 1):
                text = self.text_lines[number - 1]
                if f'"{value}"' in text or f"'{value}'" in text:
                    return number
        return line
