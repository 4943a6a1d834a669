"""The repeated-measures correlation against its textbook identity: OLS with language fixed effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from swimscale.analysis._rmcorr import rmcorr, seed_means


def _data(seed: int, n_units: int = 6, n_points: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_units):
        offset = rng.normal(0, 2)
        for x in np.linspace(1, 4, n_points):
            rows.append({"u": f"u{u}", "x": x + rng.normal(0, 0.1), "y": offset + 0.4 * x + rng.normal(0, 0.5)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rmcorr_is_the_partial_correlation_of_ols_with_unit_fixed_effects(seed):
    data = _data(seed)
    fit = rmcorr(data["x"].to_numpy(), data["y"].to_numpy(), data["u"].to_numpy(), 0.95)
    ols = smf.ols("y ~ C(u) + x", data=data).fit()
    t, df = ols.tvalues["x"], ols.df_resid
    assert fit.df == df == len(data) - data["u"].nunique() - 1
    assert fit.r == pytest.approx(t / math.sqrt(t * t + df), rel=1e-10)
    assert fit.p_value == pytest.approx(ols.pvalues["x"], rel=1e-8)
    # Bakdash & Marusich's R package: Fisher z with n = df + 2, i.e. SE 1/√(df − 1)
    z, half = math.atanh(fit.r), stats.norm.ppf(0.975) / math.sqrt(df - 1)
    assert (fit.ci_low, fit.ci_high) == pytest.approx((math.tanh(z - half), math.tanh(z + half)))


def test_rmcorr_ignores_between_unit_differences():
    # Within each unit y falls with x, while the unit means rise together: r_rm < 0, Pearson > 0.
    x = np.array([1, 2, 3, 11, 12, 13, 21, 22, 23], dtype=float)
    y = np.array([3, 2, 1.2, 13, 12.1, 11, 23, 22, 21.1])
    units = np.repeat(["a", "b", "c"], 3)
    assert stats.pearsonr(x, y)[0] > 0.9
    fit = rmcorr(x, y, units, 0.95)
    assert fit.r < -0.99 and fit.ci_high < 0


def test_too_few_points_or_no_variation_give_nan():
    x, y = np.array([1.0, 2.0, 1.0, 2.0]), np.array([0.1, 0.2, 0.3, 0.5])
    short = rmcorr(x, y, np.array(["a", "a", "b", "b"]), 0.95)  # df = 4 − 2 − 1 = 1
    assert short.df == 1 and math.isnan(short.r) and math.isnan(short.ci_low)
    flat = rmcorr(np.tile([1.0, 2, 3, 4], 2), np.ones(8), np.repeat(["a", "b"], 4), 0.95)
    assert math.isnan(flat.r)


def test_seed_means_average_the_seeds_of_each_size():
    data = pd.DataFrame({"language": ["ny"] * 4, "benchmark": ["b"] * 4, "size": [10, 10, 20, 20],
                         "seed": [0, 1, 0, 1], "m": [0.1, 0.3, 0.4, 0.6]})
    means = seed_means(data, "m")
    assert list(means["unit"]) == ["ny/b", "ny/b"] and list(means["m"]) == pytest.approx([0.2, 0.5])
