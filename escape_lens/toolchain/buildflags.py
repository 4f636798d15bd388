"""The build the user asked for: `--tags`, `--gcflags` and the GOFLAGS go reads itself.

Invariants:

- The target packages get one `-gcflags` (go gives a package the last one whose pattern
  matches it): the user's extra compiler flags, then escape-lens's own `-m=2 -S` last,
  so the listing escape-lens reads is always there. The user's flags are those of
  `--gcflags` after those of a GOFLAGS `-gcflags` that applies to the targets (no
  pattern, or `all=`); go itself would let the command line's flag hide GOFLAGS' one,
  and a "no inlining" run that silently inlines is wrong. Other patterns in GOFLAGS
  are an error: which packages they match is go's business, not guessed here.
- GOFLAGS (the environment's, else `go env -w`'s, as `go env GOFLAGS` says) is passed on
  to go explicitly, minus what changes only the text the compiler prints: coverage
  (`-cover`, `-covermode`, `-coverpkg`: counters do not allocate, but they shift every
  column and change inlining budgets) and `-trimpath` (file names no longer point at
  files). What is dropped is listed in the report (`BuildSettings.ignored`).
- `-race`, `-msan`, `-asan`, `-tags` and the rest are go's: applied and shown.
- Nothing here comes from the analysed repository: tags and flags are the command
  line's and the user's environment's only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from escape_lens.errors import UsageError
from escape_lens.records import BuildSettings

OWN_GCFLAGS = ("-m=2", "-S")
_DROPPED = ("-cover", "-covermode", "-coverpkg", "-trimpath")
_TAG = re.compile(r"^[A-Za-z0-9_.]+$")
_UNSAFE = re.compile(r"[\s'\"\\]")


@dataclass(frozen=True, slots=True)
class BuildFlags:
    """What the go command is given: `argv` (flags before the targets), `goflags` (the
    GOFLAGS environment value), and the settings the report shows."""

    argv: tuple[str, ...]
    goflags: str
    settings: BuildSettings


def parse_tags(text: str | None) -> tuple[str, ...]:
    """`a,b` or `a b` (as go's -tags) -> ('a', 'b'); UsageError for a malformed tag."""
    tags = tuple(t for t in re.split(r"[,\s]+", text or "") if t)
    for tag in tags:
        if not _TAG.match(tag):
            raise UsageError(f"--tags: {tag!r} is not a build tag (letters, digits, _ and .)")
    return tags


def parse_gcflags(text: str | None, source: str = "--gcflags") -> tuple[str, ...]:
    """Compiler flags separated by spaces (`-l -N`); each must be one flag."""
    flags = tuple((text or "").split())
    for flag in flags:
        if not flag.startswith("-") or _UNSAFE.search(flag):
            raise UsageError(f"{source}: {flag!r} is not a compiler flag (-l, -N, -d=...)")
    return flags


def build_flags(
    env: Mapping[str, str], *, tags: Sequence[str] = (), gcflags: Sequence[str] = ()
) -> BuildFlags:
    """The go command's flags and GOFLAGS for `go env`'s `env` and the user's options."""
    kept: list[str] = []
    ignored: list[str] = []
    inherited: tuple[str, ...] = ()
    goflags_tags: tuple[str, ...] = ()
    for item in env.get("GOFLAGS", "").split():
        name, has_value, value = item.lstrip("-").partition("=")
        if "-" + name in _DROPPED:
            ignored.append(item)
            continue
        if name == "gcflags":
            inherited = _targets_gcflags(value if has_value else "")
        elif name == "tags":
            goflags_tags = parse_tags(value)
        kept.append(item)
    effective_tags = tuple(tags) or goflags_tags  # go's rule: the command line's -tags wins
    extra = (*inherited, *gcflags)
    argv = [f"-gcflags={' '.join((*extra, *OWN_GCFLAGS))}"]
    if tags:
        argv.append(f"-tags={','.join(tags)}")
    settings = BuildSettings(
        tags=effective_tags,
        gcflags=extra,
        goflags=tuple(kept),
        ignored=tuple(ignored),
    )
    return BuildFlags(tuple(argv), " ".join(kept), settings)


def _targets_gcflags(value: str) -> tuple[str, ...]:
    """The flags of a GOFLAGS `-gcflags=[pattern=]flags` that reach the targets."""
    pattern, has_pattern, flags = value.partition("=")
    if not has_pattern or pattern.startswith("-"):
        return parse_gcflags(value, "GOFLAGS -gcflags")
    if pattern == "all":
        return parse_gcflags(flags, "GOFLAGS -gcflags")
    raise UsageError(
        f"GOFLAGS -gcflags={value}: escape-lens cannot tell which targets the pattern "
        f"{pattern!r} matches; give the flags with --gcflags"
    )
