"""Focus: which sites of a report a reader asked to see, in which order, how many.

`analyze --function/--file/--path/--min-bytes/--sort/--top/--all` narrow a `Report`
here, before any renderer sees it, so every format shows the same sites.

Invariants:
- No focus option given and the escape lines kept: the report comes back unchanged (the
  same object). Escape lines that allocate nothing are dropped only where the format
  hides them without `--all` (`HIDES_QUIET_LINES`: text); JSON keeps them, with their
  reason, whatever is asked; and the summary counts what was hidden.
- Filters only remove sites; a site that passes is unchanged. With a filter, the report
  keeps only the packages that still have a site (an empty package would read "no heap
  allocations", which the filter does not know).
- `--sort` is a stable sort over the report's order (by position), so ties stay in
  source order and the output is deterministic. `SORT_KEYS` is the one table of sort
  orders; an order is a name and a key (larger key first).
- `--top N` keeps the first N allocating sites in that order; escape lines that allocate
  nothing rank nowhere and are dropped with it.
- `--path` and `--min-bytes` select allocating sites. `--path` takes the words every
  output counts sites under (`vocab.SitePath`, `model.explain.site_path`): a site the
  model could not size is `pooled` or `unknown`, with 0 bytes.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from escape_lens.gonames import qualified_name
from escape_lens.records import Report, Site
from escape_lens.vocab import SitePath, counted

if TYPE_CHECKING:  # (a pattern is parsed by the CLI, only when --function is given)
    from escape_lens.gate.config import FunctionPattern

# name -> key of a site; larger keys first, ties in source order.
SORT_KEYS: dict[str, Callable[[Site], float]] = {
    "position": lambda site: 0,
    "bytes": lambda site: site.class_bytes,
    "waste": lambda site: site.waste_bytes,
    # a heap profile's bytes (analyze --profile/--bench); text then ranks sites by it
    "observed": lambda site: site.observed.bytes if site.observed is not None else 0,
}
DEFAULT_SORT = "position"
# Formats that list escape lines with no allocation behind them only under `--all`.
# JSON lists them always (`allocates: false` and the note that says why), HTML behind its
# own switch; the findings formats (SARIF, GitHub, Code Quality) never list them.
HIDES_QUIET_LINES = frozenset({"text"})


@dataclass(frozen=True, slots=True)
class Focus:
    function: FunctionPattern | None = None
    file: str | None = None
    paths: tuple[SitePath, ...] = ()
    min_bytes: int | None = None
    sort: str = DEFAULT_SORT
    top: int | None = None
    # escape lines that allocate nothing are kept (`--all`, or a format that lists them)
    quiet_lines: bool = True

    @property
    def active(self) -> bool:
        return self != Focus()

    @property
    def narrows(self) -> bool:
        """An option that selects, orders or cuts sites (not `--all` alone)."""
        return replace(self, quiet_lines=True) != Focus()

    def describe(self) -> str:
        """The options as the user gave them: `--path large --top 20`."""
        words = []
        if self.function is not None:
            words.append(f"--function {self.function.text}")
        if self.file is not None:
            words.append(f"--file {self.file}")
        words += [f"--path {path}" for path in self.paths]
        if self.min_bytes is not None:
            words.append(f"--min-bytes {self.min_bytes}")
        if self.sort != DEFAULT_SORT:
            words.append(f"--sort {self.sort}")
        if self.top is not None:
            words.append(f"--top {self.top}")
        return " ".join(words)

    def selects(self, site: Site) -> bool:
        if self.function is not None and not self.function_matches(site):
            return False
        if self.file is not None and not _file_matches(self.file, site.pos.file):
            return False
        if self.paths and _site_path(site) not in self.paths:
            return False
        if (self.paths or self.min_bytes is not None) and not site.allocates:
            return False
        return self.min_bytes is None or site.class_bytes >= self.min_bytes

    def function_matches(self, site: Site) -> bool:
        assert self.function is not None
        return self.function.matches(site.function) or self.function.matches(
            qualified_name(site.package, site.function)
        )


def _site_path(site: Site) -> str | None:
    # Imported here: analyze reads its options (Focus) before go starts, the model
    # loads while go runs.
    from escape_lens.model.explain import site_path

    return site_path(site)


def _file_matches(glob: str, file: str) -> bool:
    """The glob against the path (relative to the report root) or its base name."""
    path = file.replace("\\", "/")
    return fnmatch.fnmatchcase(path, glob) or fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], glob)


@dataclass(frozen=True, slots=True)
class Focused:
    """The narrowed report, and how many allocating sites it had and shows."""

    report: Report
    shown: int
    total: int
    # escape lines without an allocation that the other options kept and `--all` would show
    hidden_quiet_lines: int = 0

    def summary(self, focus: Focus) -> str:
        """What was left out, a line each ("" when nothing was)."""
        lines = []
        if focus.narrows:
            lines.append(
                f"focus: {self.shown} of {self.total} allocating sites shown ({focus.describe()})"
            )
        if self.hidden_quiet_lines:
            lines.append(
                f"{counted(self.hidden_quiet_lines, 'escape line')} without an allocation"
                " not shown (--all shows them)"
            )
        return "\n".join(lines)


def apply_focus(report: Report, focus: Focus) -> Focused:
    total = sum(1 for site in report.sites if site.allocates)
    if not focus.active:
        return Focused(report, total, total)
    sites = [site for site in report.sites if focus.selects(site)]
    hidden = 0
    if not focus.quiet_lines and focus.top is None:  # --top drops them anyway
        hidden = sum(1 for site in sites if not site.allocates)
        sites = [site for site in sites if site.allocates]
    if focus.sort != DEFAULT_SORT:
        key = SORT_KEYS[focus.sort]
        sites.sort(key=lambda site: -key(site))
    if focus.top is not None:
        sites = [site for site in sites if site.allocates][: focus.top]
    if not hidden and len(sites) == len(report.sites) and not focus.narrows:
        return Focused(report, total, total)  # nothing to hide: the same object
    kept = {site.package for site in sites}
    packages = report.packages
    if focus.narrows:  # a package a filter emptied is not one with "no heap allocations"
        packages = tuple(package for package in packages if package in kept)
    focused = replace(report, sites=tuple(sites), packages=packages)
    return Focused(focused, sum(1 for site in sites if site.allocates), total, hidden)
