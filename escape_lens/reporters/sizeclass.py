"""`escape-lens sizeclass --format text|json`: predictions, the class table, a verification.

Text is for reading (one line per size, the table in aligned columns); json is JSON Lines,
one object per size, class or case, predictions as in `escape-lens/1`. Notes about the
rules (a newer Go than the model knows) go to stderr from the CLI, not here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from escape_lens.model.explain import explain, summary
from escape_lens.model.rules import AllocRules
from escape_lens.model.sizeclass import ClassRow
from escape_lens.records import Prediction, TypeInfo
from escape_lens.reporters.prediction_json import prediction_to_dict
from escape_lens.vocab import counted

if TYPE_CHECKING:  # `sizeclass SIZE` need not load the measuring code
    from escape_lens.model.verify import CaseCheck, Verification


def rules_line(rules: AllocRules) -> str:
    # Patch releases share their minor version's rules: name the minor version.
    experiments = ",".join(rules.goexperiment)
    name = f"go{rules.version.major}.{rules.version.minor} allocator"
    return name + (f" (GOEXPERIMENT={experiments})" if experiments else "")


# The table's columns, each right-aligned to its heading or its widest value (32768,
# 100.00%), two spaces apart so that two-word headings read as one.
TABLE_COLUMNS = (
    ("class", 5),
    ("bytes", 6),
    ("pages", 5),
    ("objs scan", 9),
    ("objs noscan", 11),
    ("tail waste", 10),
    ("max waste", 9),
)


class TextSizeclassReporter:
    def render_predictions(
        self, rules: AllocRules, pointers: bool, predictions: Sequence[Prediction], out: TextIO
    ) -> None:
        out.write(f"{rules_line(rules)}:\n")
        for prediction in predictions:
            out.write("  " + explain(prediction, pointers, rules) + "\n")

    def render_types(
        self,
        rules: AllocRules,
        platform: str,
        laid_out: Sequence[tuple[TypeInfo, Prediction]],
        out: TextIO,
    ) -> None:
        out.write(f"{rules_line(rules)}, {platform} layout:\n")
        for info, prediction in laid_out:
            pointers = (
                f"pointers in its first {info.ptrbytes} B" if info.ptrbytes else "no pointers"
            )
            out.write(f"  {info.name}: {info.size} B, {pointers}\n")
            out.write("    " + explain(prediction, info.ptrbytes > 0, rules) + "\n")

    def render_table(self, rules: AllocRules, rows: Sequence[ClassRow], out: TextIO) -> None:
        reserves = []
        if rules.span_bitmap:
            reserves.append("scan spans of objects <= 512 B keep a 1/64 pointer bitmap")
        if rules.green_tea:
            reserves.append("16..512-byte spans keep 128 B of Green Tea mark bits")
        out.write(f"{rules_line(rules)}: size classes, objects per span\n")
        if reserves:
            out.write("(" + "; ".join(reserves) + ")\n")
        out.write("  ".join(f"{name:>{width}}" for name, width in TABLE_COLUMNS) + "\n")
        for r in rows:
            cells = (
                r.size_class,
                r.class_bytes,
                r.span_pages,
                r.objects_scan,
                r.objects_noscan,
                r.tail_waste,
                f"{r.max_waste_pct:.2f}%",
            )
            out.write(
                "  ".join(f"{cell:>{w}}" for cell, (_, w) in zip(cells, TABLE_COLUMNS, strict=True))
                + "\n"
            )
        out.write(
            f"larger than {rules.max_small_size} B: large objects, own span of whole pages, "
            "span class 0 (scan) / 1 (noscan)\n"
        )

    def render_verification(self, result: Verification, out: TextIO) -> None:
        experiment = result.goexperiment or "default"
        out.write(
            f"measured on {result.runtime_version} (GOEXPERIMENT {experiment}, "
            f"{Path(result.toolchain.path)}):\n"
        )
        for check in result.checks:
            o = check.observation
            kind = "pointers" if o.pointers else "no pointers"
            verdict = "ok     " if check.agrees else "DIFFERS"
            out.write(
                f"  {verdict} {o.type_size:>6} B {kind:<11}  model: {summary(check.prediction)}"
                f"  runtime: {o.summary()}\n"
            )
            for problem in check.problems:
                out.write(f"          {problem}\n")
        total = len(result.checks)
        out.write(
            f"{result.matched} of {counted(total, 'case')} "
            + ("agrees" if result.matched == 1 else "agree")
            + " with the model"
            + ("" if not result.mismatched else f"; {len(result.mismatched)} differ")
            + ("s" if len(result.mismatched) == 1 else "")
            + "\n"
        )


def _check_dict(check: CaseCheck) -> dict[str, object]:
    o = check.observation
    return {
        "case": o.case,
        "size": o.size,
        "pointers": o.pointers,
        "type_size": o.type_size,
        "agrees": check.agrees,
        "problems": list(check.problems),
        "prediction": prediction_to_dict(check.prediction),
        "observed": {
            "n": o.n,
            "classes": {str(k): v for k, v in sorted(o.classes.items())},
            "large": o.large,
            "large_bytes": o.large_bytes,
            "tiny": o.tiny,
            "max_per_page": o.max_per_page,
            "max_blocks_per_page": o.max_blocks_per_page,
            "offsets64": list(o.offsets64),
        },
    }


class JsonSizeclassReporter:
    """JSON Lines: one object per line."""

    def render_predictions(
        self, rules: AllocRules, pointers: bool, predictions: Sequence[Prediction], out: TextIO
    ) -> None:
        for prediction in predictions:
            out.write(json.dumps(prediction_to_dict(prediction)) + "\n")

    def render_types(
        self,
        rules: AllocRules,
        platform: str,
        laid_out: Sequence[tuple[TypeInfo, Prediction]],
        out: TextIO,
    ) -> None:
        for info, prediction in laid_out:
            typed = {"type": info.name, "platform": platform, "ptrbytes": info.ptrbytes}
            out.write(json.dumps(typed | prediction_to_dict(prediction)) + "\n")

    def render_table(self, rules: AllocRules, rows: Sequence[ClassRow], out: TextIO) -> None:
        for row in rows:
            out.write(json.dumps(asdict(row)) + "\n")

    def render_verification(self, result: Verification, out: TextIO) -> None:
        for check in result.checks:
            out.write(json.dumps(_check_dict(check)) + "\n")


TEXT = TextSizeclassReporter()
JSON = JsonSizeclassReporter()
