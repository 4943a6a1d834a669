"""The package's architecture, checked: the data side and the config never import torch (the process
that builds the DAG does not have it), imports flow one way (no cycle between modules or between
subpackages), `swimscale.formats` is the ground floor (standard library only, importing no other
subpackage, so every subpackage may import it), and the modules and functions of the data side and of
the formats stay small."""

import ast
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "swimscale"

# What the DAG-building process imports (workflow/rules/common.smk) and what data jobs import.
LIGHT = ["swimscale.config", "swimscale.data", "swimscale.data.benchmarks", "swimscale.jobs", "swimscale.errors",
         "swimscale.formats"]
# The ground floor: file formats, the atomic write, shared limits. It may import these top-level modules
# of swimscale (which import nothing of it) and the standard library, nothing else.
GROUND = "swimscale.formats"
GROUND_MAY_IMPORT = {"swimscale.errors", "swimscale._types"}
HEAVY = {"torch", "transformers", "faiss", "numpy", "scipy", "pandas", "datasets", "pyarrow", "ir_datasets", "ot"}


def test_data_and_config_import_only_the_standard_library():
    """In a fresh interpreter without site-packages' start-up hooks (-S): importing the light modules and
    running the config checks and the sweep on the tiny config loads standard-library modules only."""
    from swimscale.config import validated

    config = validated(__import__("yaml").safe_load((ROOT / "tests/fixtures/tiny_config.yaml").read_text()))
    code = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        + "".join(f"import {name}\n" for name in LIGHT)
        + "config = json.loads(sys.argv[1])\n"
        "swimscale.config.check_config(config)\n"
        "swimscale.config.Sweep(config).points()\n"
        "loaded = {name.split('.')[0] for name in set(sys.modules) - before}\n"
        "print(json.dumps(sorted(loaded)))\n"
    )
    result = subprocess.run([sys.executable, "-S", "-c", code, json.dumps(config)], capture_output=True, text=True,
                            env={"PYTHONPATH": str(SRC)}, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = set(json.loads(result.stdout))
    assert "swimscale" in loaded  # the imports ran
    assert not loaded & HEAVY, sorted(loaded & HEAVY)
    assert loaded <= set(sys.stdlib_module_names) | {"swimscale"}, sorted(loaded - set(sys.stdlib_module_names))


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """{module: the swimscale modules it imports}, from the source (every import statement, at module
    level or inside a function: a lazy import is still a dependency). `from package import name` counts
    as importing the submodule `package.name` when there is one, else the package."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (as a path that returns to its start), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def subpackage(module: str) -> str:
    return ".".join(module.split(".")[:2])  # swimscale.data.benchmarks._write -> swimscale.data


def test_find_cycle_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_between_modules():
    graph = import_graph()
    assert "swimscale.data" in graph["swimscale.config._checks"]  # the graph sees imports at all
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_no_import_cycle_between_subpackages():
    """config, data, model, retrieval, analysis (and the top-level modules) depend on each other one way."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in import_graph().items():
        graph[subpackage(module)].update(subpackage(t) for t in targets if subpackage(t) != subpackage(module))
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))
    assert not graph["swimscale.data"] & {"swimscale.model", "swimscale.retrieval", "swimscale.analysis"}
    assert graph[GROUND] <= GROUND_MAY_IMPORT, sorted(graph[GROUND] - GROUND_MAY_IMPORT)
    assert not any(graph[name] for name in GROUND_MAY_IMPORT), {name: graph[name] for name in GROUND_MAY_IMPORT}


def imported_top_level_names(path: Path) -> set[str]:
    """The first component of every module an import statement of `path` names (relative imports
    as 'swimscale')."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("swimscale" if node.level else (node.module or "").split(".")[0])
    return names


def test_the_ground_floor_imports_the_standard_library_and_nothing_of_the_other_subpackages():
    """Every import statement of swimscale.formats (lazy ones too) names the standard library, the
    formats themselves or swimscale.errors / swimscale._types: every subpackage can import it, the DAG
    process and the analysis environment included."""
    graph = import_graph()
    sources = sorted((PACKAGE / "formats").rglob("*.py"))
    assert len(sources) >= 5  # the package is there and is split into modules
    for path in sources:
        outside = imported_top_level_names(path) - set(sys.stdlib_module_names) - {"swimscale", "__future__"}
        assert not outside, f"{path}: imports {sorted(outside)}"
        module = module_name(path)
        wrong = {t for t in graph[module] if subpackage(t) != GROUND} - GROUND_MAY_IMPORT
        assert not wrong, f"{path}: imports {sorted(wrong)}"


def test_every_subpackage_may_use_the_ground_floor():
    """The layering test above is not vacuous: the other subpackages do import the formats."""
    users = {subpackage(m) for m, targets in import_graph().items() if GROUND in {subpackage(t) for t in targets}}
    assert {"swimscale.config", "swimscale.data", "swimscale.model", "swimscale.retrieval",
            "swimscale.analysis"} <= users - {GROUND}, sorted(users)


# The parts of the package this rule is checked on here; the others are checked where they are split.
SMALL = [PACKAGE / "config", PACKAGE / "data", PACKAGE / "formats", PACKAGE / "jobs.py", PACKAGE / "errors.py",
         PACKAGE / "_types.py"]


def small_sources():
    for place in SMALL:
        yield from sorted(place.rglob("*.py")) if place.is_dir() else [place]


@pytest.mark.parametrize("path", list(small_sources()), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_are_small(path):
    """No module above 400 lines, no function above 60 (docstring included)."""
    text = path.read_text()
    assert len(text.splitlines()) <= 400, f"{path}: {len(text.splitlines())} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= 60, f"{path}:{node.lineno} {node.name} has {length} lines"
