"""The table per training-set size on hand-made tables and replicates: the means, SDs and gains over
N = 0 against plain arithmetic (statistics module), the CIs against numpy's quantiles of the given
replicates, the paired gain CI, and why a row has no CI. tests/analysis/test_bootstrap.py checks the
same table against a slow reference bootstrap."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from swimscale.analysis._bootstrap import Replicates
from swimscale.analysis._by_size import by_size_table
from swimscale.analysis._correlation import NO_QUERY_CI
from swimscale.analysis._groups import QUERIES_AND_SEEDS, SEEDS_ONLY, groups_of

# Recall@50 per (size, seed); None: the run has no value.
VALUES = {0: [0.20, 0.20, 0.20], 1: [0.25, 0.31, None], 100: [0.40, 0.46, 0.43], 1000: [None, None, None]}


def table(values=VALUES, metrics=("recall_at_50",)) -> pd.DataFrame:
    rows = []
    for size, per_seed in values.items():
        for seed, value in enumerate(per_seed):
            rows.append({"language": "ny", "benchmark": "b", "method": "optical", "size": size, "seed": seed,
                         **{m: math.nan if value is None else value for m in metrics}})
    return pd.DataFrame(rows)


def by_size(recall, reps=None, metrics=("recall_at_50",), level=0.9, per_query=None) -> pd.DataFrame:
    groups = groups_of(recall, per_query)
    return by_size_table(groups, [reps] * len(groups), list(metrics), level).set_index("size")


def test_means_sds_and_gains_over_zero_shot_without_replicates():
    got = by_size(table())
    zero = statistics.mean(VALUES[0])
    for size in (1, 100):
        present = [v for v in VALUES[size] if v is not None]
        row = got.loc[size]
        assert row.n_seeds == len(present)
        assert row["mean"] == pytest.approx(statistics.mean(present), abs=1e-15)
        assert row.sd == pytest.approx(statistics.stdev(present), abs=1e-15)
        assert row.gain == pytest.approx(statistics.mean(present) - zero, abs=1e-15)
        assert math.isnan(row.ci_low) and math.isnan(row.gain_ci_low) and row.note == ""
    assert got.loc[0, "mean"] == pytest.approx(0.2) and math.isnan(got.loc[0, "gain"])  # no gain of N = 0 over itself
    # A size without any value: no mean, no SD, no gain (not a gain of -R0).
    assert got.loc[1000, "n_seeds"] == 0 and got.loc[[1000], ["mean", "sd", "gain"]].isna().all(axis=None)
    assert list(got.index) == [0, 1, 100, 1000] and set(got["resampled"]) == {SEEDS_ONLY}
    assert (got["metric"] == "recall_at_50").all() and (got["language"] == "ny").all()
    assert (got["benchmark"] == "b").all() and (got["method"] == "optical").all()


def test_one_value_has_no_sd_and_a_gain_needs_n0():
    got = by_size(table({10: [0.3, None], 100: [0.4, 0.5]}))
    assert got.loc[10, "mean"] == pytest.approx(0.3) and math.isnan(got.loc[10, "sd"])
    assert got.loc[100, "sd"] == pytest.approx(statistics.stdev([0.4, 0.5]))
    assert got["gain"].isna().all()  # no N = 0 run: nothing to gain over


def replicates(n_boot=400, seed=0) -> Replicates:
    """Replicate means per size (0, 1, 100, 1000) whose zero-shot part varies a lot from replicate to
    replicate, and each trained size moves with it: the gain is the same in every replicate."""
    rng = np.random.default_rng(seed)
    zero = rng.uniform(0.0, 0.4, n_boot)
    size_mean = np.stack([zero, zero + 0.05, zero + 0.2 + rng.normal(0, 0.01, n_boot), zero + 0.3], axis=1)
    return Replicates(n_boot=n_boot, size_mean={"recall_at_50": size_mean})


def test_cis_are_percentile_intervals_and_the_gain_ci_is_paired():
    reps = replicates()
    got = by_size(table(), reps, level=0.8)
    for i, size in enumerate((1, 100)):
        row = got.loc[size]
        column = reps.size_mean["recall_at_50"][:, i + 1]
        assert (row.ci_low, row.ci_high) == tuple(pytest.approx(q) for q in np.quantile(column, [0.1, 0.9]))
        paired = column - reps.size_mean["recall_at_50"][:, 0]
        assert (row.gain_ci_low, row.gain_ci_high) == tuple(pytest.approx(q) for q in np.quantile(paired, [0.1, 0.9]))
    # Paired: each replicate's own zero-shot is subtracted, so the zero-shot spread (±0.2) cancels.
    assert got.loc[1, "gain_ci_low"] == pytest.approx(0.05) and got.loc[1, "gain_ci_high"] == pytest.approx(0.05)
    assert got.loc[100, "gain_ci_high"] - got.loc[100, "gain_ci_low"] < 0.05 < got.loc[100, "ci_high"] - got.loc[100, "ci_low"]
    # The gain itself is the table's, not the replicates' (which say 0.2 for N = 100).
    assert got.loc[100, "gain"] == pytest.approx(statistics.mean(VALUES[100]) - 0.2, abs=1e-15)


def test_zero_shot_has_a_ci_only_with_run_files():
    reps = replicates()
    got = by_size(table(), reps)
    assert got.loc[0, "note"] == NO_QUERY_CI and math.isnan(got.loc[0, "ci_low"]) and math.isnan(got.loc[0, "ci_high"])
    recall = table()
    per_query = {label: pd.DataFrame({"qid": ["q1", "q2"], "recall_at_50": [value, value]})
                 for label, value in recall["recall_at_50"].items()}
    got = by_size(recall, reps, per_query=per_query)
    zero = reps.size_mean["recall_at_50"][:, 0]
    assert (got.loc[0, "ci_low"], got.loc[0, "ci_high"]) == tuple(pytest.approx(q) for q in np.quantile(zero, [0.05, 0.95]))
    assert got.loc[0, "note"] == "" and set(got["resampled"]) == {QUERIES_AND_SEEDS}


def test_one_trained_seed_has_no_ci_but_its_gain():
    recall = table({0: [0.2], 1: [0.3], 100: [0.5]})
    got = by_size(recall, replicates(n_boot=50, seed=1))
    for size in (1, 100):
        assert got.loc[size, "note"] == "one seed: no seed-cluster bootstrap CI"
        assert got.loc[[size], ["ci_low", "ci_high", "gain_ci_low", "gain_ci_high"]].isna().all(axis=None)
    assert got.loc[100, "gain"] == pytest.approx(0.3)
    assert got.loc[0, "note"] == NO_QUERY_CI  # N = 0 is one model whatever the seeds: its own reason
    # Two seeds are enough for a seed-cluster CI.
    got = by_size(table({0: [0.2, 0.2], 1: [0.3, 0.35], 100: [0.5, 0.4]}), replicates(n_boot=50, seed=1))
    assert got.loc[[1, 100], ["ci_low", "ci_high", "gain_ci_low", "gain_ci_high"]].notna().all(axis=None)


def test_undefined_replicates_are_left_out_or_void_the_ci_with_a_note():
    reps = replicates(n_boot=100)
    reps.size_mean["recall_at_50"][:3, 1] = np.nan  # 3 % of N = 1's replicates: left out
    reps.size_mean["recall_at_50"][:10, 2] = np.nan  # 10 %: no CI
    got = by_size(table(), reps)
    kept = reps.size_mean["recall_at_50"][3:, 1]
    assert got.loc[1, "ci_low"] == pytest.approx(np.quantile(kept, 0.05))
    assert got.loc[1, "note"] == ("mean undefined in 3 of 100 resamples, which the CI leaves out; "
                                   "gain undefined in 3 of 100 resamples, which the CI leaves out")
    assert got.loc[[100], ["ci_low", "ci_high", "gain_ci_low", "gain_ci_high"]].isna().all(axis=None)
    assert got.loc[100, "note"].startswith("mean undefined in 10 of 100 resamples (constant resampled data): no CI; gain")


def test_metrics_without_replicates_or_column_and_several_groups():
    recall = pd.concat([table(metrics=("recall_at_50", "ndcg_at_10")),
                        table(metrics=("recall_at_50", "ndcg_at_10")).assign(language="zu")])
    groups = groups_of(recall)
    got = by_size_table(groups, [replicates(), None], ["ndcg_at_10", "mrr_at_10", "recall_at_50"], 0.9)
    assert list(got["metric"].unique()) == ["ndcg_at_10", "recall_at_50"]  # the given order; no mrr column
    assert list(got["language"].unique()) == ["ny", "zu"] and len(got) == 2 * 2 * 4
    ny_ndcg = got[(got["language"] == "ny") & (got["metric"] == "ndcg_at_10")]
    assert ny_ndcg["ci_low"].isna().all() and (ny_ndcg["note"] == "").all()  # no replicates of that metric
    ny_recall = got[(got["language"] == "ny") & (got["metric"] == "recall_at_50")].set_index("size")
    assert np.isfinite(ny_recall.loc[1, "ci_low"])
    assert got[got["language"] == "zu"]["ci_low"].isna().all()  # no replicates for that group


def test_no_group_gives_an_empty_table_with_every_column():
    from swimscale.analysis._schema import BY_SIZE_COLUMNS

    assert list(by_size_table([], [], ["recall_at_50"], 0.9).columns) == BY_SIZE_COLUMNS


def test_flags_mark_cap_bound_sizes_fewer_seeds_than_the_best_covered_n_and_zero_width_cis():
    recall = table({0: [0.2, None, None], 1: [0.25, 0.3, None], 100: [0.4, 0.46, 0.43], 1000: [0.5, 0.5, 0.5]})
    recall["cap_bound"] = recall["size"].map({0: math.nan, 1: True, 100: False, 1000: math.nan})
    n_boot = 50
    rng = np.random.default_rng(0)
    size_mean = np.stack([rng.uniform(0.0, 0.4, n_boot), rng.uniform(0.2, 0.4, n_boot),
                          rng.uniform(0.3, 0.5, n_boot), np.full(n_boot, 0.5)], axis=1)
    got = by_size(recall, Replicates(n_boot=n_boot, size_mean={"recall_at_50": size_mean}))
    # N = 0 is never short of seeds; N = 100 has as many as the best-covered size; N = 1,000 every
    # replicate the same mean: a CI of zero width.
    assert got["flag"].to_dict() == {0: "", 1: "cap_bound,fewer_seeds", 100: "", 1000: "degenerate_ci"}
    assert got.loc[1000, "ci_low"] == got.loc[1000, "ci_high"] == pytest.approx(0.5)
    # The best-covered size may be the smallest; N = 0's seeds do not count; no CI is no zero-width CI.
    assert by_size(table({0: [0.2, 0.2, 0.2], 1: [0.25, 0.3, 0.28], 100: [0.4, 0.46, None]}))["flag"].to_dict() == {
        0: "", 1: "", 100: "fewer_seeds"}
    assert by_size(table({0: [0.2, 0.2, 0.2], 1: [0.25, 0.3, None], 100: [0.4, 0.46, None]}))["flag"].to_dict() == {
        0: "", 1: "", 100: ""}
    # Without a cap_bound column nothing is cap-bound; a group of N = 0 alone has no size to compare.
    assert set(by_size(table())["flag"]) <= {"", "fewer_seeds"}
    assert by_size(table({0: [0.2, 0.3]}))["flag"].to_dict() == {0: ""}
