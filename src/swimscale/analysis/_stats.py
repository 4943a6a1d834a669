"""The correlate stage: recall table, per-language correlations with bootstrap CIs, recall per size.

Per language × benchmark × method and metric, :func:`correlation_tables` gives Spearman ρ, Pearson r and
Kendall τ of the metric against log10 N over the runs with N > 0 (each size × seed run one point), the
least-squares slope per doubling of N, and the zero-shot (N = 0) level -- point estimates from the
table, 95 % percentile bootstrap CIs from the per-query values of the runs (see
:mod:`swimscale.bootstrap`: queries resampled jointly across sizes, seeds resampled as clusters).
:func:`by_size_table` gives the mean per size with the same bootstrap CI. Degenerate input gives NaN
with the reason in ``note``, never an exception.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from swimscale._types import StrPath
from swimscale.analysis import _bootstrap as bootstrap

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
METRICS = ["recall_at_50", "recall_at_100", "ndcg_at_10", "mrr_at_10"]
METRIC_LABELS = {
    "recall_at_50": "Recall@50",
    "recall_at_100": "Recall@100",
    "ndcg_at_10": "nDCG@10",
    "mrr_at_10": "MRR@10",
}
_METRIC_LABELS = METRIC_LABELS  # the name used before
CORRELATION_COLUMNS = [
    *GROUP_COLUMNS,
    "metric",
    "n_points",
    "n_sizes",
    "n_seeds",
    "n_queries",
    "n_boot",
    "zero_shot",
    "zero_shot_ci_low",
    "zero_shot_ci_high",
    "spearman_rho",
    "spearman_ci_low",
    "spearman_ci_high",
    "spearman_p",
    "pearson_r",
    "pearson_ci_low",
    "pearson_ci_high",
    "pearson_p",
    "kendall_tau",
    "kendall_ci_low",
    "kendall_ci_high",
    "kendall_p",
    "slope_per_doubling",
    "slope_ci_low",
    "slope_ci_high",
    "note",
]
BY_SIZE_COLUMNS = [
    *GROUP_COLUMNS,
    "metric",
    "size",
    "n_seeds",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "gain",
    "gain_ci_low",
    "gain_ci_high",
    "note",
]

LEVEL = 0.95
# A statistic undefined in more than this share of the replicates gets no CI.
MAX_UNDEFINED_SHARE = 0.05
# Work per bootstrap chunk (floats), which bounds memory whatever the number of queries.
_CHUNK_FLOATS = 4_000_000


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


# --------------------------------------------------------------------------- groups and replicates


@dataclass
class Group:
    """The runs of one language × benchmark × method, as cells (one per table row)."""

    language: str
    benchmark: str
    method: str
    rows: pd.DataFrame  # the group's table rows, sorted by size then seed; row i is cell i
    sizes: np.ndarray  # distinct sizes, ascending (0 included when present)
    seeds: np.ndarray  # distinct seeds, ascending
    cell_at: np.ndarray  # (sizes, seeds): the cell of that size and seed, -1 if missing
    per_query: dict[str, np.ndarray] | None = None  # metric -> (cells, queries)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.language, self.benchmark, self.method)

    @property
    def n_queries(self) -> int:
        if self.per_query:
            return next(iter(self.per_query.values())).shape[1]
        counts = pd.to_numeric(self.rows["n_queries"], errors="coerce")
        return int(counts.max()) if counts.notna().any() else 0

    @property
    def trained_sizes(self) -> np.ndarray:
        return self.sizes[self.sizes > 0]

    @property
    def trained_seeds(self) -> int:
        """The number of distinct seeds among the runs with N > 0."""
        return int(self.rows.loc[self.rows["size"] > 0, "seed"].nunique())


def groups_of(recall: pd.DataFrame, per_query: Mapping[Any, pd.DataFrame] | None = None) -> list[Group]:
    """Split the recall table into :class:`Group`s.

    ``per_query`` maps a row's index label in ``recall`` to that run's per-query values (the frame of
    :func:`swimscale.metrics.evaluate`: a ``qid`` column and one column per metric). All runs of a
    group must be judged on the same queries.
    """
    groups = []
    for (language, benchmark, method), rows in recall.groupby(GROUP_COLUMNS, sort=True):
        rows = rows.sort_values(["size", "seed"])
        sizes = np.array(sorted(rows["size"].unique()), dtype=np.int64)
        seeds = np.array(sorted(rows["seed"].unique()), dtype=np.int64)
        cell_at = np.full((len(sizes), len(seeds)), -1, dtype=np.int64)
        size_pos = {s: i for i, s in enumerate(sizes)}
        seed_pos = {s: i for i, s in enumerate(seeds)}
        for cell, (size, seed) in enumerate(zip(rows["size"], rows["seed"])):
            cell_at[size_pos[size], seed_pos[seed]] = cell
        matrices = None
        if per_query is not None:
            frames = [per_query[label] for label in rows.index]
            qids = frames[0]["qid"].tolist()
            for label, frame in zip(rows.index, frames):
                if frame["qid"].tolist() != qids:
                    raise ValueError(
                        f"runs of {language}/{benchmark}/{method} are judged on different query sets "
                        f"(run_file {rows.loc[label, 'run_file']!r})"
                    )
            matrices = {
                metric: np.stack([f[metric].to_numpy(dtype=np.float64) for f in frames])
                for metric in METRICS
                if all(metric in f.columns for f in frames)
            }
        groups.append(
            Group(str(language), str(benchmark), str(method), rows.reset_index(drop=True), sizes, seeds, cell_at, matrices)
        )
    return groups


@dataclass
class Replicates:
    """Bootstrap replicates of one group (all from the same query and seed draws)."""

    n_boot: int
    spearman: dict[str, np.ndarray] = field(default_factory=dict)
    pearson: dict[str, np.ndarray] = field(default_factory=dict)
    kendall: dict[str, np.ndarray] = field(default_factory=dict)
    slope: dict[str, np.ndarray] = field(default_factory=dict)
    size_mean: dict[str, np.ndarray] = field(default_factory=dict)  # (n_boot, sizes)
    # The first n_keep replicates in full, for refitting the learning curve.
    cell_means: dict[str, np.ndarray] = field(default_factory=dict)  # (n_keep, cells)
    seed_draws: np.ndarray | None = None  # (n_keep, seeds)


def group_rng(seed: int, language: str, benchmark: str) -> np.random.Generator:
    """One stream per language × benchmark: every method of a language sees the same resamples,
    whatever else the table holds."""
    return np.random.default_rng([seed, zlib.crc32(f"{language}\0{benchmark}".encode())])


def replicate_statistics(
    group: Group, metrics: Iterable[str], query_idx: np.ndarray, seed_idx: np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """Statistics of the replicates given by explicit resample indices (the vectorised core).

    Returns {metric: {"spearman", "pearson", "kendall", "slope": (b,), "size_mean": (b, sizes),
    "cell_means": (b, cells)}}; correlations are against log10 N, the slope against log2 N.
    """
    assert group.per_query is not None
    counts = bootstrap.query_counts(query_idx, query_idx.shape[1])
    cells = bootstrap.expand_cells(group.cell_at, seed_idx)  # (b, sizes * drawn seeds)
    b, n_seeds = seed_idx.shape
    col_size = np.repeat(group.sizes, n_seeds).astype(np.float64)
    trained = col_size > 0
    with np.errstate(divide="ignore"):
        x10 = np.where(cells[:, trained] < 0, np.nan, np.log10(col_size[trained]))
    x2 = x10 * math.log2(10)
    out = {}
    for metric in metrics:
        means = bootstrap.resampled_means(group.per_query[metric], counts)
        y = bootstrap.gather(means, cells)
        yt = y[:, trained]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a size absent from every drawn seed
            size_mean = np.nanmean(y.reshape(b, len(group.sizes), n_seeds), axis=2)
        out[metric] = {
            "spearman": bootstrap.spearman(x10, yt),
            "pearson": bootstrap.pearson(x10, yt),
            "kendall": bootstrap.kendall(x10, yt),
            "slope": bootstrap.slope(x2, yt),
            "size_mean": size_mean,
            "cell_means": means,
        }
    return out


def bootstrap_group(
    group: Group, metrics: Sequence[str], n_boot: int, seed: int = 0, n_keep: int = 0
) -> Replicates | None:
    """``n_boot`` replicates of every statistic of ``group`` (None without per-query data)."""
    if group.per_query is None or n_boot <= 0:
        return None
    metrics = [m for m in metrics if m in group.per_query]
    n_queries = group.n_queries
    width = group.cell_at.size
    chunk = max(1, min(1000, _CHUNK_FLOATS // max(1, n_queries + width * width + len(group.rows))))
    parts: list[dict[str, dict[str, np.ndarray]]] = []
    seed_parts = []
    kept = 0
    rng = group_rng(seed, group.language, group.benchmark)
    for query_idx, seed_idx in bootstrap.draw(rng, n_boot, n_queries, len(group.seeds), chunk):
        part = replicate_statistics(group, metrics, query_idx, seed_idx)
        take = max(0, min(n_keep - kept, len(seed_idx)))
        for stats_of in part.values():
            stats_of["cell_means"] = stats_of["cell_means"][:take]
        seed_parts.append(seed_idx[:take])
        kept += take
        parts.append(part)
    reps = Replicates(n_boot=n_boot, seed_draws=np.concatenate(seed_parts))
    for metric in metrics:
        for name in ("spearman", "pearson", "kendall", "slope", "size_mean"):
            getattr(reps, name)[metric] = np.concatenate([p[metric][name] for p in parts])
        reps.cell_means[metric] = np.concatenate([p[metric]["cell_means"] for p in parts])
    return reps


def _ci(replicates: np.ndarray, label: str, level: float) -> tuple[float, float, str]:
    """Percentile CI, or NaN with a reason when too many replicates are undefined."""
    lo, hi, n_ok = bootstrap.percentile_ci(replicates, level)
    n = len(replicates)
    if n_ok == n:
        return lo, hi, ""
    share = 1 - n_ok / n
    if share > MAX_UNDEFINED_SHARE:
        return math.nan, math.nan, f"{label} undefined in {n - n_ok} of {n} resamples (constant resampled data): no CI"
    return lo, hi, f"{label} undefined in {n - n_ok} of {n} resamples, which the CI leaves out"


# --------------------------------------------------------------------------- correlation table


def _why_degenerate(n_points: int, n_sizes: int, y: np.ndarray) -> str:
    """A plain-words reason why no correlation can be computed, or "" if it can."""
    if n_points < 3:
        return f"only {n_points} point(s) with N > 0; need at least 3"
    if n_sizes < 2:
        return "only one training size N > 0; correlation with N is undefined"
    if np.all(y == y[0]):
        return "metric is constant over all N > 0 points; correlation is undefined"
    return ""


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _correlation_row(group: Group, reps: Replicates | None, metric: str, level: float) -> dict[str, Any]:
    rows = group.rows
    trained = rows[(rows["size"] > 0) & rows[metric].notna()]
    x = np.log10(trained["size"].to_numpy(dtype=float))
    y = trained[metric].to_numpy(dtype=float)
    n_sizes = int(trained["size"].nunique())
    zero = rows.loc[rows["size"] == 0, metric]
    # Checking first keeps scipy from warning (or failing) on degenerate input.
    note = _why_degenerate(len(y), n_sizes, y)
    point = dict.fromkeys(
        ["spearman_rho", "spearman_p", "pearson_r", "pearson_p", "kendall_tau", "kendall_p", "slope_per_doubling"],
        math.nan,
    )
    if not note:
        point["spearman_rho"], point["spearman_p"] = stats.spearmanr(x, y)
        point["pearson_r"], point["pearson_p"] = stats.pearsonr(x, y)
        point["kendall_tau"], point["kendall_p"] = stats.kendalltau(x, y)
    if n_sizes >= 2:
        point["slope_per_doubling"] = stats.linregress(x * math.log2(10), y).slope
    row: dict[str, Any] = {
        "language": group.language,
        "benchmark": group.benchmark,
        "method": group.method,
        "metric": metric,
        "n_points": len(y),
        "n_sizes": n_sizes,
        "n_seeds": group.trained_seeds,
        "n_queries": group.n_queries,
        "n_boot": reps.n_boot if reps is not None and metric in reps.spearman else 0,
        "zero_shot": float(zero.mean()) if len(zero) else math.nan,
        **{k: float(v) for k, v in point.items()},
    }
    ci_columns = {
        "spearman_rho": ("spearman", "spearman", "ρ"),
        "pearson_r": ("pearson", "pearson", "r"),
        "kendall_tau": ("kendall", "kendall", "τ"),
        "slope_per_doubling": ("slope", "slope", "slope"),
    }
    for prefix in ("zero_shot", *(c[1] for c in ci_columns.values())):
        row[f"{prefix}_ci_low"] = row[f"{prefix}_ci_high"] = math.nan
    ci_notes = []
    if row["n_boot"]:
        if len(zero):
            size0 = int(np.searchsorted(group.sizes, 0))
            lo, hi, why = _ci(reps.size_mean[metric][:, size0], "zero-shot mean", level)
            row["zero_shot_ci_low"], row["zero_shot_ci_high"] = lo, hi
            ci_notes.append(why)
        if group.trained_seeds < 2 and len(y):
            ci_notes.append("one seed: the seed-cluster bootstrap cannot resample seeds, so no CI for N > 0")
        else:
            for column, (attr, prefix, label) in ci_columns.items():
                if math.isnan(row[column]):
                    continue
                lo, hi, why = _ci(getattr(reps, attr)[metric], label, level)
                row[f"{prefix}_ci_low"], row[f"{prefix}_ci_high"] = lo, hi
                ci_notes.append(why)
    row["note"] = _join(note, *ci_notes)
    return row


def correlation_tables(
    groups: Sequence[Group], replicates: Sequence[Replicates | None], metrics: Sequence[str] = METRICS, level: float = LEVEL
) -> pd.DataFrame:
    """Rows per group × metric (metrics in the given order within a group)."""
    rows = [
        _correlation_row(group, reps, metric, level)
        for group, reps in zip(groups, replicates)
        for metric in metrics
        if metric in group.rows.columns
    ]
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)


def correlation_table(
    recall: pd.DataFrame,
    metric: str = "recall_at_50",
    per_query: Mapping[Any, pd.DataFrame] | None = None,
    n_boot: int = 0,
    seed: int = 0,
    level: float = LEVEL,
) -> pd.DataFrame:
    """Spearman/Pearson/Kendall of ``metric`` with log10(N) per (language, benchmark, method).

    Each (size, seed) row with size > 0 is one point; size 0 gives the zero-shot mean. With
    ``per_query`` (see :func:`groups_of`) and ``n_boot`` > 0, each statistic gets a percentile
    bootstrap CI. Degenerate groups get NaN statistics and a reason in ``note``.
    """
    if metric not in recall.columns:
        raise ValueError(f"metric {metric!r} is not a column of the recall table")
    groups = groups_of(recall, per_query)
    reps = [bootstrap_group(g, [metric], n_boot, seed) for g in groups]
    return correlation_tables(groups, reps, [metric], level)


def by_size_table(
    groups: Sequence[Group], replicates: Sequence[Replicates | None], metrics: Sequence[str] = METRICS, level: float = LEVEL
) -> pd.DataFrame:
    """Mean of each metric per size over seeds, its sample SD and bootstrap CI, and the gain over N = 0.

    The gain's CI is paired: each replicate's mean at N minus the same replicate's zero-shot mean (one
    query draw for both), so it is much narrower than the two CIs side by side suggest.
    """
    out = []
    for group, reps in zip(groups, replicates):
        for metric in metrics:
            if metric not in group.rows.columns:
                continue
            zero_values = group.rows.loc[group.rows["size"] == 0, metric].dropna()
            zero = float(zero_values.mean()) if len(zero_values) else math.nan
            for i, size in enumerate(group.sizes):
                values = group.rows.loc[group.rows["size"] == size, metric].dropna()
                row = {
                    "language": group.language,
                    "benchmark": group.benchmark,
                    "method": group.method,
                    "metric": metric,
                    "size": int(size),
                    "n_seeds": len(values),
                    "mean": float(values.mean()) if len(values) else math.nan,
                    "sd": float(values.std()) if len(values) > 1 else math.nan,
                    "ci_low": math.nan,
                    "ci_high": math.nan,
                    "gain": float(values.mean()) - zero if size > 0 and len(values) else math.nan,
                    "gain_ci_low": math.nan,
                    "gain_ci_high": math.nan,
                    "note": "",
                }
                if reps is not None and metric in reps.size_mean:
                    if size > 0 and group.trained_seeds < 2:
                        row["note"] = "one seed: no seed-cluster bootstrap CI"
                    else:
                        reps_i = reps.size_mean[metric][:, i]
                        row["ci_low"], row["ci_high"], why = _ci(reps_i, "mean", level)
                        why_gain = ""
                        if not math.isnan(row["gain"]):
                            size0 = int(np.searchsorted(group.sizes, 0))
                            paired = reps_i - reps.size_mean[metric][:, size0]
                            row["gain_ci_low"], row["gain_ci_high"], why_gain = _ci(paired, "gain", level)
                        row["note"] = _join(why, why_gain)
                out.append(row)
    return pd.DataFrame(out, columns=BY_SIZE_COLUMNS)


# --------------------------------------------------------------------------- plot and output


def plot_recall_vs_n(recall: pd.DataFrame, path: StrPath, metric: str = "recall_at_50", **kwargs: Any) -> None:
    """Mean ``metric`` against N (log x); see :func:`swimscale.plots.plot_recall_vs_n`."""
    from swimscale.analysis.report._plots import plot_recall_vs_n as plot

    plot(recall, [path], metric=metric, **kwargs)


def write_tsv(df: pd.DataFrame, path: StrPath) -> None:
    """Tab-separated, no index, floats to 6 significant digits, NaN as ``nan``."""
    df.to_csv(path, sep="\t", index=False, float_format="%.6g", na_rep="nan")
