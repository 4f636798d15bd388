"""Advice on a site: why its object is on the heap (causes), what would remove or shrink
it (hints, layout) and which sites to fix first (rank). Pure functions of the records;
the reporters call them when they render (docs/analyze.md#causes-and-hints)."""
