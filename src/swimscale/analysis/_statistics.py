"""The statistics table: every statistic of a metric against N that the correlation table reports.

Adding a statistic is one entry of :data:`STATISTICS`: its name, its bootstrap kernel (row-wise over a
whole set of replicates, :mod:`swimscale.analysis._rowstats`), its reference function (the same
statistic on one data set, from :mod:`scipy.stats`), the x it is computed against (log10 N or log2 N),
and its label. Its columns in ``correlation.tsv`` (the estimate, the CI limits, a p-value where the
reference gives one), its replicates, its line in the tables and in ``summary.md`` all follow from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from swimscale.analysis import _rowstats
from swimscale.analysis._schema import GROUP_COLUMNS

# x = log10 N times this: log10 N itself, or log2 N (a slope per doubling of N).
LOG10 = 1.0
LOG2 = math.log2(10)


@dataclass(frozen=True)
class Statistic:
    """One statistic of (x = log N, y = metric) over the runs with N > 0."""

    name: str  # key of the replicates; prefix of the CI columns
    column: str  # column of the point estimate
    label: str  # in the tables and summary.md, e.g. "Spearman ρ"
    symbol: str  # in notes, e.g. "ρ"
    kernel: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (b, L) x, y -> (b,)
    reference: Callable[[np.ndarray, np.ndarray], tuple[float, float]]  # x, y -> (estimate, p-value)
    x_scale: float = LOG10  # x = log10(N) * x_scale
    correlation: bool = True  # a correlation: undefined for constant y, bounded by ±1
    has_p: bool = True  # the reference's p-value is reported (column <name>_p)

    @property
    def ci_columns(self) -> tuple[str, str]:
        return f"{self.name}_ci_low", f"{self.name}_ci_high"

    @property
    def p_column(self) -> str | None:
        return f"{self.name}_p" if self.has_p else None

    @property
    def columns(self) -> list[str]:
        return [self.column, *self.ci_columns, *([self.p_column] if self.has_p else [])]


def _slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    return stats.linregress(x, y).slope, math.nan


STATISTICS: tuple[Statistic, ...] = (
    Statistic("spearman", "spearman_rho", "Spearman ρ", "ρ", _rowstats.spearman, lambda x, y: tuple(stats.spearmanr(x, y))),
    Statistic("pearson", "pearson_r", "Pearson r", "r", _rowstats.pearson, lambda x, y: tuple(stats.pearsonr(x, y))),
    Statistic("kendall", "kendall_tau", "Kendall τ", "τ", _rowstats.kendall, lambda x, y: tuple(stats.kendalltau(x, y))),
    Statistic(
        "slope", "slope_per_doubling", "Slope per doubling", "slope", _rowstats.slope, _slope,
        x_scale=LOG2, correlation=False, has_p=False,
    ),
)
BY_NAME = {s.name: s for s in STATISTICS}

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
    *(column for statistic in STATISTICS for column in statistic.columns),
    "note",
]
