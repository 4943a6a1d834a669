"""The workflow's recall table: one record per run from what the stages wrote about it.

- the evaluate stage's metrics file (Recall@50, ..., ``n_queries``);
- the training log (``results/train/<lang>/<method>/seed<s>/n<N>/train_log.json``; its keys in
  docs/training.md): the budget, where it stopped and why (``stopped_by``: patience, min, cap,
  fixed), and what the kept student saw (:data:`TRAINING_COLUMNS` — ``steps_at_best``,
  ``examples_at_best``, ``passes_at_best`` — and ``steps``, ``examples_seen``, ``train_seconds``). N = 0 is not trained: 0 updates, the config's budget, no cap,
  and as its dev Recall@50 the untrained student's, which every trained run of the language measured
  at step 0 (NaN when none did, or when they disagree);
- the language's validate report (``results/validate/<lang>/report.json``, written by
  :func:`swimscale.data.check_language`): the overlap screen of the pool against the row's benchmark,
  the benchmark's corpus size, and the warnings of the benchmark and of the language's dev benchmark
  (:data:`DATA_COLUMNS`), so that ``summary.md`` can say them (a language without a report, as in
  a partial table whose pool failed, gets none of them and a warning saying so); with the collections' manifests, also
  the repeated document ids dropped from the collections they search.

A file that lacks a key stops with the file and the key.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from swimscale._types import StrPath
from swimscale.analysis._schema import WARNING_SEPARATOR
from swimscale.errors import InputError

POINT_KEYS = ("language", "benchmark", "method", "size", "seed", "run_file", "qrels_file")
# Training-log keys copied as they are, and the value an untrained (N = 0) row has.
LOG_KEYS = {"steps": 0, "steps_at_best": 0, "examples_seen": 0, "examples_at_best": 0, "passes_at_best": 0.0,
            "train_seconds": 0.0}
UNTRAINED = "untrained"  # stopped_by of an N = 0 row


def read_json(path: StrPath, what: str) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found") from None
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: {what} unreadable ({error})") from None


def _key(record: Mapping[str, Any], key: str, path: StrPath, what: str) -> Any:
    if key not in record:
        raise InputError(f"{path}: {what} has no key '{key}'")
    return record[key]


def untrained_dev_recall(logs: Iterable[Mapping[str, Any]]) -> float:
    """The dev Recall@50 at step 0 (the untrained student) that the logs recorded, if they agree."""
    values = {log["dev_curve"][0][1] for log in logs if log.get("dev_curve") and log["dev_curve"][0][0] == 0}
    return float(values.pop()) if len(values) == 1 else math.nan


def training_columns(log: Mapping[str, Any] | None, path: StrPath | None, budget: str, untrained_dev: float) -> dict:
    """The training columns of a run from its log (None: an N = 0 row, trained under `budget`)."""
    if log is None:
        return {**LOG_KEYS, "budget": budget, "max_steps": math.nan, "stopped_by": UNTRAINED, "cap_bound": False,
                "dev_recall_at_best": untrained_dev}
    what = "training log"
    config = _key(log, "config", path, what)
    dev = log.get("dev_recall_at_best")
    return {
        **{key: _key(log, key, path, what) for key in LOG_KEYS},
        "budget": _key(log, "budget", path, what),
        "max_steps": _key(config, "max_steps", path, f"{what}'s config"),
        "stopped_by": _key(log, "stopped_by", path, what),
        "cap_bound": bool(log.get("cap_bound")),  # null for a fixed budget: no cap to bind
        "dev_recall_at_best": math.nan if dev is None else float(dev),
    }


def trained_records(log: Mapping[str, Any] | None, path: StrPath | None, size: int) -> dict:
    """The records a run's student was trained on (``n_records``; 0 for N = 0), refused unless they are
    its size: fewer only under the pool's ``cap_sizes``, recorded by the training job as ``capped_to``.
    A student that saw fewer records than the row's size must not be reported at that size."""
    if log is None:
        return {"n_records": 0}
    n = _key(log, "n_records", path, "training log")
    if n != int(size) and log.get("capped_to") != n:
        raise InputError(f"{path}: the student was trained on {n} records but its size is {size}; "
                         f"delete {path} and run again to retrain it from a rebuilt sample")
    return {"n_records": n}


def _dropped_words(name: str, checked: Mapping[str, Any]) -> str:
    """What `on_bad_judgement: drop` left out when the benchmark was prepared, or ""."""
    dropped = {kind: n for kind, n in (checked.get("dropped") or {}).items() if n}
    if not dropped:
        return ""
    counts = checked.get("counts_at_prepare") or {}
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(dropped.items()))
    lost = ""
    if "queries_lost" in counts and "queries_read" in counts:
        lost = f"; {counts['queries_lost']} of its {counts['queries_read']} queries were lost"
    return (f"{name}: bad queries or judgements were dropped when preparing it (on_bad_judgement: drop): {kinds}"
            f"{lost}, so its scores are over {checked.get('queries', '?')} queries")


def _duplicate_words(name: str, collection: Mapping[str, Any] | None) -> str:
    """The documents of the benchmark's collection that `on_bad_judgement: drop` left out as repeated ids, or ""."""
    duplicates = (collection or {}).get("counts", {}).get("duplicate_docids", 0)
    if not duplicates:
        return ""
    return (f"{name}: {duplicates} repeated document id(s) in its collection {collection.get('collection', '')} were "
            "dropped when preparing it (on_bad_judgement: drop keeps the first copy of each)")


def benchmark_warnings(report: Mapping[str, Any], names: Sequence[str],
                       collections: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """The validate report's warnings and dropped items of these benchmarks (and the repeated document
    ids dropped from their collections: {benchmark: its collection's manifest}), each naming its benchmark."""
    out = []
    for name in names:
        checked = report["benchmarks"][name]
        role = "" if checked.get("role", "test") == "test" else f" ({checked['role']})"
        out += [f"{name}{role}: {warning}" for warning in checked.get("warnings", [])]
        dropped = [_dropped_words(f"{name}{role}", checked), _duplicate_words(f"{name}{role}", (collections or {}).get(name))]
        out += [words for words in dropped if words]
    return out


def data_columns(report: Mapping[str, Any], path: StrPath, benchmark: str,
                 collections: Mapping[str, Mapping[str, Any]] | None = None) -> dict:
    """The data columns of a row of `benchmark` from its language's validate report (and the manifests
    of the collections its benchmarks search, {benchmark: manifest}, if given)."""
    what = "validate report"
    benchmarks = _key(report, "benchmarks", path, what)
    overlap = _key(report, "overlap", path, what)
    counts = _key(_key(overlap, "benchmarks", path, f"{what}'s overlap"), benchmark, path, f"{what}'s overlap.benchmarks")
    checked = _key(benchmarks, benchmark, path, f"{what}'s benchmarks")
    dev = sorted(name for name, entry in benchmarks.items() if entry.get("role") == "dev")
    return {
        "overlap_mode": _key(overlap, "mode", path, f"{what}'s overlap"),
        "overlap_relevant": counts["relevant"],
        "overlap_other": counts["other"],
        "overlap_dropped": _key(overlap, "dropped", path, f"{what}'s overlap"),
        "corpus_documents": _key(checked, "documents", path, f"{what}'s benchmarks.{benchmark}"),
        "data_warnings": WARNING_SEPARATOR.join(benchmark_warnings(report, [benchmark, *dev], collections)),
    }


NO_REPORT = ("no validate report: the overlap screen of its pool and the checks of its benchmarks never ran, so "
             "nothing is known of overlaps, small corpora or dropped judgements (a partial table whose pool failed?)")


def unchecked_columns() -> dict:
    """The data columns of a language without a validate report: nothing recorded, and a warning."""
    return {"overlap_mode": "", "overlap_relevant": math.nan, "overlap_other": math.nan, "overlap_dropped": math.nan,
            "corpus_documents": math.nan, "data_warnings": NO_REPORT}


def sweep_records(points: Sequence[Mapping[str, Any]], reports: Mapping[str, StrPath], budget: str,
                  collections: Mapping[str, StrPath] | None = None) -> list[dict]:
    """One record per point of the sweep (``swimscale.config.Sweep.points``: key, run, qrels, metrics
    file and training log), with its language's validate report from `reports` ({language: path}),
    `budget` (the config's ``train.budget``) for the N = 0 rows, and the manifests of the collections
    the benchmarks search (`collections`: {benchmark: path}, optional)."""
    logs = {p["train_log"]: read_json(p["train_log"], "training log") for p in points if p["train_log"]}
    report_of = {language: read_json(path, "validate report") for language, path in reports.items()}
    manifests = {path: read_json(path, "collection manifest") for path in set((collections or {}).values())}
    collection_of = {name: manifests[path] for name, path in (collections or {}).items()}
    logs_of: dict[str, list[dict]] = {}
    for point in points:
        if point["train_log"]:
            logs_of.setdefault(point["language"], []).append(logs[point["train_log"]])
    untrained = {language: untrained_dev_recall(logs_of.get(language, [])) for language in report_of}
    # The data columns depend on the language and benchmark only: once per pair, not per run.
    data_of = {
        (language, bench): (data_columns(report_of[language], reports[language], bench, collection_of)
                            if language in report_of else unchecked_columns())
        for language, bench in {(p["language"], p["benchmark"]) for p in points}
    }
    records = []
    for point in points:
        language = point["language"]
        log = logs.get(point["train_log"])
        data = data_of[(language, point["benchmark"])]
        records.append({
            **{key: point[key] for key in POINT_KEYS},
            **read_json(point["metrics_file"], "metrics file"),
            **training_columns(log, point["train_log"], budget, untrained.get(language, math.nan)),
            **trained_records(log, point["train_log"], point["size"]),
            **data,
        })
    return records
