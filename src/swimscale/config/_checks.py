"""Checks of the config that the JSON schema cannot express, run when Snakemake builds the DAG
(workflow/rules/common.smk), after the schema has validated the config and filled in its defaults:
names used in paths, the model, input files named in the config (present and not empty), keys that
name other entries (a benchmark's language, its `pools`), and what each pool or benchmark source
requires (the source registries: swimscale.data.POOL_SOURCES, swimscale.data.benchmarks.SOURCES).
Imports neither torch nor transformers (with `--use-conda` the process that builds the DAG does not
have them) and parses no data. Every failure raises `InputError` naming the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from swimscale.config._train import training_problems
from swimscale.data import POOL_SOURCES, check_bible_settings
from swimscale.data.benchmarks import SOURCES as BENCHMARK_SOURCES
from swimscale.data.benchmarks import collection_of, collection_settings
from swimscale.errors import InputError
from swimscale.formats import LANGUAGE_CODE

# Language codes (swimscale.formats.LANGUAGE_CODE) and benchmark/teacher names become directory names:
# nothing that could leave the results directory ('..', '/') or hide a file ('.x').
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# `bundled:<name>` models, as in swimscale.model.BUNDLED (kept equal by tests/data/test_validation.py;
# not imported from there because that module imports torch).
BUNDLED_MODELS = ("all-MiniLM-L6-v2",)


# Keys of a pool or benchmark entry that name local input (relative to the working directory, as the
# prepare jobs read them): every `path`, and the keys a source lists as `input_files`.
FILE_KEY = re.compile(r"(^|_)(path|file|dir)s?$")


def check_config(config: dict) -> None:
    """Config-level checks the schema cannot express, in the order a user would fix them: names, input
    files, each pool and benchmark against its source, keys naming other entries. `config` is validated
    (the schema's defaults filled in: Snakemake's validate, or :func:`swimscale.config.validated`); it is
    not changed. Relative paths are taken from the working directory, as the jobs read them."""
    check_directories(config)
    check_names(config)
    check_input_files(config)
    for code, pool in config["pools"].items():
        POOL_SOURCES[pool["source"]].check_entry("pools", code, pool)
    for name, bench in config["benchmarks"].items():
        check_benchmark_languages(name, bench, config["pools"])
        BENCHMARK_SOURCES[bench["source"]].check_entry("benchmarks", name, bench)
    check_bible(config)
    check_collections(config["benchmarks"])
    check_roles(config)
    problems = training_problems(config)
    if problems:
        raise InputError("\n".join(problems))


def check_names(config: dict) -> None:
    """Language codes, benchmark and teacher names (they name directories), the languages' pools, the model."""
    pools = config["pools"]
    for code in pools:
        check_code(code, f"pools.{code}")
    for index, code in enumerate(config["languages"]):
        check_code(code, f"languages[{index}]")
        if code not in pools:
            known = ", ".join(sorted(pools)) or "none"
            raise InputError(f"config 'languages': unknown language code '{code}' (no entry under 'pools'; known: {known})")
    for name in config["benchmarks"]:
        check_name(name, f"benchmarks.{name}")
    check_name(config["teacher"]["name"], "teacher.name")
    check_model(config["teacher"]["model"], "teacher.model")


def check_input_files(config: dict) -> None:
    """Every local input a pool or benchmark names exists, and is not empty if it is a file."""
    for section, registry in (("pools", POOL_SOURCES), ("benchmarks", BENCHMARK_SOURCES)):
        for name, entry in config[section].items():
            source = registry[entry["source"]]
            for key, value in entry.items():
                if value is not None and (FILE_KEY.search(key) or key in source.input_files):
                    for item in value if isinstance(value, list) else [value]:
                        check_input_path(item, f"{section}.{name}.{key}")


def check_benchmark_languages(name: str, bench: dict, pools: dict) -> None:
    """A benchmark's query language and the languages in its `pools` list are languages of the config."""
    if bench["language"] not in pools:
        raise InputError(f"config 'benchmarks.{name}.language': unknown language '{bench['language']}'")
    for code in bench["pools"] or []:
        if code not in pools:
            raise InputError(f"config 'benchmarks.{name}.pools': unknown language '{code}'")


def check_bible(config: dict) -> None:
    """The `bible` section, when a Bible pool or benchmark uses it; a Bible benchmark's language has a
    Bible pool (the one job writes both)."""
    bible_pools = [code for code, pool in config["pools"].items() if pool["source"] == "bible"]
    for name, bench in config["benchmarks"].items():
        if bench["source"] == "bible" and bench["language"] not in bible_pools:
            raise InputError(
                f"config 'benchmarks.{name}': a bible benchmark needs pools.{bench['language']}.source: bible "
                "(one job writes the Bible pool and its benchmarks)"
            )
    if bible_pools:
        check_bible_settings(config["bible"])


def check_collections(benchmarks: dict) -> None:
    """Collection names are valid names, and the benchmarks that share a collection agree on the keys
    that form it (swimscale.data.benchmarks.collection_settings)."""
    first: dict[str, tuple[str, dict]] = {}
    for name, bench in benchmarks.items():
        collection = collection_of(name, bench)
        check_name(collection, f"benchmarks.{name}.collection")
        settings = collection_settings(bench)
        if collection not in first:
            first[collection] = (name, settings)
            continue
        other, expected = first[collection]
        for key, value in settings.items():
            if value != expected.get(key):
                # `documents` is derived from the id (ir_datasets): name the key the user wrote.
                label = "id (its documents)" if key == "documents" else key
                raise InputError(
                    f"config 'benchmarks.{name}.{label}': {value!r}, but benchmark '{other}' of the same collection "
                    f"'{collection}' has {expected.get(key)!r}; benchmarks sharing a collection share its documents, "
                    "so they must agree (or set `collection` to tell them apart)"
                )


def check_roles(config: dict) -> None:
    """Every language of the run has a test benchmark (what is reported) and at most one dev benchmark
    (what training chooses its students on)."""
    for code in config["languages"]:
        used = [(name, b["role"]) for name, b in config["benchmarks"].items() if code in (b["pools"] or [b["language"]])]
        if not used:
            raise InputError(f"config 'benchmarks': no benchmark has language '{code}'")
        if not any(role == "test" for _, role in used):
            raise InputError(f"config 'benchmarks': language '{code}' has no benchmark of role test (nothing to report)")
        dev = [name for name, role in used if role == "dev"]
        if len(dev) > 1:
            raise InputError(
                f"config 'benchmarks': language '{code}' has {len(dev)} dev benchmarks ({', '.join(dev)}); "
                "training chooses its students on one"
            )


def check_code(code, key: str) -> None:
    if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
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


def check_directories(config: dict) -> None:
    """`results_dir` and `data_dir` name a folder other than the filesystem's root: "" would plan every
    output at the root (`/prepare/...`), and the root would mix the study's files with the system's."""
    for key in ("results_dir", "data_dir"):
        value = config[key]
        if not value.strip() or Path(value).expanduser().resolve() == Path(Path.cwd().anchor):
            raise InputError(
                f"config '{key}': {value!r} is empty or the filesystem root; name a folder (relative paths start at "
                "the working directory), e.g. 'results' or 'data'"
            )


def hub_offline() -> bool:
    """HF_HUB_OFFLINE set to a true value, as huggingface_hub reads it: no model can be downloaded."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def hub_cache_dirs() -> list[Path]:
    """Where huggingface_hub keeps downloaded models (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache)."""
    if os.environ.get("HF_HUB_CACHE"):
        return [Path(os.environ["HF_HUB_CACHE"]).expanduser()]
    home = Path(os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache") / "huggingface")
    return [home.expanduser() / "hub"]


def in_hub_cache(spec: str) -> bool:
    folder = "models--" + spec.replace("/", "--")
    return any((cache / folder / "snapshots").is_dir() for cache in hub_cache_dirs())


def model_path_message(spec: str, key: str) -> str:
    """Why a model spec that is a path does not name a model, and the directories beside it."""
    path = Path(spec).expanduser()
    parent = path.parent
    siblings = sorted(p.name for p in parent.iterdir() if p.is_dir())[:10] if parent.is_dir() else []
    beside = f"; {parent} holds: {', '.join(siblings)}" if siblings else ""
    return f"config '{key}': model path '{spec}' does not exist{beside} (a spec whose first folder exists is a path)"


def check_model(spec: str, key: str = "teacher.model") -> None:
    """`bundled:<name>`, an existing local model directory with safetensors weights, or a Hub id.

    A spec is a path when it starts with '.', '/' or '~', or when its first component exists (so the
    typo `models/mdrp` beside `models/mdpr` is a missing path, not a Hub id that fails a minute later
    for want of internet), and it must then be a directory with config.json and *.safetensors weights:
    weights load from safetensors only (no pickle). With HF_HUB_OFFLINE set nothing can be downloaded,
    so a Hub id must be in the Hugging Face cache."""
    if spec.startswith("bundled:"):
        name = spec.split(":", 1)[1]
        if name not in BUNDLED_MODELS:
            raise InputError(f"config '{key}': unknown bundled model '{name}' (known: {', '.join(BUNDLED_MODELS)})")
        return
    path = Path(spec).expanduser()
    first = Path(spec).parts[0] if Path(spec).parts else spec
    looks_like_path = spec.startswith((".", "/", "~")) or path.exists() or Path(first).expanduser().exists()
    if not looks_like_path:
        if hub_offline() and not in_hub_cache(spec):
            raise InputError(
                f"config '{key}': '{spec}' is not a local model directory, and HF_HUB_OFFLINE is set while the "
                f"Hugging Face cache ({', '.join(map(str, hub_cache_dirs()))}) does not hold it. On a machine with "
                f"internet run `huggingface-cli download {spec} --local-dir models/<name>`, copy models/<name> here "
                f"and set {key}: ./models/<name>"
            )
        return  # a Hub id: downloaded (or read from the cache) when a job loads it
    if not path.exists():
        raise InputError(model_path_message(spec, key))
    if not path.is_dir() or not (path / "config.json").is_file():
        raise InputError(f"config '{key}': '{spec}' is not a model directory (no config.json in it)")
    if not any(path.glob("*.safetensors")):
        raise InputError(
            f"config '{key}': '{spec}' has no *.safetensors weights; models load from safetensors only "
            "(convert pickled weights with `transformers` elsewhere and save with safe_serialization=True)"
        )


def model_files(spec: str) -> list[str]:
    """The files of a local model directory (the rules that load the model declare them as inputs, so
    new weights re-run what the model computed); none for a Hub id or a bundled model."""
    if spec.startswith("bundled:"):
        return []
    path = Path(spec).expanduser()
    if not path.is_dir():
        return []
    return sorted(str(Path(spec) / f.name) for f in path.iterdir() if f.is_file() and not f.name.startswith("."))


def check_input_path(value, key: str) -> None:
    path = Path(str(value)).expanduser()
    if not path.exists():
        raise InputError(f"config '{key}': '{value}' does not exist (relative paths start at the working directory)")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"config '{key}': file '{value}' is empty")
