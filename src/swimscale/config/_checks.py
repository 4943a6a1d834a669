"""Checks of the config that the JSON schema cannot express, run when Snakemake builds the DAG
(workflow/rules/common.smk), after the schema: names used in paths, the model, input files named in the
config (a SWIM-IR release folder and the language's file in it, a `trec` benchmark's files: present
and not empty). Imports neither torch nor transformers (with `--use-conda` the process that builds the
DAG does not have them) and parses no data. Every failure raises `InputError` naming the key.
"""

from __future__ import annotations

import re
from pathlib import Path

from swimscale.errors import InputError

# Language codes and benchmark/teacher names become directory names: nothing that could leave the
# results directory ('..', '/') or hide a file ('.x').
CODE = re.compile(r"^[a-z]{2,3}$")


NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# `bundled:<name>` models, as in swimscale.encode.BUNDLED (kept equal by tests/test_failures.py;
# not imported from there because that module imports torch).
BUNDLED_MODELS = ("all-MiniLM-L6-v2",)


# Keys of a pool or benchmark entry that name local input (relative to the working directory, as the
# prepare jobs read them): every `path`, and the three files of a `trec` benchmark.
FILE_KEY = re.compile(r"(^|_)(path|file|dir)s?$")


TREC_FILES = ("queries", "corpus", "qrels")


def check_config(config: dict) -> None:
    """Config-level checks the schema cannot express; relative paths are taken from the working
    directory, as the jobs read them."""
    pools = config.get("pools", {})
    benchmarks = config.get("benchmarks", {})
    for code in pools:
        check_code(code, f"pools.{code}")
    for index, code in enumerate(config.get("languages", [])):
        check_code(code, f"languages[{index}]")
        if code not in pools:
            known = ", ".join(sorted(pools)) or "none"
            raise InputError(f"config 'languages': unknown language code '{code}' (no entry under 'pools'; known: {known})")
    for name in benchmarks:
        check_name(name, f"benchmarks.{name}")
    teacher = config.get("teacher", {})
    if "name" in teacher:
        check_name(teacher["name"], "teacher.name")
    if "model" in teacher:
        check_model(teacher["model"], "teacher.model")
    for section, entries in (("pools", pools), ("benchmarks", benchmarks)):
        for name, entry in entries.items():
            entry = entry or {}
            for key, value in entry.items():
                if FILE_KEY.search(key) or (entry.get("source") == "trec" and key in TREC_FILES):
                    for item in value if isinstance(value, list) else [value]:
                        check_input_path(item, f"{section}.{name}.{key}")
    for code, pool in pools.items():
        if (pool or {}).get("source") == "swimir_local" and pool.get("path"):
            check_swimir_release(code, pool)


def check_swimir_release(code: str, pool: dict) -> None:
    """The language's file exists in the extracted SWIM-IR release and is not empty."""
    from swimscale.data import local_files  # light: the standard library only

    section = pool.get("section") or "cross_lingual"
    try:
        files = local_files(pool["path"], section, code)
    except Exception as err:  # DataMissingError: where it looked, what to download
        raise InputError(f"config 'pools.{code}.path': {err}") from None
    for file in files:
        if file.stat().st_size == 0:
            raise InputError(f"config 'pools.{code}.path': {file} is empty")


def check_code(code, key: str) -> None:
    if not isinstance(code, str) or not CODE.match(code):
        raise InputError(
            f"config '{key}': '{code}' is not a language code (2 or 3 lower-case letters, e.g. 'ny'); "
            "codes name directories, so nothing else is allowed"
        )


def check_name(name, key: str) -> None:
    if not isinstance(name, str) or not NAME.match(name) or ".." in name:
        raise InputError(
            f"config '{key}': '{name}' is not a valid name (letters, digits, '_', '.', '-'; no '..', "
            "no '/', not starting with '.'): it names directories under the results"
        )


def check_model(spec: str, key: str = "teacher.model") -> None:
    """`bundled:<name>`, an existing local model directory with safetensors weights, or a Hub id.

    A spec that looks like a path ('.', '/', '~' first, or an existing path) must be a directory
    with config.json and *.safetensors weights: weights load from safetensors only (no pickle)."""
    if spec.startswith("bundled:"):
        name = spec.split(":", 1)[1]
        if name not in BUNDLED_MODELS:
            raise InputError(f"config '{key}': unknown bundled model '{name}' (known: {', '.join(BUNDLED_MODELS)})")
        return
    path = Path(spec).expanduser()
    looks_like_path = spec.startswith((".", "/", "~")) or path.exists()
    if not looks_like_path:
        return  # a Hub id: checked when a job loads it
    if not path.exists():
        raise InputError(f"config '{key}': model path '{spec}' does not exist")
    if not path.is_dir() or not (path / "config.json").is_file():
        raise InputError(f"config '{key}': '{spec}' is not a model directory (no config.json in it)")
    if not any(path.glob("*.safetensors")):
        raise InputError(
            f"config '{key}': '{spec}' has no *.safetensors weights; models load from safetensors only "
            "(convert pickled weights with `transformers` elsewhere and save with safe_serialization=True)"
        )


def check_input_path(value, key: str) -> None:
    path = Path(str(value)).expanduser()
    if not path.exists():
        raise InputError(f"config '{key}': '{value}' does not exist (relative paths start at the working directory)")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"config '{key}': file '{value}' is empty")
