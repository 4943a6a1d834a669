"""The learning-curve model's parts: the fit against an independent global search, its inputs (weights,
missing values, too few points, given starts and bounds), the AICc and the model choice at their
edges, the bounds and the closed forms at their boundaries. tests/analysis/test_curves.py holds the
recovery of known curves and the curve table.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from swimscale.analysis._curve_model import (
    FLAT,
    LOG_LINEAR,
    SATURATING,
    UNDECIDED,
    aicc,
    compare_models,
    curve,
    fit,
    fit_bounds,
    n_for_target,
)

SIZES = np.repeat([16.0, 64.0, 256.0, 1024.0, 4096.0], 3)  # five sizes, three seeds
R0 = 0.05


def noisy(seed, r_inf=0.35, n0=100.0, alpha=0.8, sd=0.01):
    rng = np.random.default_rng(seed)
    return curve(SIZES, R0, r_inf, n0, alpha) + rng.normal(0, sd, SIZES.size)


def grid_optimum(sizes, y):
    """The least-squares optimum by exhaustive search over (log10 N0, log10 α) within the documented
    bounds; R∞ is linear given g = (1 + N/N0)^(−α), so its best value is closed-form (clipped to [0, 1])."""
    lower, upper = fit_bounds(sizes)
    log_n0 = np.linspace(lower[1], upper[1], 400)[:, None, None]
    log_alpha = np.linspace(lower[2], upper[2], 400)[None, :, None]
    g = (1 + sizes / 10**log_n0) ** (-(10**log_alpha))
    a, target = 1 - g, y - R0 * g
    r_inf = np.clip(np.sum(a * target, axis=2) / np.sum(a * a, axis=2), 0.0, 1.0)
    sse = np.sum((r_inf[..., None] * a - target) ** 2, axis=2)
    i, j = np.unravel_index(np.argmin(sse), sse.shape)
    return float(sse[i, j]), (float(r_inf[i, j]), float(log_n0[i, 0, 0]), float(log_alpha[0, j, 0]))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_fit_reaches_the_least_squares_optimum(seed):
    y = noisy(seed)
    got = fit(SIZES, y, R0)
    grid_sse, (r_inf, log_n0, log_alpha) = grid_optimum(SIZES, y)
    assert got.sse <= grid_sse * (1 + 1e-9)  # never worse than the search, and a true optimum:
    assert got.sse == pytest.approx(float(np.sum((curve(SIZES, R0, got.r_inf, got.n0, got.alpha) - y) ** 2)))
    assert got.r_inf == pytest.approx(r_inf, abs=0.01)
    assert math.log10(got.n0) == pytest.approx(log_n0, abs=0.05)
    assert math.log10(got.alpha) == pytest.approx(log_alpha, abs=0.05)


def test_weights_count_points_and_zero_weight_or_missing_points_are_left_out():
    y = noisy(3)
    weights = np.tile([2, 1, 0], 5)
    weighted = fit(SIZES, y, R0, weights=weights)
    repeated = fit(np.repeat(SIZES, weights), np.repeat(y, weights), R0)
    assert (weighted.r_inf, weighted.n0, weighted.alpha) == pytest.approx((repeated.r_inf, repeated.n0, repeated.alpha),
                                                                          rel=1e-5)
    assert weighted.sse == pytest.approx(repeated.sse, rel=1e-6)
    missing = y.copy()
    missing[2::3] = np.nan
    gaps = fit(SIZES, missing, R0)
    without = fit(SIZES[np.isfinite(missing)], missing[np.isfinite(missing)], R0)
    assert (gaps.r_inf, gaps.n0, gaps.alpha, gaps.sse) == pytest.approx((without.r_inf, without.n0, without.alpha,
                                                                         without.sse), rel=1e-9)


def test_too_few_points_or_sizes_give_no_fit_and_three_points_of_two_sizes_do():
    assert fit([16.0, 64.0], [0.1, 0.2], R0) is None
    assert fit([64.0, 64.0, 64.0], [0.1, 0.2, 0.15], R0) is None
    assert fit([16.0, 16.0, 64.0, 64.0], [0.0, 0.0, 0.0, 0.0], R0, weights=[1, 0, 1, 0]) is None  # two left
    two_sizes = fit([16.0, 64.0, 64.0], [0.1, 0.2, 0.22], R0)
    assert two_sizes is not None and math.isfinite(two_sizes.sse)


def test_given_starts_and_bounds_are_used_and_a_failing_start_is_skipped():
    y = noisy(4)
    default = fit(SIZES, y, R0)
    good = [0.3, 2.0, 0.0]
    assert fit(SIZES, y, R0, starts=[[np.nan, np.nan, np.nan]]) is None  # the only start fails
    after_failure = fit(SIZES, y, R0, starts=[[np.nan, np.nan, np.nan], good])
    assert after_failure is not None and after_failure.sse == pytest.approx(default.sse, rel=1e-6)
    narrow = ([0.0, 1.0, -0.5], [0.2, 3.0, 0.5])  # the optimum's R∞ (0.35) is outside: the fit stays inside
    bounded = fit(SIZES, y, R0, bounds=narrow)
    assert bounded.r_inf <= 0.2 + 1e-12 and bounded.sse > default.sse


def test_fit_bounds_are_the_documented_ones():
    lower, upper = fit_bounds(np.array([32.0, 128.0, 2048.0]))
    assert lower == pytest.approx([0.0, math.log10(32) - 3, -2.0])
    assert upper == pytest.approx([1.0, math.log10(2048) + 3, 1.5])


def test_aicc_formula_and_where_it_is_undefined():
    # n ln(SSE/n) + 2K + 2K(K + 1)/(n − K − 1), K = parameters + 1
    assert aicc(0.6, 10, 1) == pytest.approx(10 * math.log(0.06) + 4 + 12 / 7)
    assert aicc(0.6, 4, 1) == pytest.approx(4 * math.log(0.15) + 4 + 12 / 1)  # n − K − 1 = 1: defined
    assert math.isnan(aicc(0.6, 3, 1))  # n − K − 1 = 0
    assert math.isnan(aicc(0.6, 2, 1)) and math.isnan(aicc(0.6, 1, 1))
    assert math.isnan(aicc(math.inf, 10, 1)) and math.isnan(aicc(math.nan, 10, 1))
    assert aicc(0.0, 10, 1) == pytest.approx(10 * math.log(1e-300) + 4 + 12 / 7)  # a perfect fit is floored


def test_compare_models_prefers_only_by_a_margin_and_takes_a_lone_model():
    n = 15
    clear = {FLAT: 1.0, LOG_LINEAR: 0.5, SATURATING: 0.1}
    scores, preferred, margin = compare_models(clear, n)
    assert preferred == SATURATING and margin == pytest.approx(scores[LOG_LINEAR] - scores[SATURATING])
    close = {FLAT: 0.2, LOG_LINEAR: 0.17, SATURATING: 0.17}  # the best two AICc within 2 of each other
    scores, preferred, margin = compare_models(close, n)
    assert preferred == UNDECIDED and 0 < margin < 2
    lone = {FLAT: 1.0, LOG_LINEAR: math.nan, SATURATING: math.nan}
    _, preferred, margin = compare_models(lone, n)
    assert preferred == FLAT and math.isnan(margin)
    _, preferred, _ = compare_models({FLAT: math.nan, LOG_LINEAR: math.nan, SATURATING: math.nan}, n)
    assert preferred == UNDECIDED


def test_n_for_target_at_its_boundaries():
    assert n_for_target(0.2, 0.35, 100.0, 0.8, 0.2) == 0.0  # R0 already at the target
    assert n_for_target(0.05, 0.2, 100.0, 0.8, 0.2) == math.inf  # the plateau only reaches it
    inside = n_for_target(0.05, 0.35, 100.0, 0.8, 0.2)
    assert isinstance(inside, float) and curve(inside, 0.05, 0.35, 100.0, 0.8) == pytest.approx(0.2)
    many = n_for_target(np.array([0.05, 0.2]), 0.35, 100.0, 0.8, 0.2)
    assert many.shape == (2,) and many[1] == 0.0


def test_a_margin_of_exactly_two_is_support():
    """Burnham & Anderson: an AICc difference of 2 or more supports the better model; under 2 it does not.
    The line's SSE below makes the difference exactly 2.0 in floating point."""
    sse = {FLAT: 1.0, LOG_LINEAR: 0.7078985082774902, SATURATING: math.nan}
    by_formula = (15 * math.log(1.0 / 15) + 4 + 12 / 12) - (15 * math.log(sse[LOG_LINEAR] / 15) + 6 + 24 / 11)
    _, preferred, margin = compare_models(sse, 15)
    assert margin == 2.0 and by_formula == pytest.approx(2.0, abs=1e-12) and preferred == LOG_LINEAR
    _, preferred, margin = compare_models({**sse, LOG_LINEAR: 0.7079}, 15)
    assert margin < 2.0 and preferred == UNDECIDED


def test_starts_on_or_beyond_the_bounds_are_moved_inside():
    """A start on a bound or outside the bounds is moved just inside them (curve_fit refuses infeasible
    starts), so it still finds the fit."""
    y = noisy(4)
    default = fit(SIZES, y, R0)
    lower, upper = fit_bounds(SIZES)
    for start in (lower, upper, [-1.0, lower[1] - 2, lower[2] - 2], [2.0, upper[1] + 2, upper[2] + 2]):
        got = fit(SIZES, y, R0, starts=[start])
        assert got is not None and got.sse == pytest.approx(default.sse, rel=1e-6), start


def test_the_curve_is_evaluated_in_float64_whatever_the_sizes_dtype():
    sizes = np.array([10, 300, 5000], dtype=np.float32)
    got = curve(sizes, 0.1, 0.6, 123.0, 0.7)
    assert got.dtype == np.float64
    assert np.array_equal(got, curve(sizes.astype(np.float64), 0.1, 0.6, 123.0, 0.7))


def test_default_starts_span_the_plateau_n0_and_alpha():
    """R∞ from the best value and halfway beyond it (capped at 1), log10 N0 from a decade below the
    smallest size to a decade above the largest, log10 α = ∓0.3."""
    from swimscale.analysis._curve_model import default_starts

    got = default_starts(np.array([10.0, 100.0, 1000.0]), np.array([0.3, 0.4, 0.5]), 0.1)
    assert np.allclose(got, [[r, n0, a] for r in (0.5, 0.7) for n0 in (0.0, 2.0, 4.0) for a in (-0.3, 0.3)],
                       rtol=0, atol=1e-12)
    capped = default_starts(np.array([10.0, 1000.0]), np.array([0.9, 0.9]), 0.2)
    assert [start[0] for start in capped] == [0.9] * 6 + [1.0] * 6


def test_fit_keeps_the_first_finite_fit_of_least_sse_from_its_starts_inside_the_bounds(monkeypatch):
    """The optimiser stubbed: each start's result given. A non-finite fit and a failed one are skipped,
    a worse one does not replace the best, nor does a later one of equal SSE (R∞ = R0: flat at R0,
    whatever N0 and α). Each start reaches the optimiser clipped to just inside the bounds, with the
    analytic Jacobian, at most 2000 evaluations, and only its Optimize/Runtime warnings silenced."""
    from scipy.optimize import OptimizeWarning

    from swimscale.analysis import _curve_model

    sizes, r0 = np.array([10.0, 100.0, 1000.0, 10000.0]), 0.2
    y = np.full(4, r0)
    results = iter([[math.nan, 1.0, 0.0], [0.2, 1.0, 0.0], RuntimeError, [0.5, 2.0, 0.0], [0.2, 3.0, 0.1]])
    calls = []

    def optimiser(model, x, ydata, **kw):
        calls.append(kw)
        warnings.warn("stubbed", OptimizeWarning)
        warnings.warn("stubbed", RuntimeWarning)
        warnings.warn("stubbed", UserWarning)
        result = next(results)
        if result is RuntimeError:
            raise RuntimeError("no convergence")
        return np.array(result), None

    monkeypatch.setattr(_curve_model, "curve_fit", optimiser)
    bounds = ([0.0, -1.0, -1.0], [1.0, 5.0, 1.0])
    starts = [[0.3, 1.0, 0.0], [0.4, 2.0, 0.2], [0.1, 3.0, -0.2], [2.0, -3.0, 0.5], [0.5, 4.0, 0.0]]
    with pytest.warns(UserWarning, match="stubbed") as caught:
        got = fit(sizes, y, r0, starts=starts, bounds=bounds)
    assert {w.category for w in caught} == {UserWarning}
    assert (got.r_inf, got.n0, got.alpha, got.sse) == (0.2, 10.0, 1.0, 0.0)
    assert [list(kw["p0"]) for kw in calls[:3] + calls[4:]] == [starts[i] for i in (0, 1, 2, 4)]
    assert np.allclose(calls[3]["p0"], [1.0, -1.0, 0.5], rtol=0, atol=1e-8)
    assert (calls[3]["p0"][0] < 1.0) and (calls[3]["p0"][1] > -1.0)  # strictly inside
    assert all(kw["max_nfev"] == 2000 and kw["bounds"] == bounds for kw in calls)
    # The Jacobian given is the model's: central differences of R(N) in (R∞, log10 N0, log10 α).
    jacobian, p = calls[0]["jac"], np.array([0.6, 2.0, -0.2])

    def model(q):
        return curve(sizes, r0, q[0], 10.0 ** q[1], 10.0 ** q[2])

    steps = np.eye(3) * 1e-6
    numeric = np.column_stack([(model(p + h) - model(p - h)) / 2e-6 for h in steps])
    assert np.allclose(jacobian(sizes, *p), numeric, rtol=1e-6, atol=1e-9)
