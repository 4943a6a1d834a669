"""The across-language plot: each language's own line in log N, faint, with the mean line and its band.

One panel per tier × method of the across-language table (``tables/across_languages.tsv``): every
language's least-squares line (per-seed slopes averaged, :func:`swimscale.analysis._across_languages.unit_slopes`)
over the common ground's N range, and where the random-slope model was fitted, its mean line
a + b (log2 N − c) with the band of its stated level (from the fixed effects' covariance, normal
quantile) and, dashed, the prediction interval's slopes for a new language through the mean at c.
A panel without a model says why (the table's note).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from swimscale._types import StrPath
from swimscale.analysis._schema import METRIC_LABELS, level_words
from swimscale.analysis.report._plots import save


def _mean_line(ax, row, x: np.ndarray, level: float) -> None:
    """The mean line with its band and the prediction interval's slopes."""
    dx = x - row.x_center
    mean = row.intercept + row.slope * dx
    var = row.intercept_se**2 + dx**2 * row.se**2 + 2 * dx * row.cov_intercept_slope
    half = float(stats.norm.ppf(0.5 + level / 2)) * np.sqrt(np.maximum(var, 0.0))
    n = 2.0**x
    ax.plot(n, mean, color="black", linewidth=2, label=f"mean, {row.slope:.3g} per doubling")
    ax.fill_between(n, mean - half, mean + half, color="black", alpha=0.15, linewidth=0,
                    label=f"{level_words(level)} band of the mean")
    if math.isfinite(row.pi_low):
        for edge, label in ((row.pi_low, f"{level_words(level)} PI of a new language's slope"), (row.pi_high, None)):
            ax.plot(n, row.intercept + edge * dx, color="black", linestyle="--", linewidth=0.8, label=label)


def _panel(ax, row, units: pd.DataFrame, level: float) -> None:
    own = units[(units["method"] == row.method) & ((units["tier"] == row.tier) | (row.tier == "all"))]
    lo = row.min_size if math.isfinite(row.min_size) else 1.0
    hi = row.max_size if math.isfinite(row.max_size) else lo * 2
    x = np.linspace(math.log2(max(lo, 1.0)), math.log2(max(hi, lo * 2)), 50)
    for unit in own.itertuples():
        if math.isfinite(unit.slope):
            ax.plot(2.0**x, unit.intercept + unit.slope * x, color="tab:blue", alpha=0.3, linewidth=1)
    if math.isfinite(row.slope):
        _mean_line(ax, row, x, level)
        ax.legend(fontsize=7, loc="best")
    else:
        ax.text(0.02, 0.98, "\n".join(textwrap.wrap(str(row.note), 45)), transform=ax.transAxes, fontsize=7, va="top")
    ax.set_xscale("log")
    ax.set_title(f"{row.method}, tier {row.tier} ({int(row.n_languages)} language(s))", fontsize=9)
    ax.set_xlabel("N (training samples)")
    ax.set_ylabel(METRIC_LABELS.get(str(row.metric), str(row.metric)))


def plot_across_languages(across: pd.DataFrame, units: pd.DataFrame, paths: Sequence[StrPath], level: float) -> None:
    """Save the plot to every path in ``paths`` (module docstring); an empty table gives one empty panel."""
    n = max(len(across), 1)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(4.5 * cols, 3.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, row in zip(axes, across.itertuples()):
        _panel(ax, row, units, level)
    for ax in axes[len(across):]:
        ax.set_axis_off()
    if not len(across):
        axes[0].text(0.5, 0.5, "no runs with N > 0", ha="center", va="center", transform=axes[0].transAxes)
    fig.suptitle("Recall@50 against N: each language's line (faint) and the mean across languages", fontsize=10)
    fig.tight_layout()
    save(fig, paths)
