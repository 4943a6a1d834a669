"""The across-language kernels against statsmodels: random-effects meta-analysis, meta-regression, Holm."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests

from swimscale.analysis._meta import holm, meta_regression, random_effects, t_interval


@pytest.fixture
def studies():
    rng = np.random.default_rng(11)
    k = 9
    variances = rng.uniform(0.5e-4, 3e-4, k)
    effects = 0.02 + rng.normal(0, 0.01, k) + rng.normal(0, np.sqrt(variances))
    return effects, variances


@pytest.mark.parametrize("method", ["dl", "pm"])
def test_random_effects_is_statsmodels_combine_effects_with_a_hksj_t_interval(studies, method):
    effects, variances = studies
    ours = random_effects(effects, variances, method, 0.95)
    theirs = combine_effects(effects, variances, method_re=method)
    assert ours.mean == pytest.approx(theirs.mean_effect_re, rel=1e-12)
    assert ours.tau2 == pytest.approx(max(theirs.tau2, 0.0), rel=1e-12)
    assert ours.q == pytest.approx(theirs.q, rel=1e-12)
    # I² from Q by its definition, and the HKSJ interval: t(k − 1) times the scaled SE
    k = len(effects)
    assert ours.i2 == pytest.approx(max(0.0, (ours.q - (k - 1)) / ours.q))
    half = stats.t.ppf(0.975, k - 1) * theirs.sd_eff_w_re_hksj
    assert (ours.ci_low, ours.ci_high) == pytest.approx((theirs.mean_effect_re - half, theirs.mean_effect_re + half))
    assert ours.q_p == pytest.approx(stats.chi2.sf(theirs.q, k - 1))


def test_dersimonian_laird_tau2_by_its_closed_form(studies):
    effects, variances = studies
    w = 1 / variances
    mean_fe = np.sum(w * effects) / w.sum()
    q = np.sum(w * (effects - mean_fe) ** 2)
    tau2 = max(0.0, (q - (len(effects) - 1)) / (w.sum() - np.sum(w**2) / w.sum()))
    assert random_effects(effects, variances, "dl", 0.95).tau2 == pytest.approx(tau2, rel=1e-12)


def test_meta_regression_is_weighted_least_squares_with_knapp_hartung_errors(studies):
    effects, variances = studies
    moderator = np.linspace(-1, 1, len(effects))
    fit = meta_regression(effects, moderator, variances, 0.95)
    x = sm.add_constant(moderator)
    # WLS with weights 1/(v + τ²_res) estimates its scale from the weighted residuals: Knapp–Hartung
    wls = sm.WLS(effects, x, weights=1 / (variances + fit.tau2)).fit()
    assert fit.coefficient == pytest.approx(wls.params[1], rel=1e-10)
    assert fit.se == pytest.approx(wls.bse[1], rel=1e-10)
    assert fit.p_value == pytest.approx(wls.pvalues[1], rel=1e-8)
    assert (fit.ci_low, fit.ci_high) == pytest.approx(tuple(wls.conf_int(0.05)[1]), rel=1e-10)
    # Without the moderator the moments estimator is DerSimonian–Laird's
    assert fit.tau2_without == pytest.approx(max(combine_effects(effects, variances, method_re="dl").tau2, 0), rel=1e-10)
    assert fit.share_explained == pytest.approx(max(0.0, (fit.tau2_without - fit.tau2) / fit.tau2_without))


def test_meta_regression_tau2_with_a_moderator_by_its_closed_form(studies):
    effects, variances = studies
    moderator = np.arange(len(effects), dtype=float)
    x = sm.add_constant(moderator)
    w = 1 / variances
    fe = sm.WLS(effects, x, weights=w).fit()
    q_e = np.sum(w * fe.resid**2)
    wx = x * w[:, None]
    p_matrix = np.diag(w) - wx @ np.linalg.inv(x.T @ wx) @ wx.T
    expected = max(0.0, (q_e - (len(effects) - 2)) / np.trace(p_matrix))
    assert meta_regression(effects, moderator, variances, 0.95).tau2 == pytest.approx(expected, rel=1e-10)


def test_meta_regression_without_variances_is_ordinary_least_squares():
    rng = np.random.default_rng(3)
    m = rng.normal(size=12)
    y = 0.5 + 0.3 * m + rng.normal(0, 0.2, 12)
    fit = meta_regression(y, m, np.zeros(12), 0.9)
    ols = sm.OLS(y, sm.add_constant(m)).fit()
    assert (fit.coefficient, fit.se, fit.p_value) == pytest.approx((ols.params[1], ols.bse[1], ols.pvalues[1]))
    assert (fit.ci_low, fit.ci_high) == pytest.approx(tuple(ols.conf_int(0.1)[1]))
    assert fit.tau2 == pytest.approx(ols.scale) and fit.tau2_without == pytest.approx(np.var(y, ddof=1))


def test_holm_equals_statsmodels_and_leaves_missing_p_values_out():
    p = np.array([0.01, 0.04, math.nan, 0.03, 0.005, 0.5])
    adjusted, levels = holm(p, 0.05)
    finite = np.isfinite(p)
    assert np.isnan(adjusted[~finite]).all() and np.isnan(levels[~finite]).all()
    assert adjusted[finite] == pytest.approx(multipletests(p[finite], alpha=0.05, method="holm")[1])
    # the smallest of m = 5 is read at 1 − α/5, the largest at 1 − α
    assert levels[4] == pytest.approx(1 - 0.05 / 5) and levels[5] == pytest.approx(0.95)


def test_t_interval_and_its_missing_cases():
    lo, hi, p = t_interval(1.0, 0.5, 4, 0.95)
    assert (lo, hi) == pytest.approx((1 - stats.t.ppf(0.975, 4) * 0.5, 1 + stats.t.ppf(0.975, 4) * 0.5))
    assert p == pytest.approx(2 * stats.t.sf(2.0, 4))
    assert all(math.isnan(v) for v in t_interval(1.0, math.nan, 4, 0.95))
    assert all(math.isnan(v) for v in t_interval(1.0, 0.5, 0, 0.95))
    assert all(math.isnan(v) for v in t_interval(1.0, 0.0, 3, 0.95))
