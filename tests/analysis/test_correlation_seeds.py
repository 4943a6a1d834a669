"""Which seeds enter a correlation (analysis/_correlation.py), with what replicates, and what the note says.

A statistic is computed within each seed over the seed's trained sizes and averaged over the seeds
that have at least MIN_TRAINED_SIZES (5) sizes with a value; the others are left out and the note says
how many. Each statistic is held to scipy on the kept seeds, its interval to the t(S − 1) interval
of the kept seeds with the query replicates of exactly those seeds.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from swimscale.analysis import STATISTICS
from swimscale.analysis._bootstrap import Replicates
from swimscale.analysis._correlation import NO_QUERY_CI, correlation_table, correlation_tables, too_few_sizes
from swimscale.analysis._groups import groups_of
from swimscale.analysis._inference import CUT, seed_t_interval

LEVEL = 0.9
METRIC = "ndcg_at_10"
SIZES = (1, 32, 64, 128, 256, 1024)  # N = 1 is a trained size (log N = 0)
B = 40  # replicates


def _table() -> pd.DataFrame:
    """Seeds 0-3 of one group: seed 1 constant, seed 2 has a missing value (5 sizes left: kept), seed 3
    runs at 4 sizes only (left out); two N = 0 runs."""
    rng = np.random.default_rng(0)
    rows = [{"size": 0, "seed": s, METRIC: 0.1 + 0.02 * s, "recall_at_50": 0.5} for s in (0, 1)]
    for seed in range(4):
        for i, n in enumerate(SIZES):
            if seed == 3 and i >= 4:
                continue
            value = 0.3 if seed == 1 else 0.1 + 0.02 * i * (1 + seed) + rng.normal(0, 0.01)
            rows.append({"size": n, "seed": seed, METRIC: value, "recall_at_50": rng.uniform()})
    table = pd.DataFrame(rows).assign(language="ny", benchmark="b", method="m", n_queries=7)
    table.loc[(table["seed"] == 2) & (table["size"] == 64), METRIC] = np.nan
    return table


def _per_seed(table: pd.DataFrame, statistic, seeds) -> np.ndarray:
    values = []
    for seed in seeds:
        rows = table[(table["seed"] == seed) & (table["size"] > 0)].dropna(subset=[METRIC])
        x = np.log10(rows["size"].to_numpy(float)) * statistic.x_scale
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values.append(statistic.reference(x, rows[METRIC].to_numpy(float)))
    return np.array(values, dtype=float)


def test_seeds_with_fewer_than_five_sizes_are_left_out_and_named() -> None:
    table = _table()
    row = correlation_table(table, METRIC, LEVEL, n_boot=0, seed=0).iloc[0]
    assert (row.n_seeds, row.n_points, row.n_sizes, row.n_queries, row.n_boot) == (3, 21, 6, 7, 0)
    assert row.resampled == "seeds only" and row.zero_shot == pytest.approx(0.11)
    assert (row.language, row.benchmark, row.method, row.metric) == ("ny", "b", "m", METRIC)
    assert math.isnan(row.zero_shot_ci_low) and math.isnan(row.zero_shot_ci_high)
    for statistic in STATISTICS:
        values = _per_seed(table, statistic, (0, 1, 2))
        kept = values[np.isfinite(values)]
        assert len(kept) == (3 if statistic.name == "slope" else 2)
        assert row[statistic.column] == pytest.approx(kept.mean(), abs=1e-12)
        lo, hi = stats.ttest_1samp(kept, 0.0).confidence_interval(LEVEL)
        if statistic.correlation:
            lo, hi = max(lo, -1.0), min(hi, 1.0)
        assert (row[statistic.ci_columns[0]], row[statistic.ci_columns[1]]) == (
            pytest.approx(lo, abs=1e-12), pytest.approx(hi, abs=1e-12))
        assert row[statistic.p_column] == pytest.approx(stats.ttest_1samp(kept, 0.0).pvalue, abs=1e-12)
    assert row.t_df == 2.0  # the slope's, the last statistic: three seeds
    expected = ["1 seed(s) with fewer than 5 sizes left out"]
    for statistic in STATISTICS:
        values = _per_seed(table, statistic, (0, 1, 2))
        if statistic.correlation:
            expected.append(f"{statistic.symbol} undefined in 1 of 3 seeds (metric constant within the seed): left out")
        interval = seed_t_interval(values[np.isfinite(values)], None, LEVEL, bounded=statistic.correlation)
        expected.append(f"{statistic.symbol}: {CUT}" if interval.note else "")
    assert f"ρ: {CUT}" in expected  # two seeds: the correlations' intervals reach past ±1
    assert row.note == "; ".join(n for n in expected if n)


def test_a_seed_at_exactly_five_sizes_is_kept() -> None:
    table = _table()
    table = table[~((table["seed"] == 3) & (table["size"] == 0))]
    five = pd.DataFrame([{"size": 256, "seed": 3, METRIC: 0.5, "recall_at_50": 0.4}]).assign(
        language="ny", benchmark="b", method="m", n_queries=7)
    row = correlation_table(pd.concat([table, five], ignore_index=True), METRIC, LEVEL, n_boot=0, seed=0).iloc[0]
    assert row.n_seeds == 4 and "fewer than 5 sizes" not in row.note
    values = _per_seed(pd.concat([table, five]), STATISTICS[-1], (0, 1, 2, 3))
    assert row.slope_per_doubling == pytest.approx(values.mean(), abs=1e-12)


def _groups_with_runs(table: pd.DataFrame):
    per_query = {label: pd.DataFrame({"qid": ["q1", "q2"], METRIC: [v, v], "recall_at_50": [0.0, 1.0]})
                 for label, v in table[METRIC].fillna(0.0).items()}
    return groups_of(table, per_query)


def test_each_interval_uses_the_query_replicates_of_exactly_the_kept_seeds() -> None:
    table = _table()
    (group,) = _groups_with_runs(table)
    rng = np.random.default_rng(1)
    per_seed = {s.name: {METRIC: rng.normal(0, 0.05, (B, 4)) + rng.normal(0, 0.05, (B, 1))} for s in STATISTICS[1:]}
    zero = rng.uniform(0, 1, B)
    reps = Replicates(B, size_mean={METRIC: np.column_stack([zero, rng.uniform(0, 1, (B, 6))])}, per_seed=per_seed)
    row = correlation_tables([group], [reps], [METRIC, "recall_at_100"], LEVEL).iloc[0]
    assert (row.n_boot, row.resampled, row.n_queries) == (B, "queries × seeds", 2)
    for statistic in STATISTICS:
        values = _per_seed(table, statistic, (0, 1, 2))
        defined = np.isfinite(values)
        replicates = None
        if statistic.name in per_seed:
            replicates = per_seed[statistic.name][METRIC][:, :3][:, defined]
        expected = seed_t_interval(values[defined], replicates, LEVEL, bounded=statistic.correlation)
        assert row[statistic.column] == pytest.approx(expected.estimate, abs=1e-12)
        assert row[statistic.ci_columns[1]] == pytest.approx(expected.ci_high, abs=1e-12)
        assert row[statistic.ci_columns[0]] == pytest.approx(expected.ci_low, abs=1e-12)
        assert row[statistic.p_column] == pytest.approx(expected.p_value, abs=1e-12)
    alpha = (1 - LEVEL) / 2
    assert (row.zero_shot_ci_low, row.zero_shot_ci_high) == (
        pytest.approx(np.quantile(zero, alpha)), pytest.approx(np.quantile(zero, 1 - alpha)))


def test_without_run_files_the_zero_shot_level_has_no_ci_and_says_why() -> None:
    table = _table()
    (group,) = groups_of(table)
    reps = Replicates(B, size_mean={METRIC: np.ones((B, 7))})
    row = correlation_tables([group], [reps], [METRIC], LEVEL).iloc[0]
    assert math.isnan(row.zero_shot_ci_low) and row.note.startswith(NO_QUERY_CI + "; ") and row.n_boot == B
    other = correlation_tables([group], [Replicates(B)], [METRIC], LEVEL).iloc[0]
    assert other.n_boot == 0 and NO_QUERY_CI not in other.note and other.zero_shot == pytest.approx(0.11)


def test_zero_shot_replicates_undefined_in_some_resamples_are_noted() -> None:
    (group,) = _groups_with_runs(_table())
    zero = np.linspace(0.0, 1.0, B)
    zero[:1] = np.nan  # below 5 % of the resamples: the CI leaves it out
    reps = Replicates(B, size_mean={METRIC: np.column_stack([zero, np.ones((B, 6))])})
    row = correlation_tables([group], [reps], [METRIC], LEVEL).iloc[0]
    assert row.note.startswith("zero-shot mean undefined in 1 of 40 resamples, which the CI leaves out; ")
    assert row.zero_shot_ci_low == pytest.approx(np.quantile(zero[1:], 0.05))
    zero[1:3] = np.nan
    reps = Replicates(B, size_mean={METRIC: np.column_stack([zero, np.ones((B, 6))])})
    row = correlation_tables([group], [reps], [METRIC], LEVEL).iloc[0]
    assert math.isnan(row.zero_shot_ci_low) and row.note.startswith(
        "zero-shot mean undefined in 3 of 40 resamples (constant resampled data): no CI; ")


def test_a_size_without_any_value_does_not_count() -> None:
    table = _table()
    table = table[table["size"] != 1024]
    table.loc[table["size"] == 128, METRIC] = np.nan
    row = correlation_table(table, METRIC, LEVEL, n_boot=0, seed=0).iloc[0]
    assert row.note == "only 4 trained size(s) (1, 32, 64 and 256); a trend needs ≥ 5 distinct N > 0"
    assert math.isnan(row.slope_per_doubling) and row.n_seeds == 4 and math.isnan(row.t_df)


def test_notes_are_said_once_and_only_the_cut_names_its_statistic() -> None:
    """One seed: each statistic's interval says the same thing, which the note says once, unprefixed."""
    table = _table()
    row = correlation_table(table[table["seed"] == 0], METRIC, LEVEL, n_boot=0, seed=0).iloc[0]
    assert row.note == "one seed: no interval (seeds are the replicates)"
    assert row.n_seeds == 1 and math.isnan(row.t_df) and row.slope_per_doubling == pytest.approx(
        _per_seed(table, STATISTICS[-1], (0,))[0])


def test_no_group_gives_an_empty_table_with_every_column() -> None:
    from swimscale.analysis import CORRELATION_COLUMNS

    assert list(correlation_tables([], [], [METRIC], LEVEL).columns) == CORRELATION_COLUMNS


def test_too_few_sizes_words() -> None:
    assert too_few_sizes([1024.0, 16.0, 4096.0]) == "only 3 trained size(s) (16, 1,024 and 4,096); a trend needs ≥ 5 distinct N > 0"
    assert too_few_sizes([]) == "only 0 trained size(s); a trend needs ≥ 5 distinct N > 0"
    assert too_few_sizes([1, 2, 3, 4, 5]) == ""


def test_metrics_keep_their_order_and_a_missing_one_is_refused() -> None:
    table = _table()
    (group,) = groups_of(table)
    rows = correlation_tables([group], [None], ["recall_at_50", METRIC, "mrr_at_10"], LEVEL)
    assert list(rows["metric"]) == ["recall_at_50", METRIC]
    assert "level" not in rows.columns
    with pytest.raises(ValueError, match="metric 'mrr_at_10' is not a column of the recall table"):
        correlation_table(table, "mrr_at_10", LEVEL, n_boot=0, seed=0)


def test_the_bootstrap_is_drawn_from_the_given_seed() -> None:
    table = _table()
    per_query = {label: pd.DataFrame({"qid": ["q1", "q2"], METRIC: [v, 0.5 * v], "recall_at_50": [0.0, 1.0]})
                 for label, v in table[METRIC].fillna(0.0).items()}
    a = correlation_table(table, METRIC, LEVEL, per_query, n_boot=30, seed=3).iloc[0]
    again = correlation_table(table, METRIC, LEVEL, per_query, n_boot=30, seed=3).iloc[0]
    assert (a.n_boot, a.resampled, a.n_queries) == (30, "queries × seeds", 2)
    assert (a.slope_ci_low, a.slope_ci_high) == (again.slope_ci_low, again.slope_ci_high)
    assert a.slope_ci_low < a.slope_per_doubling < a.slope_ci_high
