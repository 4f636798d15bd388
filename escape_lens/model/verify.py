"""Proof of the model against the running Go runtime.

The measurement program (escape_lens/model/measure, shipped with the package)
allocates live objects of each size, with and without pointers, and reports from
runtime/metrics where they landed. `verify` builds it with a given toolchain, runs it,
and compares every case with `predict` for that toolchain's rules. What is compared, per path:

- none:  nothing allocated at all.
- tiny:  only 16-byte class-2 blocks and packed tiny objects, blocks + packed = N, and
         blocks = ceil(N / (16 // size)) (the steady-state share the model charges);
         16-byte blocks per page = the tiny span's objects per span.
- small: all N objects in the predicted class and nothing else; for classes > 512 B
         every object sits 8 bytes past a 64-byte boundary iff a malloc header is
         predicted; for 1-page spans the most objects on one page = objects per span.
- large: N large objects of exactly class_bytes each (page-rounded), page-aligned.

The runtime is right by definition: any difference is reported as a problem of the model.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from escape_lens.errors import ToolchainError
from escape_lens.model._tables import CLASS_TO_SIZE
from escape_lens.model.rules import AllocRules, rules_for
from escape_lens.model.sizeclass import TINY_SIZE, predict, tiny_share
from escape_lens.records import GoToolchain, Prediction
from escape_lens.toolchain import run
from escape_lens.vocab import AllocPath

BUILD_TIMEOUT = 600.0
RUN_TIMEOUT = 300.0

# Sizes around every boundary that matters: tiny (< 16), the header threshold (512), the
# 8-byte/128-byte lookup seam (1016/1024), the small limit (32760 from 1.22, 32768 in
# 1.21); and every class size and the byte after it, which covers the class steps and the
# scan sizes a malloc header moves up a class. Pointerful types are whole words, so their
# sizes are rounded up to 8 (as the measurement program does).
BOUNDARY_SIZES: tuple[int, ...] = (
    *(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 24, 25, 31, 32, 33, 40, 48, 49),
    *(80, 81, 88, 504, 505, 512, 513, 520, 1008, 1016, 1017, 1024, 1025, 1032),
    *(8184, 32752, 32760, 32761, 32768, 32769, 40960, 65536),
)


def _default_cases() -> tuple[tuple[int, bool], ...]:
    sizes = set(BOUNDARY_SIZES)
    for size in CLASS_TO_SIZE[1:]:
        sizes |= {size, size + 1}
    noscan = sorted(sizes)
    scan = sorted({max(8, -(-size // 8) * 8) for size in sizes})
    return (*((s, False) for s in noscan), *((s, True) for s in scan))


DEFAULT_CASES = _default_cases()


def measure_dir() -> Path:
    """The measurement program's Go module, shipped inside the package as data."""
    return Path(__file__).resolve().parent / "measure"


@dataclass(frozen=True, slots=True)
class Observation:
    """One case as the runtime reported it (the measurement program's JSON line)."""

    case: str
    size: int
    pointers: bool
    type_size: int
    n: int
    classes: dict[int, int]  # class bytes -> objects counted in that class
    large: int
    large_bytes: int
    tiny: int
    bytes: int
    max_per_page: int
    max_blocks_per_page: int
    offsets64: tuple[int, ...]
    page_aligned: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Observation:
        return cls(
            case=str(data["case"]),
            size=int(data["size"]),
            pointers=bool(data["pointers"]),
            type_size=int(data["type_size"]),
            n=int(data["n"]),
            classes={int(k): int(v) for k, v in (data.get("classes") or {}).items()},
            large=int(data["large"]),
            large_bytes=int(data["large_bytes"]),
            tiny=int(data["tiny"]),
            bytes=int(data["bytes"]),
            max_per_page=int(data["max_per_page"]),
            max_blocks_per_page=int(data["max_blocks_per_page"]),
            offsets64=tuple(int(o) for o in data.get("offsets64") or ()),
            page_aligned=bool(data["page_aligned"]),
        )

    def summary(self) -> str:
        """What the runtime did, in the words of the text output."""
        parts = []
        if self.tiny:
            parts.append(f"{self.tiny} packed tiny")
        parts += [f"{count}x {size} B" for size, count in sorted(self.classes.items())]
        if self.large:
            parts.append(f"{self.large}x large ({self.large_bytes // self.large} B)")
        if not parts:
            return "no allocation"
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class CaseCheck:
    """The model's prediction for one case next to what the runtime did."""

    observation: Observation
    prediction: Prediction
    problems: tuple[str, ...] = ()

    @property
    def agrees(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class Verification:
    toolchain: GoToolchain
    runtime_version: str
    goexperiment: str
    rules: AllocRules
    checks: tuple[CaseCheck, ...] = field(default_factory=tuple)

    @property
    def matched(self) -> int:
        return sum(check.agrees for check in self.checks)

    @property
    def mismatched(self) -> tuple[CaseCheck, ...]:
        return tuple(check for check in self.checks if not check.agrees)


def compare(observation: Observation, rules: AllocRules) -> CaseCheck:
    """Check one observation against `predict` for the size the runtime really got."""
    o = observation
    p = predict(o.type_size, o.pointers, rules)
    problems: list[str] = []

    def expect(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    if p.path == AllocPath.NONE:
        expect(not o.classes and not o.large and not o.tiny, "expected no allocation")
    elif p.path == AllocPath.TINY:
        blocks = o.classes.get(TINY_SIZE, 0)
        expect(set(o.classes) <= {TINY_SIZE} and not o.large, "expected only 16 B tiny blocks")
        expect(blocks + o.tiny == o.n, f"blocks + packed = {blocks + o.tiny}, expected {o.n}")
        share = tiny_share(o.type_size)
        expect(
            blocks == -(-o.n // share),
            f"{blocks} blocks for {o.n} objects, expected {share} per block",
        )
        expect(
            o.max_blocks_per_page == p.objects_per_span,
            f"{o.max_blocks_per_page} blocks per page, expected {p.objects_per_span}",
        )
    elif p.path == AllocPath.SMALL:
        expect(
            o.classes == {p.class_bytes: o.n} and not o.large and not o.tiny,
            f"expected all {o.n} in the {p.class_bytes} B class",
        )
        if p.class_bytes > 512:  # every such class is a multiple of 64: slots 64-aligned
            offset = p.header_bytes
            expect(
                o.offsets64 == (offset,),
                f"objects at 64-byte offsets {list(o.offsets64)}, expected [{offset}]"
                + (" (malloc header)" if offset else " (no header)"),
            )
        if p.span_pages == 1:
            expect(
                o.max_per_page == p.objects_per_span,
                f"{o.max_per_page} objects per span, expected {p.objects_per_span}",
            )
    else:
        expect(o.large == o.n and not o.classes and not o.tiny, f"expected {o.n} large objects")
        expect(
            o.large_bytes == o.n * p.class_bytes,
            f"large objects took {o.large_bytes // max(o.large, 1)} B, expected {p.class_bytes}",
        )
        expect(o.page_aligned, "large objects not page-aligned (expected no header)")
    return CaseCheck(o, p, tuple(problems))


def _case_args(cases: Iterable[tuple[int, bool]]) -> list[str]:
    seen: list[str] = []
    for size, pointers in cases:
        if size < 0:
            raise ValueError(f"size cannot be negative: {size}")
        arg = f"{size}:{'p' if pointers else 'n'}"
        if arg not in seen:
            seen.append(arg)
    return seen


def run_program(
    toolchain: GoToolchain,
    package: str = ".",
    args: Sequence[str] = (),
    goexperiment: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Build a package of the measurement module with `toolchain`, run it, parse its lines."""
    source = measure_dir()
    if not (source / "go.mod").is_file():
        raise ToolchainError(
            f"the measurement program is missing ({source}); reinstall escape-lens"
        )
    experiments = ",".join((*toolchain.goexperiment, *goexperiment))
    # The plain runtime: no -race or other flags from the user's GOFLAGS.
    env = {"GOFLAGS": "", "GOEXPERIMENT": experiments, "CGO_ENABLED": "0"}
    with tempfile.TemporaryDirectory(prefix="escape-lens-measure-") as tmp:
        binary = Path(tmp) / "measure"
        run(
            [toolchain.path, "build", "-o", str(binary), "--", package],
            cwd=str(source),
            env=env,
            timeout=BUILD_TIMEOUT,
        )
        result = run([str(binary), *args], env=env, timeout=RUN_TIMEOUT)
    lines: list[dict[str, Any]] = [
        json.loads(line) for line in result.stdout.splitlines() if line.strip()
    ]
    if not lines:
        raise ToolchainError("the measurement program printed nothing")
    return lines


def measure(
    toolchain: GoToolchain,
    cases: Iterable[tuple[int, bool]] = DEFAULT_CASES,
    goexperiment: Sequence[str] = (),
) -> tuple[dict[str, str], list[Observation]]:
    """Run the measurement program on `cases`: (runtime info, one observation per case)."""
    lines = run_program(toolchain, ".", _case_args(cases), goexperiment)
    info = {str(k): str(v) for k, v in lines[0].items()}
    return info, [Observation.from_json(line) for line in lines[1:]]


def verify(
    toolchain: GoToolchain,
    cases: Iterable[tuple[int, bool]] = DEFAULT_CASES,
    goexperiment: Sequence[str] = (),
) -> Verification:
    """Measure `cases` on `toolchain`'s runtime and compare each with the model."""
    rules = rules_for(toolchain.version, (*toolchain.goexperiment, *goexperiment))
    info, observations = measure(toolchain, cases, goexperiment)
    return Verification(
        toolchain=toolchain,
        runtime_version=info.get("go", ""),
        goexperiment=info.get("goexperiment", ""),
        rules=rules,
        checks=tuple(compare(o, rules) for o in observations),
    )
