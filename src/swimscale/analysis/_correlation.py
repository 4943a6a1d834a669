"""The correlation table: each statistic of the statistics table, per group and metric, with CIs.

Per language × benchmark × method and metric, every statistic of
:data:`swimscale.analysis._statistics.STATISTICS` (Spearman ρ, Pearson r and Kendall τ against log10 N,
the least-squares slope per doubling of N) over the runs with N > 0 (each size × seed run one point),
and the zero-shot (N = 0) level -- point estimates from the table, percentile bootstrap CIs from the
per-query values of the runs (:mod:`swimscale.analysis._bootstrap`). Degenerate input gives NaN with
the reason in ``note``, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from swimscale.analysis._bootstrap import Replicates, bootstrap_group, ci
from swimscale.analysis._groups import Group, groups_of
from swimscale.analysis._schema import METRICS, join_notes
from swimscale.analysis._statistics import CORRELATION_COLUMNS, STATISTICS, Statistic

ONE_SEED = "one seed: the seed-cluster bootstrap cannot resample seeds, so no CI for N > 0"


def why_degenerate(n_points: int, n_sizes: int, y: np.ndarray) -> str:
    """A plain-words reason why no correlation can be computed, or "" if it can."""
    if n_points < 3:
        return f"only {n_points} point(s) with N > 0; need at least 3"
    if n_sizes < 2:
        return "only one training size N > 0; correlation with N is undefined"
    if np.all(y == y[0]):
        return "metric is constant over all N > 0 points; correlation is undefined"
    return ""


def _point_estimates(x10: np.ndarray, y: np.ndarray, n_sizes: int, degenerate: str) -> dict[str, float]:
    """Each statistic's estimate (and p-value) from its reference function; NaN where undefined."""
    point: dict[str, float] = {}
    for statistic in STATISTICS:
        defined = not degenerate if statistic.correlation else n_sizes >= 2
        estimate, p = statistic.reference(x10 * statistic.x_scale, y) if defined else (math.nan, math.nan)
        point[statistic.column] = float(estimate)
        if statistic.has_p:
            point[statistic.p_column] = float(p)
    return point


def _statistic_cis(row: dict[str, Any], reps: Replicates, metric: str, level: float) -> list[str]:
    notes = []
    for statistic in STATISTICS:
        if math.isnan(row[statistic.column]):
            continue
        lo, hi, why = ci(reps.stats[statistic.name][metric], statistic.symbol, level)
        row[statistic.ci_columns[0]], row[statistic.ci_columns[1]] = lo, hi
        notes.append(why)
    return notes


def _correlation_row(group: Group, reps: Replicates | None, metric: str, level: float) -> dict[str, Any]:
    rows = group.rows
    trained = rows[(rows["size"] > 0) & rows[metric].notna()]
    x10 = np.log10(trained["size"].to_numpy(dtype=float))
    y = trained[metric].to_numpy(dtype=float)
    n_sizes = int(trained["size"].nunique())
    zero = rows.loc[rows["size"] == 0, metric]
    # Checking first keeps scipy from warning (or failing) on degenerate input.
    degenerate = why_degenerate(len(y), n_sizes, y)
    row: dict[str, Any] = {
        "language": group.language,
        "benchmark": group.benchmark,
        "method": group.method,
        "metric": metric,
        "n_points": len(y),
        "n_sizes": n_sizes,
        "n_seeds": group.trained_seeds,
        "n_queries": group.n_queries,
        "n_boot": reps.n_boot if reps is not None and reps.has(metric) else 0,
        "zero_shot": float(zero.mean()) if len(zero) else math.nan,
        "zero_shot_ci_low": math.nan,
        "zero_shot_ci_high": math.nan,
        **_point_estimates(x10, y, n_sizes, degenerate),
    }
    for statistic in STATISTICS:
        row.update(dict.fromkeys(statistic.ci_columns, math.nan))
    notes = [degenerate]
    if row["n_boot"]:
        if len(zero):
            lo, hi, why = ci(reps.size_mean[metric][:, group.zero_index], "zero-shot mean", level)
            row["zero_shot_ci_low"], row["zero_shot_ci_high"] = lo, hi
            notes.append(why)
        if group.trained_seeds < 2 and len(y):
            notes.append(ONE_SEED)
        else:
            notes += _statistic_cis(row, reps, metric, level)
    row["note"] = join_notes(*notes)
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
    n_boot: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """The correlation rows of one ``metric`` per (language, benchmark, method).

    With ``per_query`` (see :func:`swimscale.analysis._groups.groups_of`) and ``n_boot`` > 0, each
    statistic gets a percentile bootstrap CI. Degenerate groups get NaN statistics and a reason in
    ``note``.
    """
    if metric not in recall.columns:
        raise ValueError(f"metric {metric!r} is not a column of the recall table")
    groups = groups_of(recall, per_query)
    reps = [bootstrap_group(g, [metric], n_boot, seed) for g in groups]
    return correlation_tables(groups, reps, [metric], level)


__all__ = ["Statistic", "correlation_table", "correlation_tables", "why_degenerate", "METRICS"]
