"""The CI gate: hot-path allocation sites against a baseline and budgets -> findings.

The gate is its own layer on top of analysis and the reporters: it reads reports and
fills `escape_lens.findings` records; nothing below it imports it. Modules: `config`
(escape-lens.toml), `directives` (`//escape-lens:` comments), `hotpaths` (which sites are
judged), `evaluate` (the pure rules), `baseline` (the accepted sites file) and `run`
(build, load, evaluate: what `escape-lens check` runs).

Invariants:
- Only *hot* sites are judged: sites that allocate, in a function matched by a `hot`
  pattern or a budget's pattern, or marked `//escape-lens:hot` in source (closures count
  as their enclosing function). Everything else in the build is ignored.
- A site accepted by `//escape-lens:allow <reason>` is not judged at all: it is neither
  new nor grown, and does not count against a budget.
- With a baseline, a hot site the baseline lacks is new (EL001) and a matched site that
  costs more per execution grew (EL002); sites gone or cheaper are improvements (EL007,
  a note). Matching is `escape_lens.diff.match_sites` (fingerprints, not lines). Without
  a baseline file only budgets are checked, and the result says how to make one.
- Budgets apply to each matching function on its own (EL003, EL004).
- The result is a pure function of (report, config, directives, baseline); findings are
  sorted by position then rule, so every output format is deterministic.
- Exit code: 1 if any finding has level `error`, else 0 (warnings and notes never fail).
  A build in which a target package does not compile is not judged (BuildError, exit 2):
  its sites would look gone.
Rule ids and result records: `escape_lens.findings`; what users see: docs/check.md.
"""
