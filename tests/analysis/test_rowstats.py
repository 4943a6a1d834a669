"""The row-wise statistics (the bootstrap kernels) on the rows a bootstrap meets at the edges.

Constant values whose mean is not exact in floating point (six times 0.1), gaps in x only or in y
only, two points, one point, none: every undefined statistic is NaN, every defined one is scipy's on
the valid points, no correlation leaves [-1, 1] by rounding, and no RuntimeWarning escapes (the
kernels handle 0/0 themselves). The random rows with ties and gaps are tests/analysis/test_bootstrap.py's.
"""

import warnings

import numpy as np
import pytest

from scipy import stats

from swimscale.analysis import _rowstats as rowstats
from swimscale.analysis._statistics import STATISTICS

X6 = np.log10([32.0, 64.0, 128.0, 256.0, 512.0, 1024.0])
BY_NAME = {s.name: s for s in STATISTICS}
CORRELATIONS = [s.name for s in STATISTICS if s.correlation]


@pytest.fixture(autouse=True)
def no_runtime_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def kernel(name, x, y):
    return BY_NAME[name].kernel(np.atleast_2d(np.asarray(x, dtype=float)), np.atleast_2d(np.asarray(y, dtype=float)))


def test_a_constant_metric_has_no_correlation_and_a_zero_slope():
    constant = np.full(6, 0.1)  # its mean is 0.1 + 1.4e-17: centred values are not exactly 0
    assert np.mean(constant) != 0.1
    for name in CORRELATIONS:
        assert np.isnan(kernel(name, X6, constant)[0]), name
    assert kernel("slope", X6, constant)[0] == pytest.approx(0.0, abs=1e-12)


def test_a_constant_size_has_no_statistic_at_all():
    for name in BY_NAME:
        assert np.isnan(kernel(name, np.full(6, 0.1), [0.1, 0.2, 0.3, 0.5, 0.4, 0.6])[0]), name


def test_constancy_is_judged_on_the_valid_points_of_each_row():
    x = np.array([X6, X6])
    y = np.array([[0.1, 0.1, 0.1, np.nan, 0.1, 0.1],  # constant where it is defined
                  [0.1, 0.4, 0.2, 0.3, 0.6, 0.5]])
    for name in CORRELATIONS:
        out = BY_NAME[name].kernel(x, y)
        assert np.isnan(out[0]) and out[1] == pytest.approx(BY_NAME[name].reference(X6, y[1]), abs=1e-12), name


@pytest.mark.parametrize("gap", ["x", "y", "both"])
def test_a_point_missing_on_either_side_is_left_out(gap):
    rng = np.random.default_rng(7)
    x = np.tile(X6, (20, 1))
    y = np.round(rng.random((20, 6)), 1)  # ties as well
    for row in range(20):
        i, j = rng.choice(6, 2, replace=False)
        if gap in ("x", "both"):
            x[row, i] = np.nan
        if gap in ("y", "both"):
            y[row, j] = np.nan
    for statistic in STATISTICS:
        out = statistic.kernel(x, y)
        for row in range(20):
            keep = ~(np.isnan(x[row]) | np.isnan(y[row]))
            expected = statistic.reference(x[row, keep], y[row, keep])
            assert out[row] == pytest.approx(expected, abs=1e-12, nan_ok=True), (statistic.name, row)


def test_two_points_give_a_perfect_correlation_and_their_slope():
    for y, sign in (([0.2, 0.5], 1.0), ([0.5, 0.2], -1.0)):
        for name in CORRELATIONS:
            assert kernel(name, X6[:2], y)[0] == sign, name
        assert kernel("slope", X6[:2], y)[0] == pytest.approx((y[1] - y[0]) / (X6[1] - X6[0]))


@pytest.mark.parametrize("points", [0, 1])
def test_fewer_than_two_points_give_nan(points):
    x, y = np.tile(X6[:points], (3, 1)), np.tile(np.linspace(0.1, 0.6, 6)[:points], (3, 1))
    for statistic in STATISTICS:
        assert np.isnan(statistic.kernel(x, y)).all(), statistic.name
    all_missing = np.full((2, 6), np.nan)
    for statistic in STATISTICS:
        assert np.isnan(statistic.kernel(all_missing, all_missing)).all(), statistic.name


def test_correlations_of_exact_lines_stay_within_one():
    """20 000 random exact lines: rounding puts thousands of raw Pearson r a few ulp past ±1."""
    rng = np.random.default_rng(0)
    x = rng.random((20000, 5))
    for slope, sign in ((3.0, 1.0), (-3.0, -1.0)):
        for name in CORRELATIONS:
            r = BY_NAME[name].kernel(x, slope * x + 1.0)
            assert np.abs(r).max() <= 1.0 and np.allclose(r, sign, atol=1e-12), name


def test_rows_constant_on_their_valid_points_are_undefined_despite_rounding_noise():
    """Centring [0.1, 0.1, 0.1] leaves rounding noise (their mean is 0.10000000000000002), so only the
    constancy test tells a constant row from a varying one; a gap elsewhere in the row, or other rows
    of the array, must not hide it."""
    x = np.array([[1.0, 2.0, 3.0, np.nan], [1.0, 2.0, 3.0, 4.0], [0.1, 0.1, 0.1, np.nan]])
    y = np.array([[0.1, 0.1, 0.1, 5.0], [0.3, 0.1, 0.4, 0.2], [1.0, 2.0, 4.0, 3.0]])
    r = rowstats.pearson(x, y)
    assert np.isnan(r[0]) and np.isnan(r[2]) and r[1] == pytest.approx(stats.pearsonr(x[1], y[1])[0])
    b = rowstats.slope(x, y)
    assert b[0] == pytest.approx(0.0, abs=1e-12) and np.isnan(b[2])
    assert b[1] == pytest.approx(stats.linregress(x[1], y[1]).slope)


def test_extreme_rows_give_scipys_values_without_warnings():
    """Deviations of 1e-100 square to 1e-200 and their product underflows to 0: Pearson r is still
    scipy's 1.0, and nothing warns (thousands of bootstrap rows would each print one)."""
    x = np.array([[1e-100, 2e-100, 3e-100], [2.0, 2.0, 2.0], [np.nan, np.nan, np.nan]])
    y = np.array([[1e-100, 2e-100, 3e-100], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r, b = rowstats.pearson(x, y), rowstats.slope(x, y)
        rho, tau = rowstats.spearman(x, y), rowstats.kendall(x, y)
    assert r[0] == pytest.approx(stats.pearsonr(x[0], y[0])[0]) == pytest.approx(1.0)
    assert np.isnan(r[1:]).all() and np.isnan(b[1:]).all() and np.isnan(rho[1:]).all() and np.isnan(tau[1:]).all()
    assert (rho[0], tau[0]) == (pytest.approx(1.0), pytest.approx(1.0)) and b[0] == pytest.approx(1.0)


def test_a_constant_row_is_judged_on_its_own_values_not_the_batchs():
    from swimscale.analysis._rowstats import _constant

    a = np.array([[1.0, 1.0, np.nan, 1.0], [0.0, 2.0, 3.0, np.nan],
                  [np.nan, np.nan, np.nan, np.nan], [5.0, 4.0, 4.0, 4.0]])
    assert _constant(a).tolist() == [True, False, True, False]


def test_the_slope_of_a_row_whose_squares_underflow_warns_of_nothing():
    """x spread by 1e-200: Σ dx² underflows to 0 while Σ dx·dy does not; the division by zero is silent."""
    from swimscale.analysis._rowstats import slope

    x, y = np.array([[0.0, 1e-200, 2e-200]]), np.array([[0.0, 1e100, 2e100]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = slope(x, y)
    assert got.shape == (1,) and not np.isnan(got[0])  # x is not constant: a slope, not NaN
