"""The conda environments pin the same versions as pyproject.toml, and every rule has one."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def pyproject_pins():
    text = (ROOT / "pyproject.toml").read_text()
    return {name.lower(): version for name, version in re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', text)}


def test_env_pins_match_pyproject():
    pins = pyproject_pins()
    for env in sorted((ROOT / "envs").glob("*.yaml")):
        deps = yaml.safe_load(env.read_text())["dependencies"]
        pip = next(d["pip"] for d in deps if isinstance(d, dict))
        assert pip, env
        for requirement in pip:
            name, version = requirement.split("==")
            assert pins.get(name.lower()) == version, f"{env.name}: {requirement} but pyproject pins {pins.get(name.lower())}"


def test_every_rule_has_conda_log_and_benchmark():
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        for rule in re.split(r"\nrule ", smk.read_text())[1:]:
            name = rule.split(":")[0]
            for directive in ("conda:", "log:", "benchmark:"):
                assert f"    {directive}" in rule, f"{smk.name}: rule {name} has no {directive}"
