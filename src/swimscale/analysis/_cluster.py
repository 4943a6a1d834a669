"""Small-cluster-robust inference for a slope with unit fixed effects: CR2 with Bell–McCaffrey df.

Model: y = D a + b x + e, D one dummy per unit (language × benchmark), errors correlated arbitrarily
within a cluster (a language; units are nested in clusters). With few clusters the usual CR1 sandwich
is biased down and t(G − 1) is too narrow. CR2 (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018)
adjusts each cluster's residuals by A_g = (I − H_gg)^(−1/2) (a pseudo-inverse square root: the fixed
effects make I − H_gg singular), which makes the variance exactly unbiased when the errors are
independent and homoskedastic:

    b̂ = Σ x̃ỹ / S,   S = Σ x̃²   (x̃, ỹ: x and y centred within each unit)
    V_CR2 = Σ_g (x̃_g' A_g ê_g)² / S²,   I − H_gg = M_g − x̃_g x̃_g' / S   (M_g: centring within units)

and the t reference has the Bell–McCaffrey (Satterthwaite) degrees of freedom
ν = (tr GᵀG)² / tr((GᵀG)²), where column g of G is (I − H) a_g and a_g holds A_g x̃_g / S on the rows of
cluster g and 0 elsewhere (Imbens & Kolesár 2016). :func:`welch_test` compares independent slope
estimates (one per tier) with Welch's heteroscedastic F test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class ClusterSlope:
    slope: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float


def _within(values: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Centre within each unit."""
    frame = pd.Series(values)
    return (frame - frame.groupby(units).transform("mean")).to_numpy(dtype=float)


def _pinv_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric pseudo-inverse square root of a symmetric positive semi-definite matrix."""
    eigenvalues, vectors = np.linalg.eigh(matrix)
    tolerance = max(eigenvalues.max(initial=0.0), 1.0) * 1e-10
    scale = np.where(eigenvalues > tolerance, 1.0 / np.sqrt(np.clip(eigenvalues, tolerance, None)), 0.0)
    return (vectors * scale) @ vectors.T


def cr2_slope(y: np.ndarray, x: np.ndarray, units: np.ndarray, clusters: np.ndarray, level: float) -> ClusterSlope:
    """The slope of y on x with unit fixed effects, its CR2 SE and a t(ν_BM) interval and p-value."""
    units = np.asarray(units).astype(str)
    clusters = np.asarray(clusters).astype(str)
    xt, yt = _within(np.asarray(x, float), units), _within(np.asarray(y, float), units)
    s_xx = float(xt @ xt)
    slope = float(xt @ yt) / s_xx
    resid = yt - slope * xt
    n = len(y)
    columns, variance = [], 0.0
    for cluster in np.unique(clusters):
        rows = np.flatnonzero(clusters == cluster)
        centring = np.eye(len(rows)) - _unit_means(units[rows])
        adjust = _pinv_sqrt(centring - np.outer(xt[rows], xt[rows]) / s_xx)
        weights = adjust @ xt[rows] / s_xx  # A_g x̃_g / S (A_g symmetric)
        variance += float(weights @ resid[rows]) ** 2
        a = np.zeros(n)
        a[rows] = weights
        columns.append(a - _unit_means_of(a, units) - xt * (xt @ a) / s_xx)  # (I − H) a_g
    g = np.column_stack(columns)
    gram = g.T @ g
    df = float(np.trace(gram) ** 2 / np.trace(gram @ gram))
    se = math.sqrt(variance)
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    p = float(2 * stats.t.sf(abs(slope) / se, df)) if se > 0 else math.nan
    return ClusterSlope(slope, se, df, slope - half, slope + half, p)


def _unit_means(units: np.ndarray) -> np.ndarray:
    """The projection onto unit dummies for these rows: entry (i, j) = 1/n_u if rows i, j share unit u."""
    same = units[:, None] == units[None, :]
    return same / same.sum(axis=1, keepdims=True)


def _unit_means_of(values: np.ndarray, units: np.ndarray) -> np.ndarray:
    return pd.Series(values).groupby(units).transform("mean").to_numpy(dtype=float)


def welch_test(slopes: np.ndarray, variances: np.ndarray, dfs: np.ndarray) -> tuple[float, float, float, float]:
    """Welch's (1951) F test that independent estimates share one mean: (F, df1, df2, p).

    w_t = 1/V_t, b̄ = Σ w_t b_t / Σ w_t, A = Σ w_t (b_t − b̄)² / (T − 1), λ = Σ (1 − w_t/Σw)² / ν_t,
    F = A / (1 + 2(T − 2)λ / (T² − 1)) on T − 1 and (T² − 1) / (3λ) degrees of freedom. For two
    estimates it is the square of the Welch–Satterthwaite t.
    """
    b, v, nu = (np.asarray(a, dtype=float) for a in (slopes, variances, dfs))
    t = len(b)
    w = 1.0 / v
    mean = float(np.sum(w * b) / w.sum())
    between = float(np.sum(w * (b - mean) ** 2)) / (t - 1)
    lam = float(np.sum((1 - w / w.sum()) ** 2 / nu))
    f = between / (1 + 2 * (t - 2) * lam / (t**2 - 1))
    df2 = (t**2 - 1) / (3 * lam)
    return f, float(t - 1), df2, float(stats.f.sf(f, t - 1, df2))
