"""The import graph of `escape_lens`, read with `ast`: no cycles, the gate on top, small modules.

Every import counts, including those inside functions and `importlib.import_module` calls
with an `"escape_lens..."` string literal (the lazy CLI commands and output registry), so
an import moved into a function to hide a cycle still fails here. See docs/design.md for
the layers.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "escape_lens"
GATE = "escape_lens.gate"
MAX_LINES = 500
MODULE_LITERAL = re.compile(r"^escape_lens(?:\.\w+)+$")

# The layers, lowest first: a module imports only its own layer and those below. The
# readers (parsers, binary) know nothing of the model; the toolchain runs them; the model
# and predictions come before the join (sites); the reporters render what analysis and
# findings hold; the gate sits on top of them all, and the CLI on the gate.
LAYERS: list[list[str]] = [
    [
        "escape_lens",
        "escape_lens.errors",
        "escape_lens.inputs",
        "escape_lens.log",
        "escape_lens.progress",
        "escape_lens.codec",
        "escape_lens.vocab",
        "escape_lens.records",
        "escape_lens.gonames",
        "escape_lens.gotypes",
        "escape_lens.pcvalue",
        "escape_lens.entries",
    ],
    ["escape_lens.parsers", "escape_lens.binary"],
    ["escape_lens.toolchain"],
    ["escape_lens.model"],
    [
        "escape_lens.predict",
        "escape_lens.fingerprint",
        "escape_lens.pairing",
        "escape_lens.stackbuf",
    ],
    ["escape_lens.sites"],
    ["escape_lens.analyze", "escape_lens.diff", "escape_lens.matrix", "escape_lens.profile"],
    ["escape_lens.binary_report", "escape_lens.findings"],
    ["escape_lens.crosscheck"],
    # advice: causes, hints and ranking, read from the sites when a report is written
    ["escape_lens.advice"],
    ["escape_lens.reporters"],
    # focus narrows a report for `analyze` with the gate's function patterns
    [GATE, "escape_lens.focus"],
    ["escape_lens.cli", "escape_lens.__main__"],
]

# Imports inside a function, (module, imported) -> why: only to keep the CLI fast.
LAZY_IMPORTS: dict[tuple[str, str], str] = {
    ("escape_lens.cli.analyze", "escape_lens.binary_report"): "source mode skips capstone",
    ("escape_lens.cli.analyze", "escape_lens.crosscheck"): "only --cross-check reads binaries",
    ("escape_lens.cli.analyze", "escape_lens.profile.callees"): "--binary --profile reads ELF",
    ("escape_lens.cli.analyze", "escape_lens.profile.join"): "protobuf only with a profile",
    ("escape_lens.cli.analyze", "escape_lens.reporters.text"): "formats load while go runs",
    ("escape_lens.cli.analyze", "escape_lens.reporters.text_layout"): "only --cross-check",
    ("escape_lens.cli.analyze", "escape_lens.profile.reader"): "protobuf only with a profile",
    ("escape_lens.cli.analyze", "escape_lens.cli.matrix"): "only with several --go",
    ("escape_lens.profile", "escape_lens.profile.join"): "profile.unrecorded skips protobuf",
    ("escape_lens.profile", "escape_lens.profile.reader"): "profile.unrecorded skips protobuf",
    ("escape_lens.toolchain.build", "escape_lens.parsers.gobuild"): "loaded while go runs",
    ("escape_lens.toolchain.build", "escape_lens.parsers.positions"): "loaded while go runs",
    ("escape_lens.toolchain.build", "escape_lens.toolchain.parallel"): "only a large build forks",
    ("escape_lens.toolchain.build", "escape_lens.toolchain.halves"): "only a serial parse",
    ("escape_lens.toolchain.build", "escape_lens.toolchain.resultcache"): "loaded as go runs",
    ("escape_lens.toolchain.build", "escape_lens.toolchain.typesizes"): "loaded as go runs",
    ("escape_lens.cli", "escape_lens.cli.version"): "only --version needs the model",
    ("escape_lens.cli", "escape_lens.cli.reportcache"): "only analyze looks its run up",
    ("escape_lens.cli.reportcache", "escape_lens.toolchain.resultcache"): "trimmed once stored",
    ("escape_lens.cli.sizeclass", "escape_lens.model.verify"): "only --verify measures",
    ("escape_lens.cli.sizeclass", "escape_lens.toolchain.typesizes"): "only --type lays out",
    ("escape_lens.cli.analyze", "escape_lens.gate.config"): "tomllib only with --function",
    ("escape_lens.cli.analyze", "escape_lens.profile.bench"): "only --bench runs benchmarks",
    ("escape_lens.cli.analyze", "escape_lens.model"): "the model loads while go runs",
    (
        "escape_lens.focus",
        "escape_lens.model.explain",
    ): "the model loads while go runs",
    ("escape_lens.analyze", "escape_lens.model"): "a warm run joins nothing",
    ("escape_lens.toolchain.wheel", "zipfile"): "only fetching a toolchain unpacks a wheel",
    ("escape_lens.analyze", "escape_lens.sites"): "a warm run joins nothing",
    ("escape_lens.analyze", "escape_lens.fingerprint"): "a warm run joins nothing",
}

# module -> why it may be longer than MAX_LINES (one cohesive thing, said in its docstring)
LONG_MODULES: dict[str, str] = {
    "escape_lens.parsers.asm": "one incremental parser: its hot loop and per-function state",
    "escape_lens.sites": "the join: one set of rules over one package's calls and diagnostics",
    "escape_lens.reporters.html": "the page: every view it embeds, built from one report",
    "escape_lens.parsers.gobuild": "the router, and the state a listing read in two shares",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_ROOT.rglob("*.py"))}


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, target] if target else base)


def imported_names(module: str, path: Path) -> set[str]:
    """Every `escape_lens` name `module` imports: `a.b` for `import a.b`, and both `a` and
    `a.x` for `from a import x` (x may be a submodule or a name in `a`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                source = _resolve_relative(module, is_package, node.level, node.module)
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and _is_import_module(node.func):
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                names.add(argument.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # Lazy registries name modules in string tables handed to import_module.
            names.update(MODULE_LITERAL.findall(node.value))
    return {name for name in names if name == "escape_lens" or name.startswith("escape_lens.")}


def _is_import_module(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id == "import_module"


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges = set()
        for name in imported_names(module, path):
            # `from a import x`: x is a module if a.x is one, else a name defined in a.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                edges.add(name)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def _is_parent(module: str, target: str) -> bool:
    """Importing `a.b.c` runs `a/__init__` and `a/b/__init__` first; such an edge
    from a package to its own parent is not a dependency between layers."""
    return module.startswith(target + ".")


def test_the_graph_sees_imports_inside_functions_and_import_module() -> None:
    graph = import_graph()
    # cli/__init__ imports its commands through importlib.import_module(COMMANDS[...]).
    assert "escape_lens.cli.check" in graph["escape_lens.cli"]
    assert "escape_lens.gate.run" in graph["escape_lens.cli.check"]


def test_no_import_cycle() -> None:
    graph = import_graph()
    layered = {m: {t for t in edges if not _is_parent(m, t)} for m, edges in graph.items()}
    assert find_cycles(layered) == []


def test_cycle_detection_finds_a_cycle() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def layer_of(module: str) -> int | None:
    """The index in LAYERS of the longest prefix that names `module` or its package."""
    found: tuple[int, int] | None = None
    for index, layer in enumerate(LAYERS):
        for prefix in layer:
            named = module == prefix or (
                prefix != "escape_lens" and module.startswith(prefix + ".")
            )
            if named and (found is None or len(prefix) > found[1]):
                found = (index, len(prefix))
    return found[0] if found else None


def test_every_module_has_a_layer() -> None:
    assert [m for m in sorted(all_modules()) if layer_of(m) is None] == []


def test_imports_go_down_the_layers() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, edges in import_graph().items()
        for target in edges
        if not _is_parent(module, target) and (layer_of(target) or 0) > (layer_of(module) or 0)
    )
    assert upward == []


def imports_in_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module)
                elif isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
    return found


def test_imports_inside_functions_are_only_the_listed_lazy_ones() -> None:
    lazy = {
        (module, imported)
        for module, path in all_modules().items()
        for imported in imports_in_functions(path)
    }
    assert lazy == set(LAZY_IMPORTS)


def test_reporters_do_not_import_the_gate() -> None:
    offenders = sorted(
        f"{module} -> {target}"
        for module, edges in import_graph().items()
        if module == "escape_lens.reporters" or module.startswith("escape_lens.reporters.")
        for target in edges
        if target == GATE or target.startswith(GATE + ".")
    )
    assert offenders == []


@pytest.mark.parametrize("module", sorted(all_modules()))
def test_module_is_small_or_says_why(module: str) -> None:
    lines = len(all_modules()[module].read_text(encoding="utf-8").splitlines())
    if module in LONG_MODULES:
        assert lines > MAX_LINES, f"{module} is short now: drop it from LONG_MODULES"
    else:
        assert lines <= MAX_LINES, f"{module} has {lines} lines (> {MAX_LINES})"


# A count written as `{len(x)} things` reads "1 things": every count goes through
# `vocab.counted` (or is written where the count cannot be one).
_RAW_PLURAL = re.compile(r"\{len\([^{}]*\)\} [a-z]+s\b|[a-z]\(s\) of")


def test_counts_are_spelled_by_counted() -> None:
    raw = [
        f"{path.relative_to(PACKAGE_ROOT.parent)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE_ROOT.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if _RAW_PLURAL.search(line) and "== 1 else" not in line
    ]
    assert raw == []
