"""Speed of the vectorised query × seed bootstrap (swimscale.analysis._bootstrap).

Synthetic per-query tables of two shapes, built in memory (no files):

* demo:   1 language, sizes {0, 32, 128, 512} × 3 seeds, 500 queries (the embedded default study);
* larger: 1 language, sizes {0, 16, 64, 256, 1024, 4096} × 5 seeds, 2,000 queries (per language; a
  study's time is this × its languages × benchmarks × methods).

Prints seconds (median of --repeats) for: the bootstrap behind every CI (per-size means over the drawn
seeds, and ρ, r, τ and the slope within each seed under each query draw; 4 metrics; --n-boot
resamples), the same for Recall@50 only, the learning-curve refits (--n-boot-fit; the demo has too few
sizes for a curve), the whole analysis without file I/O (swimscale.analysis.analyse), and a slow
one-replicate-at-a-time loop with scipy on a few hundred resamples, scaled to --n-boot, for comparison.

    python perf/speed_bootstrap.py [--n-boot 10000] [--n-boot-fit 200] [--threads 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-boot", type=int, default=10_000)
    parser.add_argument("--n-boot-fit", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (default 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slow-resamples", type=int, default=200)
    return parser.parse_args()


ARGS = _args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)  # before numpy is imported

import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from swimscale.analysis import METRICS, Settings, analyse, build_recall_table  # noqa: E402
from swimscale.analysis._bootstrap import bootstrap_group  # noqa: E402
from swimscale.analysis._curves import learning_curve_row  # noqa: E402
from swimscale.analysis._groups import groups_of  # noqa: E402

LEVEL = Settings.of().level


def synthetic(sizes, seeds, n_queries, seed=0):
    """A recall table and per-query values: Recall@50 ≈ 0.35 − 0.30 (1 + N/50)^−1 plus seed noise
    (a saturating curve, so that the learning-curve fit and its refits run in full)."""
    rng = np.random.default_rng(seed)
    records, frames = [], {}
    qids = [f"q{i:05d}" for i in range(n_queries)]
    zero = None
    for size in sizes:
        for s in seeds:
            if size == 0 and zero is not None:
                frame = zero
            else:
                p = 0.35 - 0.30 / (1 + size / 50) + (rng.normal(0, 0.01) if size else 0)
                rank = np.where(rng.random(n_queries) < p, rng.integers(1, 51, n_queries), rng.integers(51, 200, n_queries))
                frame = pd.DataFrame(
                    {
                        "qid": qids,
                        "recall_at_50": (rank <= 50).astype(float),
                        "recall_at_100": (rank <= 100).astype(float),
                        "ndcg_at_10": np.where(rank <= 10, 1 / np.log2(rank + 1), 0.0),
                        "mrr_at_10": np.where(rank <= 10, 1 / rank, 0.0),
                    }
                )
                zero = frame if size == 0 else zero
            means = frame.drop(columns="qid").mean()
            frames[(size, s)] = frame
            records.append(
                {
                    "language": "xx", "benchmark": "bench", "method": "optical", "size": size, "seed": s,
                    **means.to_dict(), "n_queries": n_queries, "steps": 0, "examples_seen": size,
                    "train_seconds": 0.0, "run_file": "-", "qrels_file": "-",
                }
            )
    table = build_recall_table(records)
    per_query = {label: frames[(r.size, r.seed)] for label, r in zip(table.index, table.itertuples())}
    return table, per_query


def slow_loop(group, n_boot, rng):
    """One replicate at a time: resample queries and seeds, average each size over the drawn seeds, and
    compute each statistic within each seed with scipy (the definition)."""
    y_all = group.per_query["recall_at_50"]
    rows = group.rows
    for _ in range(n_boot):
        q = rng.integers(0, group.n_queries, group.n_queries)
        drawn = rng.integers(0, len(group.seeds), len(group.seeds))
        means = y_all[:, q].mean(axis=1)
        for size in group.sizes:
            np.mean([means[c] for k in drawn for c in np.flatnonzero((rows["seed"] == group.seeds[k]) & (rows["size"] == size))])
        for seed in group.seeds:
            cells = np.flatnonzero((rows["seed"].to_numpy() == seed) & (rows["size"].to_numpy() > 0))
            xs, ys = np.log10(rows["size"].to_numpy(float)[cells]), means[cells]
            stats.spearmanr(xs, ys)
            stats.pearsonr(xs, ys)
            stats.kendalltau(xs, ys)
            stats.linregress(xs, ys)


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    shapes = {
        "demo: 4 sizes × 3 seeds × 500 q": ((0, 32, 128, 512), (0, 1, 2), 500),
        "larger: 6 sizes × 5 seeds × 2,000 q": ((0, 16, 64, 256, 1024, 4096), tuple(range(5)), 2000),
    }
    b, bf = ARGS.n_boot, ARGS.n_boot_fit
    print(f"threads={ARGS.threads}, median of {ARGS.repeats}, numpy {np.__version__}, python {sys.version.split()[0]}")
    print()
    print(f"| table | CIs, 4 metrics, {b:,} resamples | CIs, Recall@50 only | curve refits ({bf}) "
          f"| whole analysis (no I/O) | slow scipy loop, scaled to {b:,} |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (sizes, seeds, n_queries) in shapes.items():
        table, per_query = synthetic(sizes, seeds, n_queries)
        (group,) = groups_of(table, per_query)
        t_all = timed(lambda: bootstrap_group(group, METRICS, b, seed=0), ARGS.repeats)
        t_r50 = timed(lambda: bootstrap_group(group, ["recall_at_50"], b, seed=0), ARGS.repeats)
        reps = bootstrap_group(group, ["recall_at_50"], bf, n_keep=bf, seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_fit = timed(lambda: learning_curve_row(group, reps, 0.2, LEVEL), ARGS.repeats)
            fitted = learning_curve_row(group, reps, 0.2, LEVEL)
            t_analyse = timed(lambda: analyse(table, per_query, settings={"n_boot": b, "n_boot_fit": bf}), 1)
        n_slow = ARGS.slow_resamples
        t_slow = timed(lambda: slow_loop(group, n_slow, np.random.default_rng(0)), 1) * b / n_slow
        refits = (
            f"{t_fit:.2f} s ({fitted['n_boot_ok']} of {fitted['n_boot_fit']} converged)" if fitted["n_boot_fit"]
            else f"no curve ({fitted['note'].split(';')[0]})"
        )
        print(f"| {name} | {t_all:.2f} s | {t_r50:.2f} s | {refits} | {t_analyse:.2f} s | {t_slow:.0f} s |")


if __name__ == "__main__":
    main()
