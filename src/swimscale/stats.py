"""The correlate stage: recall table, size/metric correlations, and the recall-vs-N plot."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator
from scipy import stats

StrPath = str | PathLike[str]

KEY_COLUMNS = ["language", "benchmark", "method", "size", "seed"]
GROUP_COLUMNS = ["language", "benchmark", "method"]
RECALL_COLUMNS = [
    *KEY_COLUMNS,
    "recall_at_50",
    "recall_at_100",
    "ndcg_at_10",
    "mrr_at_10",
    "n_queries",
    "steps",
    "examples_seen",
    "train_seconds",
    "run_file",
    "qrels_file",
]
CORRELATION_COLUMNS = [
    *GROUP_COLUMNS,
    "metric",
    "n_points",
    "n_sizes",
    "spearman_rho",
    "spearman_p",
    "pearson_r",
    "pearson_p",
    "zero_shot",
    "note",
]
_METRIC_LABELS = {
    "recall_at_50": "Recall@50",
    "recall_at_100": "Recall@100",
    "ndcg_at_10": "nDCG@10",
    "mrr_at_10": "MRR@10",
}


def build_recall_table(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per evaluate-stage record, columns :data:`RECALL_COLUMNS`, sorted by key."""
    seen: dict[tuple[Any, ...], int] = {}
    for i, record in enumerate(records):
        missing = [c for c in RECALL_COLUMNS if c not in record]
        if missing:
            raise ValueError(f"record {i} lacks key(s) {', '.join(missing)}")
        key = tuple(record[c] for c in KEY_COLUMNS)
        if key in seen:
            named = ", ".join(f"{c}={v!r}" for c, v in zip(KEY_COLUMNS, key))
            raise ValueError(f"records {seen[key]} and {i} share the key ({named})")
        seen[key] = i
    table = pd.DataFrame([{c: r[c] for c in RECALL_COLUMNS} for r in records], columns=RECALL_COLUMNS)
    return table.sort_values(KEY_COLUMNS, ignore_index=True)


def _why_degenerate(n_points: int, n_sizes: int, y: np.ndarray) -> str:
    """A plain-words reason why no correlation can be computed, or "" if it can."""
    if n_points < 3:
        return f"only {n_points} point(s) with N > 0; need at least 3"
    if n_sizes < 2:
        return "only one training size N > 0; correlation with N is undefined"
    if np.all(y == y[0]):
        return "metric is constant over all N > 0 points; correlation is undefined"
    return ""


def correlation_table(recall: pd.DataFrame, metric: str = "recall_at_50") -> pd.DataFrame:
    """Spearman/Pearson correlation of ``metric`` with log10(N) per (language, benchmark, method).

    Each (size, seed) row with size > 0 is one point; size 0 gives the zero-shot mean.
    Degenerate groups get NaN statistics and a reason in ``note``.
    """
    if metric not in recall.columns:
        raise ValueError(f"metric {metric!r} is not a column of the recall table")
    rows = []
    for (language, benchmark, method), group in recall.groupby(GROUP_COLUMNS, sort=True):
        trained = group[(group["size"] > 0) & group[metric].notna()]
        x = np.log10(trained["size"].to_numpy(dtype=float))
        y = trained[metric].to_numpy(dtype=float)
        n_sizes = int(trained["size"].nunique())
        zero = group.loc[group["size"] == 0, metric]
        # Checking first keeps scipy from warning (or failing) on degenerate input.
        note = _why_degenerate(len(y), n_sizes, y)
        rho = rho_p = r = r_p = math.nan
        if not note:
            rho, rho_p = stats.spearmanr(x, y)
            r, r_p = stats.pearsonr(x, y)
        rows.append(
            {
                "language": language,
                "benchmark": benchmark,
                "method": method,
                "metric": metric,
                "n_points": len(y),
                "n_sizes": n_sizes,
                "spearman_rho": float(rho),
                "spearman_p": float(rho_p),
                "pearson_r": float(r),
                "pearson_p": float(r_p),
                "zero_shot": float(zero.mean()) if len(zero) else math.nan,
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)


def plot_recall_vs_n(recall: pd.DataFrame, path: StrPath, metric: str = "recall_at_50") -> None:
    """Mean ``metric`` over seeds against N (log x), error bars = std over seeds; N=0 as dashed lines."""
    # A bare Figure renders with Agg and leaves pyplot's global state alone.
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    # Name the benchmark only when there is more than one, to keep the legend short.
    several_benchmarks = recall["benchmark"].nunique() > 1
    any_trained = False
    groups = recall.groupby(GROUP_COLUMNS, sort=True)
    for i, ((language, benchmark, method), group) in enumerate(groups):
        color = f"C{i % 10}"
        label = f"{language}/{benchmark}/{method}" if several_benchmarks else f"{language}/{method}"
        trained = group[group["size"] > 0].groupby("size")[metric]
        if len(trained):
            any_trained = True
            mean = trained.mean()
            std = trained.std().fillna(0.0)  # sample std; a single seed has no spread
            ax.errorbar(
                mean.index, mean.to_numpy(), yerr=std.to_numpy(), color=color, marker="o", capsize=3, label=label
            )
        zero = group.loc[group["size"] == 0, metric].mean()
        if not math.isnan(zero):
            ax.axhline(zero, color=color, linestyle="--", linewidth=1, label=f"{label} zero-shot (N=0)")
    ax.set_xscale("log")
    if not any_trained:
        ax.set_xlim(1, 1e4)  # no N > 0 data to set the range; show a plausible one
    else:
        # Tick the sizes of the sweep themselves, in plain numbers.
        sizes = sorted(recall.loc[recall["size"] > 0, "size"].unique())
        ax.set_xticks(sizes, [f"{int(n):,}" for n in sizes])
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("training samples N (log scale)")
    ax.set_ylabel(_METRIC_LABELS.get(metric, metric))
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        # Outside the axes, so the legend never hides data points.
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.savefig(path, dpi=150, format="png", bbox_inches="tight")


def write_tsv(df: pd.DataFrame, path: StrPath) -> None:
    """Tab-separated, no index, floats to 6 significant digits, NaN as ``nan``."""
    df.to_csv(path, sep="\t", index=False, float_format="%.6g", na_rep="nan")
