"""Advice on a site: why its object is on the heap (causes), what would remove or shrink
it (hints, layout) and which sites to fix first (rank). Pure functions of the records;
the reporters ask them once per site per report, through `report.ReportAdvice`, when they
render (docs/analyze.md#causes-and-hints)."""
