"""Binary mode's report: the calls a binary holds, joined and predicted like source mode's.

`analyze_binary` reads the binary (escape_lens.binary, which only reads) and hands its
calls to the join (`escape_lens.sites.join_sites` with calls only, origin "binary") and
the model of the Go version and GOEXPERIMENT the binary was built with. Sites are
sorted and fingerprinted as in source mode (escape_lens/analyze.py), so the two
modes' reports compare site by site (escape_lens/crosscheck.py).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace

from escape_lens import __version__, model
from escape_lens.analyze import sort_sites
from escape_lens.binary import import_path, read_binary
from escape_lens.fingerprint import assign_fingerprints
from escape_lens.records import Report, Site
from escape_lens.sites import join_sites


def analyze_binary(path: str | os.PathLike[str], packages: Sequence[str] | None = None) -> Report:
    """Every allocation call in the functions of `packages` (Go package patterns; default:
    the main module's packages), as sites with the model's predictions."""
    found = read_binary(path, packages)
    toolchain = found.toolchain
    rules = model.rules_for(toolchain.version, toolchain.goexperiment)
    sites: list[Site] = [
        replace(site, package=import_path(site.package, found.main_path))
        for site in join_sites(
            found.calls, (), rules, functions=found.spans, types=found.types, origin="binary"
        )
    ]
    return Report(
        tool_version=__version__,
        toolchain=toolchain,
        packages=found.packages,
        sites=tuple(assign_fingerprints(sort_sites(sites))),
        root=found.root,
        origin="binary",
    )
