"""The across-language kernels at their edges: no heterogeneity (Q = 0, τ² = 0), Holm's cap at 1, ties
and missing p-values, one degree of freedom."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests

from swimscale.analysis._meta import holm, meta_regression, random_effects, t_interval


def test_identical_effects_have_no_heterogeneity():
    for method in ("dl", "pm"):
        pooled = random_effects(np.full(4, 0.25), np.full(4, 0.01), method, 0.95)
        assert (pooled.q, pooled.i2, pooled.tau2, pooled.mean, pooled.k) == (0.0, 0.0, 0.0, 0.25, 4)


def test_every_field_of_the_pooled_mean():
    effects, variances = np.array([0.1, 0.3, 0.2, 0.5, 0.05]), np.array([0.01, 0.02, 0.015, 0.01, 0.03])
    pooled = random_effects(effects, variances, "pm", 0.9)
    theirs = combine_effects(effects, variances, method_re="pm")
    se = theirs.sd_eff_w_re_hksj
    assert pooled.se == pytest.approx(se, rel=1e-12) and pooled.k == 5
    assert pooled.p_value == pytest.approx(2 * stats.t.sf(abs(theirs.mean_effect_re / se), 4), rel=1e-10)
    half = stats.t.ppf(0.95, 4) * se
    assert (pooled.ci_low, pooled.ci_high) == pytest.approx((theirs.mean_effect_re - half, theirs.mean_effect_re + half))


def test_a_moderator_that_explains_nothing_when_there_is_nothing_to_explain():
    m = np.array([0.0, 1, 2, 3, 4])
    fit = meta_regression(0.1 + 0.02 * m, m, np.full(5, 0.01), 0.95)  # on the line: τ² = 0 with and without
    assert fit.tau2 == 0.0 and math.isnan(fit.share_explained) and fit.df == 3
    assert fit.coefficient == pytest.approx(0.02)


def test_share_explained_is_the_drop_in_tau2_over_tau2_without():
    rng = np.random.default_rng(8)
    m = rng.normal(size=10)
    y = 0.3 * m + rng.normal(0, 0.1, 10)
    fit = meta_regression(y, m, np.full(10, 0.001), 0.95)
    assert fit.tau2_without > fit.tau2 > 0 and fit.df == 8
    assert fit.share_explained == pytest.approx((fit.tau2_without - fit.tau2) / fit.tau2_without, rel=1e-12)


def test_holm_caps_at_one_and_reads_none_as_missing():
    adjusted, levels = holm([0.6, None, 0.7], 0.05)
    assert adjusted[0] == 1.0 and adjusted[2] == 1.0 and math.isnan(adjusted[1]) and math.isnan(levels[1])
    assert list(adjusted[[0, 2]]) == list(multipletests([0.6, 0.7], method="holm")[1])


def test_holm_gives_tied_p_values_their_levels_in_the_rows_order():
    p = np.tile([0.01, 0.02, 0.03, 0.04], 25)  # 100 rows, each value 25 times
    adjusted, levels = holm(p, 0.05)
    assert adjusted == pytest.approx(multipletests(p, method="holm")[1])
    first = np.flatnonzero(p == 0.01)
    assert list(levels[first]) == [1 - 0.05 / (100 - i) for i in range(25)]  # stricter to earlier rows
    second = np.flatnonzero(p == 0.02)
    assert list(levels[second]) == [1 - 0.05 / (75 - i) for i in range(25)]


def test_t_interval_with_one_degree_of_freedom():
    lo, hi, p = t_interval(2.0, 1.0, 1, 0.95)
    assert (lo, hi, p) == pytest.approx((2 - stats.t.ppf(0.975, 1), 2 + stats.t.ppf(0.975, 1), 2 * stats.t.sf(2.0, 1)))


def test_dersimonian_laird_below_its_expected_q_is_the_fixed_effect_fit():
    # Q < k − 1: DL's moment τ² is negative; truncated at 0 the weights are 1/v (statsmodels kept the
    # negative τ² in its weights: a mean outside the effects' range and no HKSJ scale)
    effects, variances = np.array([0.2, 0.21, 0.205, 0.2]), np.array([0.01, 0.02, 0.03, 0.015])
    w = 1 / variances
    mean = np.sum(w * effects) / w.sum()
    se = math.sqrt(np.sum(w * (effects - mean) ** 2) / (3 * w.sum()))
    for method in ("dl", "pm"):
        pooled = random_effects(effects, variances, method, 0.95)
        assert pooled.tau2 == 0.0 and pooled.i2 == 0.0
        assert (pooled.mean, pooled.se) == pytest.approx((mean, se), rel=1e-12)
        half = stats.t.ppf(0.975, 3) * se
        assert (pooled.ci_low, pooled.ci_high) == pytest.approx((mean - half, mean + half), rel=1e-12)


def _moments_tau2_by_hand(y, m, v):
    x = np.column_stack([np.ones(len(y)), m])
    w = 1 / v
    wx = x * w[:, None]
    beta = np.linalg.solve(x.T @ wx, wx.T @ y)
    p_matrix = np.diag(w) - wx @ np.linalg.inv(x.T @ wx) @ wx.T
    return max(0.0, (np.sum(w * (y - x @ beta) ** 2) - (len(y) - 2)) / np.trace(p_matrix))


def test_large_sampling_variances_keep_their_moment_tau2():
    # w = 1/10: tr P is below 1, and τ² is still (Q_E − (k − p)) / tr P
    y, m, v = np.array([0.0, 20, -15, 25, -10, 30]), np.arange(6.0), np.full(6, 10.0)
    fit = meta_regression(y, m, v, 0.95)
    assert fit.tau2 == pytest.approx(_moments_tau2_by_hand(y, m, v), rel=1e-12) and fit.tau2 > 0


def test_two_points_on_a_moderator_leave_no_residual_variance():
    fit = meta_regression(np.array([0.1, 0.5]), np.array([0.0, 1.0]), np.array([0.01, 0.01]), 0.95)
    assert fit.tau2 == 0.0 and fit.df == 0 and fit.coefficient == pytest.approx(0.4) and math.isnan(fit.ci_low)


def test_object_arrays_give_the_same_numbers():
    rng = np.random.default_rng(5)
    y, m, v = rng.normal(size=8), rng.normal(size=8), rng.uniform(0.1, 0.3, 8)
    as_object = [np.array(list(a), dtype=object) for a in (y, m, v)]
    assert meta_regression(*as_object, 0.95) == meta_regression(y, m, v, 0.95)
    assert meta_regression(as_object[0], as_object[1], np.zeros(8, dtype=object), 0.95) == meta_regression(y, m, np.zeros(8), 0.95)
    assert random_effects(as_object[0], as_object[2], "pm", 0.95) == random_effects(y, v, "pm", 0.95)
