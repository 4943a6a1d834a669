"""The package's architecture, checked: the data side and the config never import torch (the process
that builds the DAG does not have it), imports flow one way (no cycle between modules or between
subpackages), `swimscale.formats` is the ground floor (standard library only, importing no other
subpackage, so every subpackage may import it), and the modules and functions of the data side and of
the formats stay small."""

import ast
import io
import json
import re
import subprocess
import sys
import tokenize
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


# --- one layout: every path under results/ is spelt in swimscale.config._layout -------------------------
# Elsewhere (the rules, the Snakefile, the job scripts, the package) a string literal that spells a path
# template of results/ is a second spelling that can drift from the layout. A literal is a path template
# when, read with its interpolations as {}, it has no whitespace (prose has: messages, docstrings) and
# - it interpolates the results folder or the teacher's name ({RESULTS}, {self.results}, {results_dir}), or
# - it has a placeholder, a "/" and a piece of the layout: a stage folder (train/, search/, ...), a seed{}
#   or n{} segment, zero_shot, or a result file's suffix (.trec, .safetensors, .json, .tsv, ...), or
# - it is a literal path under results/;
# and a literal joined onto the results folder (Path(config["results_dir"]) / "x", RESULTS + "/x",
# os.path.join(RESULTS, "x")) is one too. Comments are not literals.
LAYOUT_MODULE = PACKAGE / "config" / "_layout.py"
RESULTS_NAMES = r"(?:RESULTS|TEACHER|results_dir|self\.results|results|config\[[\"']results_dir[\"']\])"
PLACEHOLDER = re.compile(r"\{+([^{}]*)\}+")
RESULTS_PLACEHOLDER = re.compile(rf"^\s*{RESULTS_NAMES}\s*(?:[!:].*)?$")
STAGES = ("prepare", "validate", "subsample", "query_states", "encode", "index", "train", "search", "evaluate",
          "tables", "plots", "logs", "timings")
LAYOUT_PIECES = re.compile(r"(?:^|/)(?:" + "|".join(STAGES) + r")/|/seed\{\}|/n\{\}|zero_shot|"
                           r"\.(?:trec|safetensors|faiss|npy|pt|json|jsonl|tsv|txt|log|md|png|svg|tex)$")
JOINED = re.compile(rf"(?:{RESULTS_NAMES}[\"'\]]*\)*\s*[/+]\s*|os\.path\.join\(\s*[^,()]*{RESULTS_NAMES}[^,()]*,\s*)$")
QUOTE = re.compile(r"[a-zA-Z]*('''|\"\"\"|'|\")")


def template_sources() -> list[Path]:
    rules = sorted((ROOT / "workflow" / "rules").glob("*.smk"))
    scripts = sorted((ROOT / "workflow" / "scripts").glob("*.py"))
    package = [path for path in sorted(PACKAGE.rglob("*.py")) if path != LAYOUT_MODULE]
    return [ROOT / "Snakefile", *rules, *scripts, *package]


def string_literals(text: str):
    """(line, the code before it on its line, source of the literal) of every string literal of Python or
    Snakemake source (Snakemake's keywords tokenize as names); an f-string is one literal."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    fstring = None
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        kind = tokenize.tok_name[token.type]
        if kind == "FSTRING_START":  # Python >= 3.12 splits an f-string into tokens
            fstring = token.start
        elif kind == "FSTRING_END" or (token.type == tokenize.STRING and fstring is None):
            (row, col), (end_row, end_col) = fstring or token.start, token.end
            fstring = None
            yield row, lines[row - 1][:col], text[starts[row - 1] + col:starts[end_row - 1] + end_col]


def is_path_template(before: str, literal: str) -> bool:
    quote = QUOTE.match(literal)
    body = literal[quote.end():len(literal) - len(quote.group(1))]
    if JOINED.search(before):
        return True
    plain = PLACEHOLDER.sub("{}", body)
    if re.search(r"\s", plain):
        return False  # prose
    if any(RESULTS_PLACEHOLDER.match(expr) for expr in PLACEHOLDER.findall(body)) or plain.startswith("results/"):
        return True
    return "{}" in plain and "/" in plain and bool(LAYOUT_PIECES.search(plain))


def path_templates(text: str) -> list[tuple[int, str]]:
    return [(line, literal) for line, before, literal in string_literals(text) if is_path_template(before, literal)]


def test_path_template_check_catches_templates_and_not_prose():
    caught = [
        'x = f"{RESULTS}/train/{{language}}/{{method}}/train_log.json"',
        'log = f"{RESULTS}/logs/x.log"',
        'path = f"{self.results}/search/{code}/zero_shot"',
        'run = f"{search}/{bench}.trec"',
        'metrics = f"{evaluate}/{bench}.json"',
        'sample = f"{base}/{code}/seed{seed}/n{size}.jsonl"',
        'student = f"{base}/student.safetensors"',
        'table = "results/tables/recall.tsv"',
        'out = Path(config["results_dir"]) / "tables"',
        'out = RESULTS + "/tables/recall.tsv"',
        'out = os.path.join(RESULTS, "tables", "recall.tsv")',
        'rule x:\n    output:\n        f"{RESULTS}/index/{TEACHER}/{{collection}}/flat_ip.faiss",',
    ]
    passed = [
        'raise InputError(f"config: no {TASK}/index.jsonl under {bench}")',  # a message
        'tag = f"{method}_seed{seed}_n{size}"',  # a run's tag, not a path
        'found = root.glob(f"*/{TASK}")',  # a source's own files
        'hub = f"nthakur/{snapshot.name}"',
        'def f():\n    """The log, results/train/<lang>/seed<s>/n<N>/train_log.json."""',
        'sample = LAYOUT.sample("{language}", "{seed}", "{size}")',  # wildcards handed to the layout
        'name = "bible-{language}-en"',
        'x = 1  # f"{RESULTS}/train/x.json" in a comment',
        'script = "../scripts/train.py"',
    ]
    assert [snippet for snippet in caught if not path_templates(snippet + "\n")] == []
    assert [snippet for snippet in passed if path_templates(snippet + "\n")] == []


def test_no_path_template_outside_the_layout():
    """No rule, job script or module but swimscale.config._layout spells a path template of results/."""
    found = [f"{path.relative_to(ROOT)}:{line}: {literal}"
             for path in template_sources() for line, literal in path_templates(path.read_text())]
    assert len(template_sources()) > 40  # the files are there
    assert not found, "path templates outside swimscale.config.Layout:\n" + "\n".join(found)
    assert len(path_templates(LAYOUT_MODULE.read_text())) > 20  # the layout's own are seen


# --- The schema is the one home of every default ------------------------------------------------------
# No function (or dataclass field) of the package gives a default to a parameter named like a setting
# that the schema gives a default: such a default is a second home, which drifts from the schema's. The
# settings reach library code as the typed objects of swimscale.config (TeacherSettings, TrainSettings,
# SearchSettings), built once from the validated config.


def schema_defaults(spec: dict) -> set[str]:
    """The leaf keys of a schema (nested sections, `pools.<code>.*` and `benchmarks.<name>.*` included)
    that have a default."""
    properties = spec.get("properties")
    if properties is None and isinstance(spec.get("additionalProperties"), dict):
        properties = spec["additionalProperties"].get("properties")
    keys = set()
    for key, item in (properties or {}).items():
        if "default" in item and "properties" not in item:
            keys.add(key)
        keys |= schema_defaults(item)
    return keys


def keyword_defaults(source: str, module: str):
    """(`module:qualified name:parameter`, line) of every parameter default and dataclass-style field
    default (`name: type = value` in a class body) of a module's source."""

    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = ".".join([*scope, child.name])
                args = child.args
                positional = args.posonlyargs + args.args
                pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
                pairs += [(arg, d) for arg, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
                for arg, _ in pairs:
                    yield f"{module}:{name}:{arg.arg}", child.lineno
                yield from visit(child, [*scope, child.name])
            elif isinstance(child, ast.ClassDef):
                for statement in child.body:
                    if (isinstance(statement, ast.AnnAssign) and statement.value is not None
                            and isinstance(statement.target, ast.Name)):
                        yield f"{module}:{'.'.join([*scope, child.name])}:{statement.target.id}", statement.lineno
                yield from visit(child, [*scope, child.name])

    yield from visit(ast.parse(source), [])


# Parameters named like a setting that are not that setting (keep this list tiny; say why for each).
NOT_THE_SETTING = {
    # A data source's hook (a function) that names the collection of a benchmark entry whose
    # `collection` is null: it computes the key's null case, it is not benchmarks.<name>.collection.
    "swimscale.data._source:Source:collection",
    # A data source's hook (a function) giving the threshold of an entry whose `min_relevance` is null.
    "swimscale.data._source:Source:min_relevance",
}


def test_keyword_defaults_finds_parameters_and_fields():
    source = ("def f(a, pooling='mean', *, k=3, normalize):\n    def g(max_length=8): pass\n"
              "class C:\n    lr: float = 1.0\n    def m(self, batch_size=2): pass\n")
    found = {name for name, _ in keyword_defaults(source, "m")}
    assert found == {"m:f:pooling", "m:f:k", "m:f.g:max_length", "m:C:lr", "m:C.m:batch_size"}


def test_no_function_restates_a_default_of_the_schema():
    from swimscale.config import load_schema

    settings = schema_defaults(load_schema())
    assert {"pooling", "normalize", "max_length", "batch_size", "passage_format", "k", "lr"} <= settings
    found = {name: f"{path.relative_to(SRC)}:{line}" for path in sorted(PACKAGE.rglob("*.py"))
             for name, line in keyword_defaults(path.read_text(), module_name(path))
             if name.rsplit(":", 1)[1] in settings}
    restated = {name: where for name, where in found.items() if name not in NOT_THE_SETTING}
    assert not restated, f"keyword defaults of settings the schema owns (take the settings object instead): {restated}"
    stale = (NOT_THE_SETTING) - set(found)
    assert not stale, f"allow-listed defaults that no longer occur (remove them from the list): {sorted(stale)}"
