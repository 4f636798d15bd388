"""A `Prediction` as the JSON object of the `escape-lens/1` schema, and back.

Shared by analyze's sites (reporters/json_report.py) and `sizeclass --format json`
(reporters/sizeclass.py): a module of its own so that `sizeclass` loads no more of the
report schema than this object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from escape_lens.records import Prediction
from escape_lens.vocab import AllocPath

PREDICTION_FIELDS = tuple(f.name for f in fields(Prediction))


def prediction_to_dict(prediction: Prediction) -> dict[str, Any]:
    return {name: getattr(prediction, name) for name in PREDICTION_FIELDS}


def prediction_from_dict(data: Mapping[str, Any]) -> Prediction:
    values: dict[str, Any] = {name: data.get(name) for name in PREDICTION_FIELDS}
    values["path"] = AllocPath(values["path"])
    return Prediction(**values)
