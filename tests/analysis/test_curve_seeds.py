"""The curve choice respects seeds: the pooled AICc choice stands only if most seeds that can judge it
make it on their own runs (swimscale.analysis._curve_model.seed_confirmed)."""

from __future__ import annotations

import numpy as np
import pytest

from swimscale.analysis._curve_model import (
    FLAT,
    LOG_LINEAR,
    SATURATING,
    UNDECIDED,
    compare_models,
    curve,
    fit,
    model_sse,
    seed_choices,
    seed_confirmed,
)

ALL = {FLAT, LOG_LINEAR, SATURATING}
SIZES = np.array([16, 64, 256, 1024, 4096, 16384], dtype=float)


def test_the_pooled_choice_needs_a_majority_of_the_seeds_that_can_judge_it():
    assert seed_confirmed(SATURATING, [(SATURATING, ALL), (SATURATING, ALL), (LOG_LINEAR, ALL)]) == (SATURATING, "")
    preferred, why = seed_confirmed(SATURATING, [(SATURATING, ALL), (UNDECIDED, ALL), (LOG_LINEAR, ALL)])
    assert preferred == UNDECIDED and why == "the saturating curve fits all runs best, but only 1 of 3 seed(s) prefer it on their own runs"
    assert seed_confirmed(LOG_LINEAR, [(LOG_LINEAR, ALL), (FLAT, ALL)])[0] == UNDECIDED  # 1 of 2 is no majority
    # seeds that cannot judge the saturating curve (5 sizes each) leave the pooled choice standing
    five = {FLAT, LOG_LINEAR}
    assert seed_confirmed(SATURATING, [(LOG_LINEAR, five)] * 3) == (SATURATING, "")
    assert seed_confirmed(LOG_LINEAR, [(FLAT, five)] * 3)[0] == UNDECIDED
    assert seed_confirmed(UNDECIDED, [(FLAT, ALL)] * 3) == (UNDECIDED, "")


def test_each_seed_is_compared_on_its_own_runs():
    r0 = 0.05
    truth = curve(SIZES, r0, 0.35, 100.0, 0.8)
    sizes = np.tile(SIZES, 3)
    seeds = np.repeat([0, 1, 2], len(SIZES))
    y = np.concatenate([truth, truth + 0.001, np.full(len(SIZES), 0.2)])  # seed 2 is flat
    choices = seed_choices(sizes, y, seeds, r0)
    assert [c for c, _ in choices] == [SATURATING, SATURATING, FLAT]
    # 6 runs: 2 residual df for the line in log N (K = 3 with σ²), 1 for the saturating curve
    assert all(judged == {FLAT, LOG_LINEAR} for _, judged in choices)
    seven = np.append(SIZES, 65536.0)
    assert seed_choices(seven, curve(seven, r0, 0.35, 100.0, 0.8), np.zeros(7), r0) == [(SATURATING, ALL)]
    five = seed_choices(SIZES[:5], truth[:5], np.zeros(5), r0)
    assert five[0][1] == {FLAT}


def _nested_study(rng, n_seeds=3, slope=0.0):
    """A line in log2 N (flat by default) whose seeds carry nested-sample errors: each size adds a
    deviation to the previous size's (a random walk within the seed, as a larger sample contains the
    smaller), plus a little independent noise."""
    x = np.log2(SIZES)
    y = [0.1 + slope * (x - x[0]) + np.cumsum(rng.normal(0, 0.02, len(SIZES))) + rng.normal(0, 0.002, len(SIZES))
         for _ in range(n_seeds)]
    return np.tile(SIZES, n_seeds), np.concatenate(y), np.repeat(np.arange(n_seeds), len(SIZES))


def test_nested_errors_make_the_pooled_choice_see_a_trend_and_the_seeds_correct_it():
    """No effect of N: the pooled runs' AICc finds a trend or a curve in some studies (a seed's walk
    looks like one), the per-seed choice in fewer."""
    rng = np.random.default_rng(1)
    pooled_richer = confirmed_richer = 0
    for _ in range(30):
        sizes, y, seeds = _nested_study(rng)
        pooled = compare_models(model_sse(sizes, y, fit(sizes, y, 0.1)), len(y))[1]
        confirmed, _ = seed_confirmed(pooled, seed_choices(sizes, y, seeds, 0.1))
        pooled_richer += pooled in (LOG_LINEAR, SATURATING)
        confirmed_richer += confirmed in (LOG_LINEAR, SATURATING)
    assert pooled_richer >= 3 and confirmed_richer < pooled_richer, (pooled_richer, confirmed_richer)


def test_a_real_trend_is_confirmed_by_the_seeds():
    rng = np.random.default_rng(2)
    kept = 0
    for _ in range(10):
        sizes, y, seeds = _nested_study(rng, slope=0.03)
        pooled = compare_models(model_sse(sizes, y, fit(sizes, y, 0.1)), len(y))[1]
        kept += seed_confirmed(pooled, seed_choices(sizes, y, seeds, 0.1))[0] == LOG_LINEAR
    assert kept >= 8


@pytest.mark.parametrize("seed", [0, 1])
def test_one_seed_confirms_its_own_choice(seed):
    rng = np.random.default_rng(seed)
    sizes, y, seeds = _nested_study(rng, n_seeds=1)
    pooled = compare_models(model_sse(sizes, y, fit(sizes, y, 0.1)), len(y))[1]
    assert seed_confirmed(pooled, seed_choices(sizes, y, seeds, 0.1)) == (pooled, "")
