"""Checks that stop bad input before any work, each naming the key, file or line at fault.

Two levels:

- `check_config` runs when Snakemake builds the DAG (workflow/rules/common.smk), after the JSON schema
  (unknown keys, types, negative or duplicate sizes): names used in paths, the model, input files
  named in the config (a SWIM-IR release folder and the language's file in it, a `trec` benchmark's
  files: present and not empty). It imports neither torch nor transformers (with `--use-conda` the
  process that builds the DAG does not have them) and parses no data. The records themselves are
  checked by the prepare jobs (swimscale.swimir, swimscale.benchmarks: file, line and reason).
- `check_language` runs in the `validate` rule, once the prepare stage has written a language's pool
  and benchmarks, and every training job of that language depends on it: the pool parses
  (`swimscale.data.read_pool`: file and line), every size fits in it, and each benchmark is
  consistent (every judged document is in the corpus, every judged query is a query, every query has
  a relevant document).

Every failure raises `InputError` (a ValueError) whose message starts with the config key or file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

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


class InputError(ValueError):
    """Bad input found before any work; the message names the key, file or line."""


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
    from swimscale.swimir import local_files  # light: swimscale.data and the standard library

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


# --- data level: after prepare, before any training -------------------------------------------


def check_pool(path: Path, code: str, sizes: list[int], cap_sizes: bool = False) -> int:
    """Parses the pool (file and line of any bad record) and checks that every size fits in it
    (unless `cap_sizes`: then a larger size trains on the whole pool)."""
    from swimscale import data

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: pool file does not exist")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty pool file (no records)")
    try:
        stream = data.iter_pool(path, code=code) if hasattr(data, "iter_pool") else data.read_pool(path, code=code)
        count = sum(1 for _ in stream)
    except ValueError as err:
        raise InputError(str(err)) from None
    too_big = sorted(size for size in sizes if size > count)
    if too_big and not cap_sizes:
        raise InputError(
            f"config 'sizes' (or 'pools.{code}.sizes'): {', '.join(map(str, too_big))} larger than the {count} "
            f"records of language '{code}' in {path} (pools.{code}.cap_sizes: true trains on all of them instead)"
        )
    return count


def check_benchmark(name: str, queries: Path, corpus: Path, qrels: Path) -> dict:
    """Every query has a relevant document; every judged document is in the corpus; every judged
    query is a query. Returns counts."""
    from swimscale import data

    for path in (queries, corpus, qrels):
        if not Path(path).exists():
            raise InputError(f"benchmark '{name}': {path} does not exist")
        if Path(path).stat().st_size == 0:
            raise InputError(f"benchmark '{name}': {path} is empty")
    try:
        query_texts = data.read_queries(Path(queries))
        docids, _ = data.read_corpus(Path(corpus))
    except ValueError as err:
        raise InputError(str(err)) from None
    if not query_texts:
        raise InputError(f"{queries}: no queries")
    if not docids:
        raise InputError(f"{corpus}: no documents")
    corpus_ids = set(docids)
    relevant: dict[str, int] = {}
    judgements = 0
    with open(qrels, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 4:
                raise InputError(f"{qrels}: line {line_no}: expected 'qid 0 docid relevance', got {line.strip()!r}")
            qid, _, docid, rel = parts
            try:
                rel_value = int(rel)
            except ValueError:
                raise InputError(f"{qrels}: line {line_no}: relevance {rel!r} is not an integer") from None
            if qid not in query_texts:
                raise InputError(f"{qrels}: line {line_no}: query '{qid}' is not in {queries}")
            if docid not in corpus_ids:
                raise InputError(f"{qrels}: line {line_no}: document '{docid}' is not in the corpus {corpus}")
            judgements += 1
            if rel_value > 0:
                relevant[qid] = relevant.get(qid, 0) + 1
    for line_no, qid in enumerate(query_texts, 1):
        if qid not in relevant:
            raise InputError(
                f"{queries}: query '{qid}' (record {line_no}) has no relevant document in {qrels}; "
                "Recall would count it as 0 for every run"
            )
    return {"queries": len(query_texts), "documents": len(docids), "judgements": judgements}


def check_language(
    code: str, pool: Path, sizes: list[int], benchmarks: dict[str, dict], cap_sizes: bool = False
) -> dict:
    """Everything a language's training and evaluation read; `benchmarks`: name → {queries, corpus,
    qrels} paths. Returns a report (counts) for results/validate/<code>.json."""
    report = {"language": code, "pool": str(pool), "pool_records": check_pool(Path(pool), code, sizes, cap_sizes)}
    report["sizes"] = sorted(sizes)
    report["benchmarks"] = {
        name: check_benchmark(name, Path(files["queries"]), Path(files["corpus"]), Path(files["qrels"]))
        for name, files in benchmarks.items()
    }
    return report


def write_report(report: dict, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
