"""The repeated-measures correlation at its edges: perfect within-unit lines, small scales, exactly
MIN_DF degrees of freedom, no within-unit variation, and the seed means' order."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from swimscale.analysis._rmcorr import MIN_DF, rmcorr, seed_means


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_perfect_line_in_every_unit_has_r_of_one_and_a_finite_interval(sign):
    x = np.tile([1.0, 2.0, 3.0, 4.0], 2)
    fit = rmcorr(x, sign * x + np.repeat([0.0, 5.0], 4), np.repeat(["a", "b"], 4), 0.95)
    assert fit.r == sign and fit.p_value == 0.0 and (fit.df, fit.n_points, fit.n_units) == (5, 8, 2)
    z = math.atanh(sign * (1 - 1e-15))
    half = stats.norm.ppf(0.975) / 2
    assert (fit.ci_low, fit.ci_high) == pytest.approx((math.tanh(z - half), math.tanh(z + half)))


def test_small_scales_and_exactly_min_df():
    rng = np.random.default_rng(4)
    units = np.repeat(["a", "b", "c"], 2 + np.arange(3))[: 3 + 1 + MIN_DF]  # n − k − 1 = MIN_DF
    data = pd.DataFrame({"u": units, "x": rng.uniform(0, 0.01, len(units))})
    data["y"] = 0.3 * data["x"] + rng.normal(0, 0.001, len(units))
    fit = rmcorr(data["x"].to_numpy(), data["y"].to_numpy(), data["u"].to_numpy(), 0.95)
    ols = smf.ols("y ~ C(u) + x", data=data).fit()
    t = ols.tvalues["x"]
    assert fit.df == MIN_DF == ols.df_resid
    assert fit.r == pytest.approx(t / math.sqrt(t * t + MIN_DF), rel=1e-10)
    assert fit.p_value == pytest.approx(ols.pvalues["x"], rel=1e-8)


def test_no_within_unit_variation_gives_nan_with_the_counts():
    x = np.repeat([1.0, 2.0, 3.0], 3)  # constant within each unit
    fit = rmcorr(x, np.arange(9.0), np.repeat(["a", "b", "c"], 3), 0.95)
    assert math.isnan(fit.r) and math.isnan(fit.ci_high) and math.isnan(fit.p_value)
    assert (fit.df, fit.n_points, fit.n_units) == (5, 9, 3)
    flat = rmcorr(np.arange(9.0), x, np.repeat(["a", "b", "c"], 3), 0.95)
    assert math.isnan(flat.r) and math.isnan(flat.ci_low)


def test_seed_means_are_sorted_by_unit_then_size():
    data = pd.DataFrame({"language": ["b", "a", "b", "a", "a"], "benchmark": "x", "size": [64, 64, 16, 16, 16],
                         "seed": [0, 0, 0, 0, 1], "m": [0.4, 0.3, 0.2, 0.1, 0.3]})
    means = seed_means(data, "m")
    assert list(means["unit"]) == ["a/x", "a/x", "b/x", "b/x"] and list(means["size"]) == [16, 64, 16, 64]
    assert means["m"].to_numpy() == pytest.approx([0.2, 0.3, 0.2, 0.4])


def test_exact_lines_never_give_a_correlation_beyond_one():
    # Σxy / √(Σx² Σy²) of an exact line rounds past ±1 now and then (about one draw in seven here)
    rng = np.random.default_rng(0)
    units = np.repeat(["a", "b"], 3)
    for _ in range(200):
        x, c = rng.normal(size=6), rng.normal()
        fit = rmcorr(x, c * x, units, 0.95)
        assert -1.0 <= fit.r <= 1.0 and fit.r == pytest.approx(math.copysign(1.0, c), abs=1e-12)


def test_object_arrays_give_the_same_numbers():
    rng = np.random.default_rng(6)
    x, y, units = rng.normal(size=9), rng.normal(size=9), np.repeat(["a", "b", "c"], 3)
    assert rmcorr(x.astype(object), y.astype(object), units, 0.95) == rmcorr(x, y, units, 0.95)
