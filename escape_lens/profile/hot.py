"""`check --profile FILE --hot-share 1%`: functions that hold a share of the profiled bytes
are hot paths, beside the declared ones.

Invariants:
- A function's bytes are the observed bytes of its sites (closures count as their
  enclosing function, as hot patterns do), over the whole profile's bytes, in the chosen
  sample's values; only sites the profile matched count.
- Profile-hot functions become exact patterns added to the configuration's `hot` list,
  so the gate, the baseline and every output treat them like declared ones.
- The share comes from the command line or the configuration, which is untrusted: it
  must read `N%` with 0 < N <= 100, and configured profile paths must be relative paths
  inside the configuration's directory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import replace

from escape_lens.config import Config, FunctionPattern, enclosing_names, qualified_name
from escape_lens.errors import UsageError
from escape_lens.records import Report

_SHARE_RE = re.compile(r"^(\d{1,3}(?:\.\d{1,6})?)%$")


def parse_share(text: str) -> float:
    """`1%` -> 0.01; raises ValueError with the reason."""
    match = _SHARE_RE.match(text.strip())
    if match is None or not 0 < float(match.group(1)) <= 100:
        raise ValueError(f"a share must read like 1% or 0.5% (above 0, at most 100%), not {text!r}")
    return float(match.group(1)) / 100


def check_profile_path(path: str) -> str | None:
    """Why a configured profile path is refused, or None."""
    if os.path.isabs(path) or ".." in path.replace("\\", "/").split("/"):
        return "must be a relative path inside the configuration's directory"
    return None


def hot_functions(report: Report, share: float) -> list[str]:
    """Functions (as hot patterns name them) holding at least `share` of the profile."""
    profile = report.profile
    if profile is None or profile.bytes <= 0:
        return []
    by_function: dict[str, int] = {}
    for site in report.sites:
        if site.observed is not None:
            name = enclosing_names(qualified_name(site.package, site.function))[-1]
            by_function[name] = by_function.get(name, 0) + site.observed.bytes
    return sorted(name for name, size in by_function.items() if size >= share * profile.bytes)


def with_profile_hot(
    report: Report,
    config: Config,
    profiles: Sequence[str],
    hot_share: str | None,
) -> tuple[Report, Config]:
    """The report joined to the profiles (the command line's, else the configuration's)
    and the configuration with the profile-hot functions added to `hot`."""
    from escape_lens.profile import attach_profiles

    share_text = hot_share if hot_share is not None else config.hot_share
    paths = list(profiles) or [os.path.join(config.base, p) for p in config.profiles]
    if share_text and not paths:
        raise UsageError("--hot-share needs a heap profile (--profile FILE or `profile` in config)")
    if not paths:
        return report, config
    report = attach_profiles(report, paths)
    if not share_text:
        return report, config
    try:
        share = parse_share(share_text)
    except ValueError as exc:
        raise UsageError(f"--hot-share: {exc}") from exc
    patterns = tuple(
        FunctionPattern(name, re.compile(re.escape(name))) for name in hot_functions(report, share)
    )
    return report, replace(config, hot=(*config.hot, *patterns))
