"""Design-based inference for trends: per-seed statistics, t(S − 1), and the query part the seeds share.

The calibration tests simulate studies with a known truth (tests/analysis/synthetic.null_study: queries
crossed with runs, sizes nested in seeds) and count how often the interval covers it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from tests.analysis.synthetic import null_study

from swimscale.analysis._bootstrap import bootstrap_group
from swimscale.analysis._correlation import correlation_tables
from swimscale.analysis._groups import groups_of
from swimscale.analysis._inference import CUT, query_variances, seed_t_interval


def test_without_query_replicates_the_interval_is_the_one_sample_t_interval() -> None:
    values = np.array([0.012, 0.020, 0.007, 0.016])
    got = seed_t_interval(values, None, 0.9)
    reference = stats.ttest_1samp(values, 0.0)
    lo, hi = reference.confidence_interval(0.9)
    assert got.estimate == pytest.approx(values.mean())
    assert (got.ci_low, got.ci_high) == (pytest.approx(lo), pytest.approx(hi))
    assert got.p_value == pytest.approx(reference.pvalue)
    assert got.df == 3


def test_query_variances_separate_the_shared_part_from_each_seeds_own() -> None:
    rng = np.random.default_rng(0)
    shared = rng.normal(0, 2.0, (20_000, 1))  # moves every seed the same way
    own = rng.normal(0, 1.0, (20_000, 4))  # each seed's own
    v_shared, v_one, note = query_variances(5.0 + shared + own)
    assert v_shared == pytest.approx(4.0, rel=0.05)
    assert v_one == pytest.approx(5.0, rel=0.05)
    assert note == ""


def test_shared_query_variance_widens_the_interval_and_one_seed_has_none() -> None:
    values = np.array([0.10, 0.12, 0.11])
    alone = seed_t_interval(values, None, 0.95)
    rng = np.random.default_rng(1)
    shared = seed_t_interval(values, rng.normal(0, 0.05, (4000, 1)) + rng.normal(0, 0.001, (4000, 3)), 0.95)
    assert shared.ci_high - shared.ci_low > 3 * (alone.ci_high - alone.ci_low)
    assert shared.shared_share > 0.9
    one = seed_t_interval(values[:1], None, 0.95)
    assert math.isnan(one.ci_low) and "one seed" in one.note


def test_tied_seeds_do_not_get_a_zero_width_interval() -> None:
    # ρ over 5 sizes is discrete: 4 seeds can all give 0.9; their own query noise still bounds the interval.
    rng = np.random.default_rng(2)
    got = seed_t_interval(np.full(4, 0.9), rng.normal(0.9, 0.2, (3000, 4)), 0.95, bounded=True)
    assert got.ci_high - got.ci_low > 0.1
    assert CUT in got.note  # 0.9 + a wide half-width passes 1: said, and cut there


def _coverage(n_seeds: int, studies: int, slope: float = 0.0) -> dict[str, float]:
    rng = np.random.default_rng(2026 + n_seeds)
    covered = {"spearman": 0, "slope": 0}
    excludes_zero = 0
    for i in range(studies):
        table, per_query = null_study(rng, n_seeds=n_seeds, slope=slope)
        (group,) = groups_of(table, per_query)
        reps = [bootstrap_group(group, ["recall_at_50"], 200, seed=i)]
        row = correlation_tables([group], reps, ["recall_at_50"], 0.95).iloc[0]
        covered["spearman"] += row.spearman_ci_low <= 0 <= row.spearman_ci_high
        covered["slope"] += row.slope_ci_low <= 0 <= row.slope_ci_high
        excludes_zero += row.slope_ci_low > 0
    return {**{k: v / studies for k, v in covered.items()}, "power": excludes_zero / studies}


@pytest.mark.parametrize("n_seeds", [3, 5])
def test_null_coverage_of_the_95_percent_interval(n_seeds: int) -> None:
    """5 sizes × S seeds × 500 queries, no effect of N, 200 studies: ρ's and the slope's 95 % intervals
    cover 0 in at least 90 % of them (a seed bootstrap of ρ over all runs covers far less at S = 3)."""
    coverage = _coverage(n_seeds, 200)
    print(f"S = {n_seeds}: coverage of 0 by the 95 % CI: {coverage}")
    assert coverage["spearman"] >= 0.90 and coverage["slope"] >= 0.90


def test_a_real_trend_is_found_with_five_seeds() -> None:
    """The intervals are not merely wide: a slope of 0.15 logits per doubling is seen in most studies."""
    assert _coverage(5, 40, slope=0.15)["power"] >= 0.8
