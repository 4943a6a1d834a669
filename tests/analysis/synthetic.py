"""Synthetic studies for the analysis tests: a recall table and the per-query values (or run files) behind it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from swimscale.analysis import build_recall_table
from swimscale.retrieval import EVAL_COLUMNS, evaluate, read_qrels, read_run, write_run

DEPTH = 100  # documents per query in the synthetic run files


def saturating(n: float, r0: float = 0.05, r_inf: float = 0.35, n0: float = 100.0, alpha: float = 0.8) -> float:
    return r_inf - (r_inf - r0) * (1 + n / n0) ** (-alpha)


def ranks_for(rng: np.random.Generator, p_top50: np.ndarray) -> np.ndarray:
    """Rank (1-based; 0 = not retrieved) of each query's relevant document for hit probabilities p."""
    hit50 = rng.random(len(p_top50)) < p_top50
    rank = np.where(hit50, rng.integers(1, 51, len(p_top50)), rng.integers(51, 130, len(p_top50)))
    return np.where(rank > 100, 0, rank)


def per_query_from_ranks(qids: list[str], ranks: np.ndarray) -> pd.DataFrame:
    """The per-query frame the analysis reads from run files with one relevant document per query at
    these ranks (0: not retrieved, which the log2 rank counts as DEPTH + 1)."""
    rows = []
    for qid, r in zip(qids, ranks):
        rows.append(
            {
                "qid": qid,
                "recall_at_50": float(0 < r <= 50),
                "recall_at_100": float(0 < r <= 100),
                "ndcg_at_10": 1 / math.log2(r + 1) if 0 < r <= 10 else 0.0,
                "mrr_at_10": 1 / r if 0 < r <= 10 else 0.0,
                "log2_first_rank": math.log2(r if r else DEPTH + 1),
            }
        )
    return pd.DataFrame(rows, columns=[*EVAL_COLUMNS, "log2_first_rank"])


def study(
    languages=("ny",),
    sizes=(0, 32, 128, 512),
    seeds=(0, 1, 2),
    n_queries=80,
    seed=0,
    curve=saturating,
    seed_sd=0.02,
    methods=("optical",),
):
    """(recall table, per-query dict keyed by table index). Recall@50 of a run ≈ curve(N) + seed noise."""
    rng = np.random.default_rng(seed)
    records, frames = [], []
    for language in languages:
        qids = [f"{language}q{i:03d}" for i in range(n_queries)]
        zero_ranks = ranks_for(rng, np.full(n_queries, curve(0)))
        for method in methods:
            for size in sizes:
                for s in seeds:
                    if size == 0:
                        ranks = zero_ranks  # one untrained model, repeated per seed
                    else:
                        p = np.clip(curve(size) + rng.normal(0, seed_sd), 0.0, 1.0)
                        ranks = ranks_for(rng, np.full(n_queries, p))
                    frame = per_query_from_ranks(qids, ranks)
                    means = frame.drop(columns="qid").mean()
                    records.append(
                        {
                            "language": language,
                            "benchmark": f"bench-{language}",
                            "method": method,
                            "size": size,
                            "seed": s,
                            **{m: float(means[m]) for m in means.index},
                            "n_queries": n_queries,
                            "steps": size // 16,
                            "examples_seen": size,
                            "train_seconds": 0.0,
                            "run_file": f"runs/{language}/{method}/n{size}_s{s}.trec",
                            "qrels_file": f"qrels/{language}.txt",
                        }
                    )
                    frames.append((language, method, size, s, frame, ranks))
    table = build_recall_table(records)
    index = {(r.language, r.method, r.size, r.seed): label for label, r in zip(table.index, table.itertuples())}
    per_query = {index[(lang, m, n, s)]: frame for lang, m, n, s, frame, _ in frames}
    ranks = {index[(lang, m, n, s)]: rk for lang, m, n, s, _, rk in frames}
    return table, per_query, ranks


def write_study_files(root: Path, table: pd.DataFrame, ranks: dict) -> None:
    """Real qrels and TREC run files for ``study``'s table, under ``root`` (paths as in the table)."""
    for label, row in table.iterrows():
        qrels = root / row["qrels_file"]
        n = int(row["n_queries"])
        qids = [f"{row['language']}q{i:03d}" for i in range(n)]
        if not qrels.exists():
            qrels.parent.mkdir(parents=True, exist_ok=True)
            qrels.write_text("".join(f"{q} 0 d{q} 1\n" for q in qids))
        run = root / row["run_file"]
        run.parent.mkdir(parents=True, exist_ok=True)
        results = {}
        for q, r in zip(qids, ranks[label]):
            docs = [f"x{q}_{k:03d}" for k in range(DEPTH)]
            if r:
                docs[r - 1] = f"d{q}"
            results[q] = [(d, float(DEPTH - k)) for k, d in enumerate(docs)]
        write_run(run, results, "synthetic")
    # The table's means are those of the files (checked here so a broken helper fails loudly).
    for label, row in table.iterrows():
        means = evaluate(read_run(root / row["run_file"]), read_qrels(root / row["qrels_file"])).drop(columns="qid").mean()
        assert abs(means["recall_at_50"] - row["recall_at_50"]) < 1e-12


def null_study(rng: np.random.Generator, sizes=(16, 64, 256, 1024, 4096), n_seeds=3, n_queries=500, slope=0.0):
    """A study with no effect of N (``slope`` 0): per-query hits ~ Bernoulli(logistic(query difficulty
    + seed effect + run effect + slope · log2(N / 256))). Queries are shared by all runs (crossed), a
    seed's effect by all its sizes (nested). Returns (table, per_query) with Recall@50 only."""
    difficulty = rng.normal(-2.0, 1.0, n_queries)
    rows, frames = [], {}
    qids = np.arange(n_queries)
    for seed in range(n_seeds):
        seed_effect = rng.normal(0, 0.3)
        for size in sizes:
            logit = difficulty + seed_effect + rng.normal(0, 0.15) + slope * math.log2(size / 256)
            hits = (rng.random(n_queries) < 1 / (1 + np.exp(-logit))).astype(float)
            frames[len(rows)] = pd.DataFrame({"qid": qids, "recall_at_50": hits})
            rows.append({"language": "xx", "benchmark": "b", "method": "m", "size": size, "seed": seed,
                         "recall_at_50": hits.mean()})
    return pd.DataFrame(rows), frames


MINIMAL_COLUMNS = ["language", "benchmark", "method", "size", "seed", "recall_at_50"]
MAX_STEPS = 600
UNTRAINED_DEV = 0.07
METRIC_KEYS = ("recall_at_50", "recall_at_100", "ndcg_at_10", "mrr_at_10", "n_queries")


def train_log(size: int, seed: int, cap_bound: bool, budget: str = "converged") -> dict:
    """A training log with the keys of swimscale.model's `finish` (docs/training.md); a cap-bound run's
    best lies at or just before the cap, another's at 50 · (seed + 1) updates, 150 before it stopped."""
    best = MAX_STEPS - 50 * seed if cap_bound else 50 * (seed + 1)
    steps = MAX_STEPS if cap_bound or budget == "fixed" else best + 150
    converged = budget == "converged"
    return {
        "config": {"max_steps": MAX_STEPS, "batch_size": 16}, "method": "optical", "n_records": size,
        "budget": budget, "steps": steps, "steps_at_best": best if converged else steps,
        "dev_recall_at_best": 0.1 + size / 1e5 if converged else None,
        "dev_curve": [[0, UNTRAINED_DEV], [50, 0.09]],
        "stopped_by": ("cap" if cap_bound else "patience") if converged else "fixed",
        "cap_bound": cap_bound if converged else None, "examples_seen": 16 * steps,
        "examples_at_best": 16 * (best if converged else steps), "passes_at_best": 16 * (best if converged else steps) / size,
        "train_seconds": 1.25, "loss": [0.5] * 3,
    }


def validate_report(benchmarks: dict, overlap_mode: str = "drop") -> dict:
    """A validate report (keys of swimscale.data.check_language) for {benchmark: (role, documents,
    relevant overlaps, other overlaps, {dropped kind: count}, counts at prepare)}."""
    entries, overlap = {}, {}
    for name, (role, documents, relevant, other, dropped, counts) in benchmarks.items():
        warnings = [f"small_corpus: {documents} documents, at most 50: Recall@50 is 1 for every run"] if documents <= 50 else []
        entries[name] = {"role": role, "queries": counts.get("queries", 40), "documents": documents, "judgements": 40,
                         "small_corpus": documents <= 50, "warnings": warnings, "dropped": dropped,
                         "counts_at_prepare": counts}
        overlap[name] = {"relevant": relevant, "other": other}
    dropped_records = sum(c["relevant"] for c in overlap.values()) if overlap_mode == "drop" else 0
    return {"language": "ny", "benchmarks": entries,
            "overlap": {"mode": overlap_mode, "pool_records_read": 300, "pool_records_kept": 300 - dropped_records,
                        "overlapping_relevant": sum(c["relevant"] for c in overlap.values()),
                        "dropped": dropped_records, "benchmarks": overlap}}


def write_sweep(root: Path, table: pd.DataFrame, cap_bound, reports: dict[str, dict], budget: str = "converged") -> list[dict]:
    """The files the workflow's stages write for `table`'s runs under `root` (metrics files, training
    logs with `cap_bound(size, seed)`, a validate report per language); returns the sweep's points
    (as swimscale.config.Sweep.points gives them, paths under `root`)."""
    points = []
    for r in table.itertuples():
        metrics = root / "evaluate" / r.language / r.method / f"n{r.size}_s{r.seed}.json"
        metrics.parent.mkdir(parents=True, exist_ok=True)
        metrics.write_text(json.dumps({key: getattr(r, key) for key in METRIC_KEYS}))
        log = None
        if r.size:
            log = root / "train" / r.language / r.method / f"seed{r.seed}" / f"n{r.size}" / "train_log.json"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(json.dumps(train_log(r.size, r.seed, cap_bound(r.size, r.seed), budget)))
        points.append({"language": r.language, "benchmark": r.benchmark, "method": r.method, "size": r.size,
                       "seed": r.seed, "run_file": r.run_file, "qrels_file": r.qrels_file, "metrics_file": str(metrics),
                       "train_log": str(log) if log else None})
    for language, report in reports.items():
        path = root / "validate" / language / "report.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report))
    return points


__all__ = [
    "DEPTH",
    "MAX_STEPS",
    "MINIMAL_COLUMNS",
    "UNTRAINED_DEV",
    "null_study",
    "per_query_from_ranks",
    "saturating",
    "study",
    "train_log",
    "validate_report",
    "write_study_files",
    "write_sweep",
]
