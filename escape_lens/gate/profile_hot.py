"""`check --profile FILE --hot-share 1%`: functions that hold a share of the profiled bytes
are hot paths, beside the declared ones.

Invariants:
- A function's bytes are the observed bytes of its sites (closures count as their
  enclosing function, as hot patterns do), over the whole profile's bytes, in the chosen
  sample's values; only sites the profile matched count.
- Profile-hot functions become exact patterns added to the configuration's `hot` list,
  so the gate, the baseline and every output treat them like declared ones.
- The share comes from the command line or the configuration, which is untrusted: both
  are validated by gate/config.py (`N%` with 0 < N <= 100; configured profile paths
  relative, inside the configuration's directory).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import replace

from escape_lens.errors import UsageError
from escape_lens.gate.config import Config, FunctionPattern, enclosing_names, parse_share
from escape_lens.gonames import qualified_name
from escape_lens.profile import attach_profiles
from escape_lens.records import Report


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
