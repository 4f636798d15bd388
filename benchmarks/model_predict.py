"""How fast the allocator model answers: predictions per second (run by hand).

    .venv/bin/python benchmarks/model_predict.py

analyze calls `predict` once per allocation site (plus a few objects per map or channel),
so even large modules (10^5 sites) should spend well under a second in the model.
"""

from __future__ import annotations

import time

from escape_lens.model import map_objects, predict, rules_for
from escape_lens.records import GoVersion


def main() -> None:
    rules = rules_for(GoVersion(1, 27, 3))
    sizes = [(size, size % 3 == 0) for size in range(40_000)]
    start = time.perf_counter()
    for size, pointers in sizes:
        predict(size, pointers, rules)
    elapsed = time.perf_counter() - start
    print(f"predict: {len(sizes) / elapsed:,.0f} per second")
    start = time.perf_counter()
    for hint in range(10_000):
        map_objects(8, False, 8, False, hint, rules)
    elapsed = time.perf_counter() - start
    print(f"map_objects: {10_000 / elapsed:,.0f} per second")
    start = time.perf_counter()
    for minor in range(21, 28):
        for _ in range(1000):
            rules_for(GoVersion(1, minor), ("greenteagc",))
    elapsed = time.perf_counter() - start
    print(f"rules_for: {7000 / elapsed:,.0f} per second")


if __name__ == "__main__":
    main()
