"""The repeated-measures correlation (Bakdash & Marusich 2017): one within-language correlation combined
over languages.

With k languages and n points (x = log10 N, y = the metric, **seeds averaged per size**: the seeds of a
size are replicates of one point, not further repeated measures), each language's x and y are
centred on that language's means, and

    r_rm = Σ (x − x̄_lang)(y − ȳ_lang) / √(Σ (x − x̄_lang)² · Σ (y − ȳ_lang)²),     df = n − k − 1,

which is the partial correlation of x and y given the language: the t statistic of x in the least
squares fit y ~ language + x is t = r_rm √(df / (1 − r_rm²)), and its p-value is that t test's. The
interval is Fisher's z with the R package's convention (``rmcorr``, psych::r.con with n = df + 2):
tanh(atanh r_rm ± z_(1+level)/2 / √(df − 1)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

MIN_DF = 3  # the Fisher interval needs df − 1 > 0; fewer points per language than this say little


@dataclass(frozen=True)
class RmCorr:
    r: float
    ci_low: float
    ci_high: float
    p_value: float
    df: int
    n_points: int
    n_units: int


def rmcorr(x: np.ndarray, y: np.ndarray, units: np.ndarray, level: float) -> RmCorr:
    """r_rm of ``y`` with ``x`` over the repeated measures of each unit (module docstring); NaN when
    df < :data:`MIN_DF` or there is no within-unit variation."""
    frame = pd.DataFrame({"x": np.asarray(x, dtype=float), "y": np.asarray(y, dtype=float), "u": np.asarray(units)})
    frame = frame.dropna()
    n, k = len(frame), frame["u"].nunique()
    df = n - k - 1
    centred = frame[["x", "y"]] - frame.groupby("u")[["x", "y"]].transform("mean")
    sxx, syy = float((centred["x"] ** 2).sum()), float((centred["y"] ** 2).sum())
    if df < MIN_DF or sxx <= 0 or syy <= 0:
        return RmCorr(math.nan, math.nan, math.nan, math.nan, df, n, k)
    r = float((centred["x"] * centred["y"]).sum() / math.sqrt(sxx * syy))
    r = min(1.0, max(-1.0, r))
    t = r * math.sqrt(df / max(1 - r * r, 1e-300))
    p = float(2 * stats.t.sf(abs(t), df))
    half = float(stats.norm.ppf(0.5 + level / 2)) / math.sqrt(df - 1)
    z = math.atanh(min(max(r, -1 + 1e-15), 1 - 1e-15))
    return RmCorr(r, math.tanh(z - half), math.tanh(z + half), p, df, n, k)


def seed_means(data: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One point per language × benchmark × size: the mean of its seeds (columns unit, size, metric)."""
    unit = data["language"].astype(str) + "/" + data["benchmark"].astype(str)
    means = data.assign(unit=unit).groupby(["unit", "size"], sort=True)[metric].mean()
    return means.reset_index()
