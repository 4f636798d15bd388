"""The profile parts of the `escape-lens/1` JSON schema (docs/profiles.md).

Present only in reports joined to a heap profile: each site's `observed` (and `per_op`
with `--bench`), and the report's `profile` block. Kept apart from json_report.py,
which calls these, so the base schema reads on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from escape_lens.profile.unrecorded import UNRECORDED
from escape_lens.records import (
    Observed,
    ObservedSize,
    ProfileSummary,
    Site,
    UnattributedPosition,
)
from escape_lens.vocab import ProfileSample


def site_profile_fields(site: Site, profile: ProfileSummary) -> dict[str, Any]:
    observed = site.observed
    fields: dict[str, Any] = {"observed": None}
    if observed is not None:
        fields["observed"] = {
            "objects": observed.objects,
            "bytes": observed.bytes,
            "sizes": [{"bytes": s.bytes, "objects": s.objects} for s in observed.sizes],
            "share": share(observed.bytes, profile.bytes),
            "model_disagreement": observed.disagreement or None,
            "shared_with_sites": observed.shared,
        }
    if profile.operations is not None:
        fields["per_op"] = (
            {"objects": observed.per_op_objects, "bytes": observed.per_op_bytes}
            if observed is not None
            else None
        )
    return fields


def share(part: int, whole: int) -> float:
    """Fraction of the profile, rounded so the JSON is the same on every machine."""
    return round(part / whole, 6) if whole else 0.0


def profile_to_dict(profile: ProfileSummary) -> dict[str, Any]:
    data: dict[str, Any] = {
        "files": list(profile.files),
        "sample": str(profile.sample),
        "rate": profile.rate,
        "objects": profile.objects,
        "bytes": profile.bytes,
        "attributed_objects": profile.attributed_objects,
        "attributed_bytes": profile.attributed_bytes,
        "unattributed": [
            {
                "function": row.function,
                "file": row.file,
                "line": row.line,
                "objects": row.objects,
                "bytes": row.bytes,
                "reason": row.reason,
            }
            for row in profile.unattributed
        ],
        "unrecorded": list(UNRECORDED),
    }
    if profile.operations is not None:
        data["operations"] = profile.operations
        data["benchmarks"] = [{"name": name, "operations": n} for name, n in profile.benchmarks]
    return data


def observed_from_dict(data: Mapping[str, Any] | None, per_op: Any) -> Observed | None:
    if data is None:
        return None
    per_op = per_op if isinstance(per_op, Mapping) else {}
    return Observed(
        objects=int(data["objects"]),
        bytes=int(data["bytes"]),
        sizes=tuple(ObservedSize(int(s["bytes"]), int(s["objects"])) for s in data["sizes"]),
        per_op_objects=per_op.get("objects"),
        per_op_bytes=per_op.get("bytes"),
        disagreement=str(data.get("model_disagreement") or ""),
        shared=int(data.get("shared_with_sites", 1)),
    )


def profile_from_dict(data: Mapping[str, Any] | None) -> ProfileSummary | None:
    if data is None:
        return None
    return ProfileSummary(
        files=tuple(str(f) for f in data["files"]),
        sample=ProfileSample(data["sample"]),
        objects=int(data["objects"]),
        bytes=int(data["bytes"]),
        attributed_objects=int(data.get("attributed_objects", 0)),
        attributed_bytes=int(data["attributed_bytes"]),
        unattributed=tuple(
            UnattributedPosition(
                str(row["function"]),
                str(row["file"]),
                int(row["line"]),
                int(row["objects"]),
                int(row["bytes"]),
                str(row.get("reason", "")),
            )
            for row in data["unattributed"]
        ),
        rate=int(data.get("rate", 0)),
        operations=data.get("operations"),
        benchmarks=tuple(
            (str(b["name"]), int(b["operations"])) for b in data.get("benchmarks", ())
        ),
    )
