"""The vectorised bootstrap and the correlation table with CIs, against scipy and a slow reference loop."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from tests.analysis.synthetic import study

from swimscale.analysis import METRICS, Settings
from swimscale.analysis import _bootstrap as bootstrap
from swimscale.analysis import _rowstats as rowstats
from swimscale.analysis._bootstrap import bootstrap_group, replicate_statistics
from swimscale.analysis._by_size import by_size_table
from swimscale.analysis._correlation import correlation_table, correlation_tables
from swimscale.analysis._groups import groups_of

LEVEL = Settings.of().level


def _slow_replicates(group, metric, query_idx, seed_idx):
    """The definition, one replicate at a time with scipy: draw seeds (all their sizes come along) and
    queries (one draw for every cell), then compute the statistics of that data set."""
    out = {k: [] for k in ("spearman", "pearson", "kendall", "slope", "size_mean")}
    rows = group.rows
    for q, drawn in zip(query_idx, seed_idx):
        xs, ys, by_size = [], [], {int(s): [] for s in group.sizes}
        for k in drawn:
            seed = group.seeds[k]
            for cell in np.flatnonzero(rows["seed"].to_numpy() == seed):
                value = round(float(group.per_query[metric][cell][q].mean()), bootstrap.ROUND_DECIMALS)
                size = int(rows["size"].iloc[cell])
                by_size[size].append(value)
                if size > 0:
                    xs.append(math.log10(size))
                    ys.append(value)
        x, y = np.array(xs), np.array(ys)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a constant replicate: scipy warns and gives NaN, as we do
            out["spearman"].append(stats.spearmanr(x, y)[0])
            out["pearson"].append(stats.pearsonr(x, y)[0] if np.ptp(y) > 0 else np.nan)
            out["kendall"].append(stats.kendalltau(x, y)[0])
        out["slope"].append(stats.linregress(x * math.log2(10), y).slope)
        out["size_mean"].append([np.mean(by_size[int(s)]) if by_size[int(s)] else np.nan for s in group.sizes])
    return {k: np.array(v, dtype=float) for k, v in out.items()}


@pytest.mark.parametrize("drop_cell", [False, True], ids=["rectangular", "missing-run"])
def test_vectorised_bootstrap_equals_slow_loop(drop_cell: bool) -> None:
    table, per_query, _ = study(n_queries=40, seed=3, seeds=(0, 1, 2, 3))
    if drop_cell:  # a (size, seed) run missing from the table: NaN cells inside the vectorised arrays
        table = table[~((table["size"] == 128) & (table["seed"] == 2))]
    (group,) = groups_of(table, per_query)
    rng = np.random.default_rng(7)
    n_boot = 60
    query_idx = rng.integers(0, group.n_queries, (n_boot, group.n_queries))
    seed_idx = rng.integers(0, len(group.seeds), (n_boot, len(group.seeds)))
    fast = replicate_statistics(group, METRICS, query_idx, seed_idx)
    for metric in METRICS:
        slow = _slow_replicates(group, metric, query_idx, seed_idx)
        for name in ("spearman", "pearson", "kendall", "slope", "size_mean"):
            np.testing.assert_allclose(fast[metric][name], slow[name], rtol=0, atol=1e-12, err_msg=f"{metric} {name}")


def test_row_statistics_equal_scipy_on_random_rows_with_ties_and_gaps() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, (300, 9)).astype(float)
    y = rng.integers(0, 5, (300, 9)) / 7  # many ties
    y[rng.random(y.shape) < 0.15] = np.nan
    x[np.isnan(y)] = np.nan
    got = {f: getattr(rowstats, f)(x, y) for f in ("pearson", "spearman", "kendall", "slope")}
    checked = 0
    for i in range(len(x)):
        keep = ~np.isnan(y[i])
        a, b = x[i, keep], y[i, keep]
        if len(a) < 3 or np.ptp(a) == 0:
            assert all(np.isnan(got[f][i]) for f in got)
            continue
        assert got["slope"][i] == pytest.approx(stats.linregress(a, b).slope, abs=1e-12)
        if np.ptp(b) == 0:
            assert all(np.isnan(got[f][i]) for f in ("pearson", "spearman", "kendall"))
            continue
        assert got["pearson"][i] == pytest.approx(stats.pearsonr(a, b)[0], abs=1e-12)
        assert got["spearman"][i] == pytest.approx(stats.spearmanr(a, b)[0], abs=1e-12)
        assert got["kendall"][i] == pytest.approx(stats.kendalltau(a, b)[0], abs=1e-12)
        checked += 1
    assert checked > 200


def test_query_counts_and_percentile_ci() -> None:
    idx = np.array([[0, 0, 2], [1, 2, 2]])
    np.testing.assert_array_equal(bootstrap.query_counts(idx, 3), [[2, 0, 1], [0, 1, 2]])
    reps = np.r_[np.arange(1000.0), np.nan]
    lo, hi, n = bootstrap.percentile_ci(reps, 0.95)
    assert (lo, hi, n) == (pytest.approx(np.quantile(np.arange(1000.0), 0.025)), pytest.approx(np.quantile(np.arange(1000.0), 0.975)), 1000)


@pytest.mark.parametrize("metric", METRICS)
def test_point_estimates_equal_scipy_and_cis_bracket_them(metric: str) -> None:
    table, per_query, _ = study(languages=("ny", "sn"), n_queries=60, seed=1)
    result = correlation_table(table, metric, LEVEL, per_query, n_boot=300, seed=0)
    assert len(result) == 2 and (result["n_boot"] == 300).all()
    for row in result.itertuples():
        trained = table[(table["language"] == row.language) & (table["size"] > 0)]
        x, y = np.log10(trained["size"].to_numpy(float)), trained[metric].to_numpy()
        assert row.spearman_rho == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
        assert row.pearson_r == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
        assert row.kendall_tau == pytest.approx(stats.kendalltau(x, y)[0], abs=1e-12)
        assert row.kendall_p == pytest.approx(stats.kendalltau(x, y)[1], abs=1e-12)
        assert row.slope_per_doubling == pytest.approx(stats.linregress(np.log2(trained["size"]), y).slope, abs=1e-12)
        for prefix in ("spearman", "pearson", "kendall", "slope", "zero_shot"):
            lo, hi = getattr(row, f"{prefix}_ci_low"), getattr(row, f"{prefix}_ci_high")
            assert lo <= hi, prefix
        assert row.zero_shot_ci_low <= row.zero_shot <= row.zero_shot_ci_high
        assert row.note == ""


def test_bootstrap_is_reproducible_and_shared_across_methods() -> None:
    table, per_query, _ = study(methods=("optical", "other"), n_queries=30)
    groups = groups_of(table, per_query)
    a = [bootstrap_group(g, ["recall_at_50"], 50, seed=4) for g in groups]
    b = [bootstrap_group(g, ["recall_at_50"], 50, seed=4) for g in groups]
    c = bootstrap_group(groups[0], ["recall_at_50"], 50, seed=5)
    np.testing.assert_array_equal(a[0].stats["spearman"]["recall_at_50"], b[0].stats["spearman"]["recall_at_50"])
    assert not np.array_equal(a[0].size_mean["recall_at_50"], c.size_mean["recall_at_50"])
    # Both methods share the N = 0 run and the query draws: identical zero-shot replicates.
    np.testing.assert_array_equal(a[0].size_mean["recall_at_50"][:, 0], a[1].size_mean["recall_at_50"][:, 0])


def test_strong_trend_gets_a_ci_above_zero() -> None:
    table, per_query, _ = study(
        sizes=(0, 16, 64, 256, 1024), seeds=tuple(range(5)), n_queries=300, curve=lambda n: 0.05 + 0.3 * math.log2(n + 1) / 10
    )
    row = correlation_table(table, "recall_at_50", LEVEL, per_query, n_boot=400).iloc[0]
    assert row.spearman_rho > 0.8 and row.spearman_ci_low > 0 and row.slope_ci_low > 0


def _quiet(table, per_query=None, n_boot=100):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        groups = groups_of(table, per_query)
        reps = [bootstrap_group(g, METRICS, n_boot) for g in groups]
        return correlation_tables(groups, reps, METRICS, LEVEL), by_size_table(groups, reps, METRICS, LEVEL)


def test_one_seed_gives_point_estimates_but_no_ci() -> None:
    table, per_query, _ = study(seeds=(0,), n_queries=40)
    corr, by_size = _quiet(table, per_query)
    row = corr[corr["metric"] == "recall_at_50"].iloc[0]
    assert np.isfinite(row.spearman_rho) and np.isfinite(row.zero_shot_ci_low)  # N = 0: queries only
    for prefix in ("spearman", "pearson", "kendall", "slope"):
        assert math.isnan(row[f"{prefix}_ci_low"]) and math.isnan(row[f"{prefix}_ci_high"])
    assert "one seed" in row.note
    trained = by_size[(by_size["size"] > 0) & (by_size["metric"] == "recall_at_50")]
    assert trained["ci_low"].isna().all() and trained["note"].str.contains("one seed").all()


def _with(table: pd.DataFrame, per_query: dict, metric_values) -> tuple[pd.DataFrame, dict]:
    """Set recall_at_50 per-query values (and the table's mean) of every trained run from f(size, seed)."""
    table = table.copy()
    per_query = {k: v.copy() for k, v in per_query.items()}
    for label, row in table.iterrows():
        if row["size"] > 0:
            values = metric_values(row["size"], row["seed"], len(per_query[label]))
            per_query[label]["recall_at_50"] = values
            table.loc[label, "recall_at_50"] = float(np.mean(values))
    return table, per_query


@pytest.mark.parametrize(
    "case",
    ["constant", "single-size", "only-zero-shot", "ties"],
)
def test_degenerate_input_gives_nan_and_note_quietly(case: str) -> None:
    table, per_query, _ = study(n_queries=20)
    if case == "constant":
        table, per_query = _with(table, per_query, lambda n, s, q: np.r_[np.ones(5), np.zeros(q - 5)])
    elif case == "single-size":
        keep = table["size"].isin([0, 128])
        table, per_query = table[keep], {k: v for k, v in per_query.items() if keep[k]}
    elif case == "only-zero-shot":
        keep = table["size"] == 0
        table, per_query = table[keep], {k: v for k, v in per_query.items() if keep[k]}
    elif case == "ties":
        # Every run's recall in {2, 4}/20: ties within and between sizes, but not constant.
        table, per_query = _with(table, per_query, lambda n, s, q: np.r_[np.ones(2 + 2 * (s % 2)), np.zeros(q - 2 - 2 * (s % 2))])
    corr, _ = _quiet(table, per_query)
    row = corr[corr["metric"] == "recall_at_50"].iloc[0]
    if case == "ties":  # ties are handled (mid-ranks, tau-b), not degenerate
        trained = table[table["size"] > 0]
        x, y = np.log10(trained["size"]), trained["recall_at_50"]
        assert row.spearman_rho == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)
        assert row.kendall_tau == pytest.approx(stats.kendalltau(x, y)[0], abs=1e-12)
        return
    for column in ("spearman_rho", "pearson_r", "kendall_tau", "spearman_ci_low", "kendall_ci_high"):
        assert math.isnan(row[column]), column
    assert row.note


def test_groups_with_different_query_sets_are_rejected() -> None:
    table, per_query, _ = study(n_queries=10)
    label = table.index[-1]
    per_query[label] = per_query[label].iloc[:-1]
    with pytest.raises(ValueError, match="different query sets"):
        groups_of(table, per_query)
