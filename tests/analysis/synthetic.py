"""Synthetic studies for the analysis tests: a recall table and the per-query values (or run files) behind it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from swimscale.retrieval._metrics import EVAL_COLUMNS, evaluate, read_qrels, read_run, write_run
from swimscale.analysis._stats import build_recall_table


def saturating(n: float, r0: float = 0.05, r_inf: float = 0.35, n0: float = 100.0, alpha: float = 0.8) -> float:
    return r_inf - (r_inf - r0) * (1 + n / n0) ** (-alpha)


def ranks_for(rng: np.random.Generator, p_top50: np.ndarray) -> np.ndarray:
    """Rank (1-based; 0 = not retrieved) of each query's relevant document for hit probabilities p."""
    hit50 = rng.random(len(p_top50)) < p_top50
    rank = np.where(hit50, rng.integers(1, 51, len(p_top50)), rng.integers(51, 130, len(p_top50)))
    return np.where(rank > 100, 0, rank)


def per_query_from_ranks(qids: list[str], ranks: np.ndarray) -> pd.DataFrame:
    """The frame swimscale.metrics.evaluate gives for one relevant document per query at these ranks."""
    rows = []
    for qid, r in zip(qids, ranks):
        rows.append(
            {
                "qid": qid,
                "recall_at_50": float(0 < r <= 50),
                "recall_at_100": float(0 < r <= 100),
                "ndcg_at_10": 1 / math.log2(r + 1) if 0 < r <= 10 else 0.0,
                "mrr_at_10": 1 / r if 0 < r <= 10 else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=EVAL_COLUMNS)


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
            docs = [f"x{q}_{k:03d}" for k in range(100)]
            if r:
                docs[r - 1] = f"d{q}"
            results[q] = [(d, float(100 - k)) for k, d in enumerate(docs)]
        write_run(run, results, "synthetic")
    # The table's means are those of the files (checked here so a broken helper fails loudly).
    for label, row in table.iterrows():
        means = evaluate(read_run(root / row["run_file"]), read_qrels(root / row["qrels_file"])).drop(columns="qid").mean()
        assert abs(means["recall_at_50"] - row["recall_at_50"]) < 1e-12


__all__ = ["saturating", "study", "write_study_files", "per_query_from_ranks"]
