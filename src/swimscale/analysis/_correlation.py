"""The correlation table: each statistic of the statistics table, per group and metric, with CIs.

Per language × benchmark × method and metric: every statistic of
:data:`swimscale.analysis._statistics.STATISTICS` (Spearman ρ, Pearson r and Kendall τ against log10 N,
the least-squares slope per doubling of N), computed within each seed over its trained sizes and
averaged over the seeds, with a t(S − 1) interval and p-value (:mod:`swimscale.analysis._inference`);
and the zero-shot (N = 0) level with its query-bootstrap CI. Nothing here treats the size × seed runs
as independent points. A trend needs :data:`MIN_TRAINED_SIZES` distinct sizes N > 0; with fewer, or
with degenerate input, the statistics are NaN with the reason in ``note``, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from swimscale.analysis._bootstrap import Replicates, bootstrap_group, ci
from swimscale.analysis._groups import Group, groups_of
from swimscale.analysis._inference import CUT, seed_t_interval
from swimscale.analysis._schema import MIN_TRAINED_SIZES, join_notes, series
from swimscale.analysis._statistics import CORRELATION_COLUMNS, STATISTICS, Statistic

NO_QUERY_CI = "no run files: the zero-shot level has no CI (its uncertainty is over queries)"


def too_few_sizes(sizes: Sequence[float]) -> str:
    """Why a trend or curve is not reported with these distinct trained sizes, or ""."""
    if len(sizes) >= MIN_TRAINED_SIZES:
        return ""
    listed = f" ({series([f'{int(n):,}' for n in sorted(sizes)])})" if len(sizes) else ""
    return f"only {len(sizes)} trained size(s){listed}; a trend needs ≥ {MIN_TRAINED_SIZES} distinct N > 0"


def _statistic_columns(
    row: dict[str, Any], statistic: Statistic, group: Group, reps: Replicates | None, metric: str, usable: np.ndarray
) -> list[str]:
    """Fill one statistic's estimate, CI and p-value from the usable seeds; its notes."""
    x10, y = group.seed_points(metric)
    values = statistic.kernel(x10[usable] * statistic.x_scale, y[usable])
    defined = np.isfinite(values)
    notes = []
    if not defined.any():
        return [f"{statistic.symbol} undefined: the metric is constant within every seed"]
    if not defined.all():
        notes.append(
            f"{statistic.symbol} undefined in {int((~defined).sum())} of {len(values)} seeds "
            "(metric constant within the seed): left out"
        )
    replicates = None
    if reps is not None and group.queries and metric in reps.per_seed.get(statistic.name, {}):
        replicates = reps.per_seed[statistic.name][metric][:, usable][:, defined]
    interval = seed_t_interval(values[defined], replicates, row["level"], bounded=statistic.correlation)
    row[statistic.column] = interval.estimate
    row[statistic.ci_columns[0]], row[statistic.ci_columns[1]] = interval.ci_low, interval.ci_high
    row[statistic.p_column] = interval.p_value
    row["t_df"] = interval.df
    return [*notes, f"{statistic.symbol}: {interval.note}" if CUT in interval.note else interval.note]


def _trend_columns(row: dict[str, Any], group: Group, reps: Replicates | None, metric: str) -> list[str]:
    _, y = group.seed_points(metric)
    why = too_few_sizes(group.trained_sizes[np.isfinite(y).any(axis=0)])
    if why:
        return [why]
    usable = np.isfinite(y).sum(axis=1) >= MIN_TRAINED_SIZES
    row["n_seeds"] = int(usable.sum())
    notes = []
    if not usable.all():
        notes.append(f"{int((~usable).sum())} seed(s) with fewer than {MIN_TRAINED_SIZES} sizes left out")
    for statistic in STATISTICS:
        notes += _statistic_columns(row, statistic, group, reps, metric, usable)
    return notes


def _zero_shot_columns(row: dict[str, Any], group: Group, reps: Replicates | None, metric: str, level: float) -> str:
    zero = group.rows.loc[group.rows["size"] == 0, metric].dropna()
    row["zero_shot"] = float(zero.mean()) if len(zero) else math.nan
    if not len(zero) or reps is None or not reps.has(metric):
        return ""
    if not group.queries:
        return NO_QUERY_CI
    lo, hi, why = ci(reps.size_mean[metric][:, group.zero_index], "zero-shot mean", level)
    row["zero_shot_ci_low"], row["zero_shot_ci_high"] = lo, hi
    return why


def _correlation_row(group: Group, reps: Replicates | None, metric: str, level: float) -> dict[str, Any]:
    trained = group.rows[(group.rows["size"] > 0) & group.rows[metric].notna()]
    row: dict[str, Any] = dict.fromkeys(CORRELATION_COLUMNS, math.nan)
    row.update(
        language=group.language,
        benchmark=group.benchmark,
        method=group.method,
        metric=metric,
        n_points=len(trained),
        n_sizes=int(trained["size"].nunique()),
        n_seeds=group.trained_seeds,
        n_queries=group.n_queries,
        n_boot=reps.n_boot if reps is not None and reps.has(metric) else 0,
        resampled=group.resampled,
        level=level,
    )
    notes = [_zero_shot_columns(row, group, reps, metric, level), *_trend_columns(row, group, reps, metric)]
    row["note"] = join_notes(*dict.fromkeys(notes))
    del row["level"]
    return row


def correlation_tables(
    groups: Sequence[Group], replicates: Sequence[Replicates | None], metrics: Sequence[str], level: float
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
    metric: str,
    level: float,
    per_query: Mapping[Any, pd.DataFrame] | None = None,
    *,
    n_boot: int,
    seed: int,
) -> pd.DataFrame:
    """The correlation rows of one ``metric`` per (language, benchmark, method) (see the module);
    ``n_boot`` and ``seed`` as the config's ``analysis`` section sets them (no default here: the schema
    holds it)."""
    if metric not in recall.columns:
        raise ValueError(f"metric {metric!r} is not a column of the recall table")
    groups = groups_of(recall, per_query)
    reps = [bootstrap_group(g, [metric], n_boot, seed) for g in groups]
    return correlation_tables(groups, reps, [metric], level)
