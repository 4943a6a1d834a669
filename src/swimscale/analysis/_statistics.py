"""The statistics table: every statistic of a metric against N that the correlation table reports.

Adding a statistic is one entry of :data:`STATISTICS`: its name, its kernel (row-wise over many data
sets at once, :mod:`swimscale.analysis._rowstats`: the seeds of a group, and the seeds of every query
resample), its reference function (the same statistic of one data set from :mod:`scipy.stats`, which
the tests hold the kernel to), the x it is computed against (log10 N or log2 N), and its label. Its
columns in ``correlation.tsv`` (estimate, CI limits, p-value), its replicates, its column in the
Markdown and LaTeX tables and its place in ``summary.md`` all follow from the entry.

Each statistic is computed within each seed (over that seed's trained sizes) and averaged over seeds,
with the interval of :func:`swimscale.analysis._inference.seed_t_interval`.
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
    """One statistic of (x = log N, y = metric) over the trained runs of one seed."""

    name: str  # key of the replicates; prefix of the CI and p-value columns
    column: str  # column of the point estimate
    label: str  # in the tables and summary.md, e.g. "Spearman ρ"
    symbol: str  # in notes, e.g. "ρ"
    kernel: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (b, L) x, y -> (b,)
    reference: Callable[[np.ndarray, np.ndarray], float]  # x, y of one data set -> the statistic
    x_scale: float = LOG10  # x = log10(N) * x_scale
    correlation: bool = True  # a correlation: undefined for constant y, bounded by ±1

    @property
    def ci_columns(self) -> tuple[str, str]:
        return f"{self.name}_ci_low", f"{self.name}_ci_high"

    @property
    def p_column(self) -> str:
        return f"{self.name}_p"

    @property
    def columns(self) -> list[str]:
        return [self.column, *self.ci_columns, self.p_column]


STATISTICS: tuple[Statistic, ...] = (
    Statistic("spearman", "spearman_rho", "Spearman ρ", "ρ", _rowstats.spearman, lambda x, y: stats.spearmanr(x, y)[0]),
    Statistic("pearson", "pearson_r", "Pearson r", "r", _rowstats.pearson, lambda x, y: stats.pearsonr(x, y)[0]),
    Statistic("kendall", "kendall_tau", "Kendall τ", "τ", _rowstats.kendall, lambda x, y: stats.kendalltau(x, y)[0]),
    Statistic(
        "slope", "slope_per_doubling", "Slope per doubling", "slope", _rowstats.slope,
        lambda x, y: stats.linregress(x, y).slope, x_scale=LOG2, correlation=False,
    ),
)
BY_NAME = {s.name: s for s in STATISTICS}
TREND = BY_NAME["slope"]  # the statistic whose interval decides the summary's trend sentence

CORRELATION_COLUMNS = [
    *GROUP_COLUMNS,
    "metric",
    "n_points",
    "n_sizes",
    "n_seeds",
    "n_queries",
    "n_boot",
    "resampled",
    "zero_shot",
    "zero_shot_ci_low",
    "zero_shot_ci_high",
    *(column for statistic in STATISTICS for column in statistic.columns),
    "t_df",
    "note",
]
