"""The schema is the one home of config defaults: swimscale.config fills them in as Snakemake does, and
the data side's code (library and job scripts) restates none of them."""

import ast
import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate as snakemake_validate

from swimscale.config import SCHEMA_PATH, defaults, load_schema, validated

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["config/config.yaml", "config/full_study.yaml", "tests/fixtures/tiny_config.yaml"])
def test_validated_fills_the_defaults_as_snakemake_does(name):
    raw = yaml.safe_load((ROOT / name).read_text())
    reference = copy.deepcopy(raw)
    snakemake_validate(reference, str(SCHEMA_PATH))
    assert validated(raw) == reference
    assert raw == yaml.safe_load((ROOT / name).read_text())  # the argument is not changed


def test_nested_entries_get_their_defaults(tiny_config):
    config = validated(tiny_config)
    assert config["pools"]["ny"]["on_bad_record"] == defaults("pools")["on_bad_record"] == "stop"
    assert config["benchmarks"]["bible-ny-en"]["seed"] == defaults("benchmarks")["seed"]
    assert config["bible"]["n_queries"] == 40 and config["bible"]["test_book_every"] == defaults("bible")["test_book_every"]


def test_validated_names_a_bad_key(tiny_config):
    from jsonschema import ValidationError

    tiny_config["pools"]["ny"]["on_bad_record"] = "ignore"
    with pytest.raises(ValidationError, match="'ignore' is not one of"):
        validated(tiny_config)


def keys_with_defaults(schema=None) -> set[str]:
    """Every key of the schema, at any depth, that has a default."""
    schema = load_schema() if schema is None else schema
    keys = set()
    for key, spec in schema.get("properties", {}).items():
        if "default" in spec:
            keys.add(key)
        keys |= keys_with_defaults(spec)
    if isinstance(schema.get("additionalProperties"), dict):
        keys |= keys_with_defaults(schema["additionalProperties"])
    return keys


# The data side and its job scripts (the model and analysis parts are checked with their own code).
CHECKED = [*sorted((ROOT / "src/swimscale/data").rglob("*.py")), *sorted((ROOT / "src/swimscale/config").rglob("*.py")),
           *(ROOT / "workflow/scripts" / f"{name}.py"
             for name in ("prepare_bible", "prepare_pool", "prepare_benchmark", "subsample", "validate"))]


def restated_defaults(source: str, keys: set[str]) -> list[str]:
    """`x.get("<key>", <default>)` and parameters named after a key with a default value."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and len(node.args) == 2 and isinstance(node.args[0], ast.Constant) and node.args[0].value in keys):
            found.append(f"line {node.lineno}: .get({node.args[0].value!r}, {ast.unparse(node.args[1])})")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
            found += [f"line {node.lineno}: {node.name}({a.arg}={ast.unparse(d)})" for a, d in pairs if a.arg in keys]
    return found


def test_the_check_finds_restated_defaults():
    keys = keys_with_defaults()
    assert {"seed", "on_bad_record", "corpus_size", "cap_sizes", "url", "test_book_every"} <= keys
    code = "def f(x, seed=0):\n    return x.get('on_bad_record', 'stop'), x.get('path'), x.get('title', '')\n"
    assert sorted(restated_defaults(code, keys)) == ["line 1: f(seed=0)", "line 2: .get('on_bad_record', 'stop')"]


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_restates_no_schema_default(path):
    assert restated_defaults(path.read_text(), keys_with_defaults()) == [], path
