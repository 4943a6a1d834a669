"""Random-effects meta-analysis, meta-regression and Holm's correction: the across-language kernels.

* :func:`random_effects`: one effect per language (a slope, a paired difference) with its sampling
  variance, combined by :func:`statsmodels.stats.meta_analysis.combine_effects` with τ² by
  DerSimonian–Laird (``dl``) or Paule–Mandel (``pm``); Cochran's Q, I² = max(0, (Q − df)/Q), and the
  combined mean with a t(k − 1) interval (Hartung–Knapp–Sidik–Jonkman: the scale of the weighted
  residuals estimated, as statsmodels' ``sd_eff_w_re_hksj``). Where DL's τ² is negative (Q < k − 1)
  statsmodels weighs by 1/(v + τ²) with that negative τ²; the estimator is truncated at 0, so the mean
  and its scale are then the fixed-effect ones (``mean_effect_fe``, ``sd_eff_w_fe_hksj``).
* :func:`meta_regression`: y_i = b0 + b1 m_i + u_i + e_i, u ~ N(0, τ²_res), e ~ N(0, v_i), with
  τ²_res by the method of moments of DerSimonian & Laird generalised to a design X (Raudenbush 2009:
  τ² = max(0, (Q_E − (k − p)) / tr P), P = W − W X (XᵀWX)⁻¹ XᵀW), coefficients by weighted least
  squares with w_i = 1/(v_i + τ²_res), and the Knapp–Hartung t(k − p) test (the weighted residual
  variance as the scale). The share of τ² a moderator explains is max(0, (τ²_0 − τ²_res)/τ²_0), τ²_0
  that of the model without it (same estimator). Without sampling variances (all v_i = 0) the model is
  ordinary least squares and τ² its residual variance.
* :func:`holm`: Holm's step-down adjusted p-values, and the level at which each row's interval is
  read so that an interval excluding 0 agrees with p_holm < α.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects


@dataclass(frozen=True)
class Pooled:
    """A random-effects mean of k effects."""

    mean: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    tau2: float
    i2: float
    q: float
    q_p: float
    k: int


def t_interval(mean: float, se: float, df: float, level: float) -> tuple[float, float, float]:
    """mean ± t(df) · se and the two-sided p-value of mean = 0 (NaN without an SE or df ≤ 0)."""
    if not (math.isfinite(se) and se > 0 and df > 0):
        return math.nan, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return mean - half, mean + half, float(2 * stats.t.sf(abs(mean / se), df))


def random_effects(effects: np.ndarray, variances: np.ndarray, method: str, level: float) -> Pooled:
    """The random-effects mean of ``effects`` (variances > 0), τ² by ``method`` ("dl" or "pm")."""
    effects = np.asarray(effects, dtype=float)
    variances = np.asarray(variances, dtype=float)
    k = len(effects)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = combine_effects(effects, variances, method_re=method, alpha=1 - level)
    tau2 = max(0.0, float(res.tau2))
    q = float(res.q)
    i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
    mean, se = float(res.mean_effect_re), float(res.sd_eff_w_re_hksj)
    if res.tau2 < 0:  # statsmodels' DL keeps τ² < 0 (Q < k − 1) in its weights; at τ² = 0: the fixed-effect fit
        mean, se = float(res.mean_effect_fe), float(res.sd_eff_w_fe_hksj)
    lo, hi, p = t_interval(mean, se, k - 1, level)
    return Pooled(mean, se, lo, hi, p, tau2, i2, q, float(stats.chi2.sf(q, k - 1)), k)


def _moments_tau2(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> float:
    """The method-of-moments τ² of the residuals of y on design x with weights w (Raudenbush 2009)."""
    k, p = x.shape
    xtwx_inv = np.linalg.inv(x.T @ (w[:, None] * x))
    beta = xtwx_inv @ (x.T @ (w * y))
    q_e = float(np.sum(w * (y - x @ beta) ** 2))
    trace_p = float(np.sum(w) - np.trace(xtwx_inv @ (x.T @ ((w**2)[:, None] * x))))
    return max(0.0, (q_e - (k - p)) / trace_p) if trace_p > 0 else 0.0


@dataclass(frozen=True)
class Regression:
    """A meta-regression's moderator coefficient and what it explains."""

    coefficient: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: int
    tau2: float  # residual τ² with the moderator
    tau2_without: float  # τ² of the intercept-only model
    share_explained: float  # NaN when τ²_0 = 0


def meta_regression(y: np.ndarray, moderator: np.ndarray, variances: np.ndarray, level: float) -> Regression:
    """Mixed-effects meta-regression of ``y`` on one moderator (module docstring)."""
    y = np.asarray(y, dtype=float)
    v = np.asarray(variances, dtype=float)
    x = np.column_stack([np.ones_like(y), np.asarray(moderator, dtype=float)])
    k, p = x.shape
    plain = not np.all(v > 0)  # no sampling variances: ordinary least squares, τ² = residual variance
    w = np.ones(k) if plain else 1.0 / v
    if plain:
        tau2_without = float(np.var(y, ddof=1))
        fit = np.linalg.lstsq(x, y, rcond=None)[0]
        tau2 = float(np.sum((y - x @ fit) ** 2) / (k - p))
        w_star = w
    else:
        tau2_without = _moments_tau2(y, x[:, :1], w)
        tau2 = _moments_tau2(y, x, w)
        w_star = 1.0 / (v + tau2)
    cov = np.linalg.inv(x.T @ (w_star[:, None] * x))
    beta = cov @ (x.T @ (w_star * y))
    scale = float(np.sum(w_star * (y - x @ beta) ** 2) / (k - p))  # Knapp–Hartung
    se = math.sqrt(max(scale, 0.0) * cov[1, 1])
    lo, hi, p_value = t_interval(float(beta[1]), se, k - p, level)
    share = max(0.0, (tau2_without - tau2) / tau2_without) if tau2_without > 0 else math.nan
    return Regression(float(beta[1]), se, lo, hi, p_value, k - p, tau2, tau2_without, share)


def holm(p_values: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Holm's adjusted p-values (NaN stays NaN, out of the family) and each row's interval level.

    The i-th smallest of m p-values is tested at α/(m − i + 1); its adjusted p-value is the running
    maximum of (m − i + 1) p_(i), capped at 1. The interval level of that row is 1 − α/(m − i + 1).
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    levels = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = len(finite)
    order = finite[np.argsort(p[finite], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        factor = m - rank
        running = max(running, min(1.0, factor * p[index]))
        adjusted[index] = running
        levels[index] = 1 - alpha / factor
    return adjusted, levels
