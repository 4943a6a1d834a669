"""The seed-level interval at its edges (tests/analysis/test_inference.py has its calibration).

Independent formulations: V_shared is the mean covariance between two seeds (numpy's sample
covariance matrix, off the diagonal) and the own part the mean variance (its diagonal); too few or
too many undefined query replicates, one or two seeds, a zero standard error, and the cut at ±1 give
the documented values and notes.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from swimscale.analysis._inference import CUT, query_variances, seed_t_interval

NO_REPLICATES = "no query resamples: the query part shared by the seeds is not estimated"


@pytest.fixture(autouse=True)
def no_runtime_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


@pytest.mark.parametrize("b", [2, 3, 7])
def test_query_variances_are_the_mean_covariance_and_variance_of_the_seeds(b):
    rng = np.random.default_rng(b)
    replicates = rng.normal(size=(b, 4)) + rng.normal(size=(b, 1))
    covariance = np.cov(replicates, rowvar=False)  # sample covariance (ddof 1)
    off_diagonal = (covariance.sum() - np.trace(covariance)) / (4 * 3)
    v_shared, v_one, note = query_variances(replicates)
    assert v_shared == pytest.approx(max(off_diagonal, 0.0), abs=1e-12)
    assert v_one == pytest.approx(np.trace(covariance) / 4, rel=1e-12)
    assert note == ""


def test_query_variances_need_two_defined_replicates():
    one = np.array([[0.1, 0.2, 0.3]])
    assert query_variances(one)[2] == NO_REPLICATES and math.isnan(query_variances(one)[0])
    mostly_undefined = np.array([[0.1, 0.2, 0.3], [np.nan, 0.2, 0.3], [0.2, np.nan, 0.1]])
    v_shared, v_one, note = query_variances(mostly_undefined)
    assert math.isnan(v_shared) and math.isnan(v_one) and note == NO_REPLICATES


def test_query_variances_leave_out_a_few_undefined_replicates_and_refuse_many():
    rng = np.random.default_rng(3)
    replicates = rng.normal(size=(100, 3))
    replicates[:4, 0] = np.nan  # 4 % undefined: left out
    expected = query_variances(replicates[4:])
    assert query_variances(replicates) == pytest.approx(expected)
    replicates[:7, 1] = np.nan  # 7 %
    v_shared, _, note = query_variances(replicates)
    assert math.isnan(v_shared)
    assert note == "statistic undefined in 7 of 100 query resamples: the shared query part is not estimated"


def test_no_seed_and_one_seed_have_no_interval():
    none = seed_t_interval(np.array([]), None, 0.95)
    assert math.isnan(none.estimate) and math.isnan(none.ci_low)
    one = seed_t_interval([0.3], None, 0.95)
    fields = (one.ci_low, one.ci_high, one.p_value, one.se, one.df, one.shared_share)
    assert one.estimate == 0.3 and all(math.isnan(f) for f in fields)
    assert one.note == "one seed: no interval (seeds are the replicates)"


def test_two_seeds_have_the_one_sample_t_interval_of_one_degree_of_freedom():
    got = seed_t_interval([2, 4], None, 0.9)  # integers are values like any other
    reference = stats.ttest_1samp([2.0, 4.0], 0.0)
    assert (got.ci_low, got.ci_high) == pytest.approx(reference.confidence_interval(0.9))
    assert (got.estimate, got.df, got.se, got.shared_share, got.note) == (3.0, 1.0, pytest.approx(1.0), 0.0, "")
    assert got.p_value == pytest.approx(reference.pvalue)


def test_unusable_query_replicates_leave_the_seed_interval_alone():
    values = np.array([0.1, 0.3, 0.2])
    alone = seed_t_interval(values, None, 0.9)
    with_one_replicate = seed_t_interval(values, np.array([[0.5, 0.9, 0.1]]), 0.9)
    assert (with_one_replicate.ci_low, with_one_replicate.ci_high) == (alone.ci_low, alone.ci_high)
    assert with_one_replicate.se == alone.se and with_one_replicate.note == NO_REPLICATES


@pytest.mark.parametrize(("value", "p"), [(0.0, 1.0), (0.5, 0.0)])
def test_seeds_that_agree_exactly_have_a_zero_standard_error(value, p):
    got = seed_t_interval(np.full(3, value), None, 0.95)
    assert (got.se, got.ci_low, got.ci_high, got.p_value, got.shared_share) == (0.0, value, value, p, 0.0)


def test_only_a_bounded_statistic_is_cut_at_one_and_it_says_so():
    values = np.array([0.95, 0.5, 0.99])  # t(2) reaches past 1
    free = seed_t_interval(values, None, 0.95)
    assert free.ci_high > 1 and free.note == ""
    cut = seed_t_interval(values, None, 0.95, bounded=True)
    assert (cut.ci_low, cut.ci_high, cut.note) == (free.ci_low, 1.0, CUT)
    low = seed_t_interval(-values, None, 0.95, bounded=True)  # and at -1 below
    assert (low.ci_low, low.ci_high, low.note) == (-1.0, -free.ci_low, CUT)
    inside = seed_t_interval(np.array([0.1, 0.3, 0.2]), None, 0.95, bounded=True)
    assert -1 < inside.ci_low < inside.ci_high < 1 and inside.note == ""
    mid = np.array([-0.9, -0.5, -0.99])
    assert -2 < seed_t_interval(mid, None, 0.95).ci_low < -1  # below -1 but above -2 before the cut
    assert (seed_t_interval(mid, None, 0.95, bounded=True).ci_low, seed_t_interval(mid, None, 0.95, bounded=True).note) == (-1.0, CUT)


def test_a_cut_interval_keeps_the_query_note_too():
    rng = np.random.default_rng(4)
    replicates = rng.normal(size=(20, 3))
    replicates[:5, 0] = np.nan  # 25 % undefined
    got = seed_t_interval(np.array([0.95, 0.5, 0.99]), replicates, 0.95, bounded=True)
    assert got.note == f"statistic undefined in 5 of 20 query resamples: the shared query part is not estimated; {CUT}"


@pytest.mark.parametrize("value", [1.0, -1.0])
def test_seeds_all_at_plus_or_minus_one_are_not_cut(value):
    """Every seed's trend perfectly monotone (ρ = ±1, as with few sizes): the interval is the point ±1,
    which reaches no further than ±1, so nothing was cut and the note must not say so."""
    got = seed_t_interval(np.full(3, value), None, 0.95, bounded=True)
    assert (got.ci_low, got.ci_high, got.note) == (value, value, "")
