"""The vectorised query × seed bootstrap: against a slow reference loop, and against theory.

The slow references here compute each replicate from its explicit resample indices with plain loops
and scipy -- a different path from the vectorised code (count matrices, index expansion, row kernels).
"""

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
from swimscale.analysis._bootstrap import Replicates, bootstrap_group, replicate_statistics
from swimscale.analysis._by_size import by_size_table
from swimscale.analysis._groups import groups_of
from swimscale.analysis._statistics import STATISTICS

LEVEL = Settings.of().level
TABLE_METRICS = [m for m in METRICS if m != "log2_first_rank"]


def _cell_value(group, metric, cell, q) -> float:
    return round(float(group.per_query[metric][cell][q].mean()), bootstrap.ROUND_DECIMALS)


def _slow_replicates(group, metric, query_idx, seed_idx):
    """The definition, one replicate at a time: size means over the drawn seeds (a seed brings all its
    sizes), and each statistic within each original seed (scipy) under the query draw alone."""
    rows = group.rows
    size_mean, per_seed = [], {s.name: [] for s in STATISTICS}
    for q, drawn in zip(query_idx, seed_idx):
        by_size = {int(n): [] for n in group.sizes}
        for k in drawn:
            for cell in np.flatnonzero(rows["seed"].to_numpy() == group.seeds[k]):
                by_size[int(rows["size"].iloc[cell])].append(_cell_value(group, metric, cell, q))
        size_mean.append([np.mean(by_size[int(n)]) if by_size[int(n)] else np.nan for n in group.sizes])
        for statistic in STATISTICS:
            values = []
            for seed in group.seeds:
                cells = np.flatnonzero((rows["seed"].to_numpy() == seed) & (rows["size"].to_numpy() > 0))
                x = np.log10(rows["size"].to_numpy(float)[cells]) * statistic.x_scale
                y = np.array([_cell_value(group, metric, c, q) for c in cells])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # a constant replicate: scipy warns and gives NaN, as we do
                    defined = np.ptp(y) > 0 or not statistic.correlation
                    values.append(statistic.reference(x, y) if defined and np.ptp(x) > 0 else np.nan)
            per_seed[statistic.name].append(values)
    return np.array(size_mean, dtype=float), {k: np.array(v, dtype=float) for k, v in per_seed.items()}


@pytest.mark.parametrize("drop_cell", [False, True], ids=["rectangular", "missing-run"])
def test_vectorised_bootstrap_equals_slow_loop(drop_cell: bool) -> None:
    table, per_query, _ = study(n_queries=40, seed=3, seeds=(0, 1, 2, 3), sizes=(0, 16, 64, 256, 1024, 4096))
    if drop_cell:  # a (size, seed) run missing from the table: NaN cells inside the vectorised arrays
        table = table[~((table["size"] == 256) & (table["seed"] == 2))]
    (group,) = groups_of(table, per_query)
    rng = np.random.default_rng(7)
    n_boot = 40
    query_idx = rng.integers(0, group.n_queries, (n_boot, group.n_queries))
    seed_idx = rng.integers(0, len(group.seeds), (n_boot, len(group.seeds)))
    fast = replicate_statistics(group, TABLE_METRICS, query_idx, seed_idx)
    for metric in TABLE_METRICS:
        size_mean, per_seed = _slow_replicates(group, metric, query_idx, seed_idx)
        np.testing.assert_allclose(fast[metric]["size_mean"], size_mean, rtol=0, atol=1e-12, err_msg=metric)
        for name, slow in per_seed.items():
            np.testing.assert_allclose(fast[metric]["per_seed"][name], slow, rtol=0, atol=1e-12, err_msg=f"{metric} {name}")


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


def test_query_counts() -> None:
    idx = np.array([[0, 0, 2], [1, 2, 2]])
    np.testing.assert_array_equal(bootstrap.query_counts(idx, 3), [[2, 0, 1], [0, 1, 2]])


def test_percentile_interval_is_not_the_reflected_basic_interval() -> None:
    """On skewed replicates the percentile interval (the quantiles themselves) and the basic one
    (2θ̂ minus the quantiles) differ; ours must be the percentile interval."""
    rng = np.random.default_rng(3)
    replicates = np.r_[rng.exponential(1.0, 4000), np.nan]
    lo, hi, n = bootstrap.percentile_ci(replicates, 0.9)
    q05, q95 = np.quantile(replicates[:-1], [0.05, 0.95])
    assert (lo, hi, n) == (pytest.approx(q05), pytest.approx(q95), 4000)
    centre = np.nanmean(replicates)
    basic = (2 * centre - q95, 2 * centre - q05)
    assert abs(lo - basic[0]) > 0.3 and abs(hi - basic[1]) > 0.3


def test_gains_and_paired_gain_cis_equal_a_slow_reference() -> None:
    table, per_query, _ = study(n_queries=60, seed=4, seeds=(0, 1, 2, 3))
    (group,) = groups_of(table, per_query)
    rng = np.random.default_rng(11)
    query_idx = rng.integers(0, group.n_queries, (400, group.n_queries))
    seed_idx = rng.integers(0, len(group.seeds), (400, len(group.seeds)))
    size_mean, _ = _slow_replicates(group, "recall_at_50", query_idx, seed_idx)
    fast = replicate_statistics(group, ["recall_at_50"], query_idx, seed_idx)["recall_at_50"]
    reps = Replicates(n_boot=400, size_mean={"recall_at_50": fast["size_mean"]})
    got = by_size_table([group], [reps], ["recall_at_50"], 0.9).set_index("size")
    means = table.groupby("size")["recall_at_50"].mean()
    for i, size in enumerate(group.sizes):
        if size == 0:
            continue
        assert got.loc[size, "gain"] == pytest.approx(means[size] - means[0], abs=1e-12)
        lo, hi = np.quantile(size_mean[:, i] - size_mean[:, 0], [0.05, 0.95])
        assert (got.loc[size, "gain_ci_low"], got.loc[size, "gain_ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
        lo, hi = np.quantile(size_mean[:, i], [0.05, 0.95])
        assert (got.loc[size, "ci_low"], got.loc[size, "ci_high"]) == (pytest.approx(lo), pytest.approx(hi))


def _width(table: pd.DataFrame, per_query: dict, size: int, n_boot: int = 3000) -> float:
    (group,) = groups_of(table, per_query)
    reps = bootstrap_group(group, ["recall_at_50"], n_boot, seed=1)
    row = by_size_table([group], [reps], ["recall_at_50"], LEVEL).set_index("size").loc[size]
    return row.ci_high - row.ci_low


def test_zero_shot_ci_width_shrinks_as_one_over_root_queries() -> None:
    """N = 0 is one model: its CI is the queries' alone, 2·1.96·sqrt(p(1 − p)/Q) for a hit rate p.
    A bootstrap that never resampled queries would give width 0 at any Q."""
    widths = {}
    for n_queries in (100, 1600):
        table, per_query, _ = study(n_queries=n_queries, seed=5, curve=lambda n: 0.3)
        p = table.loc[table["size"] == 0, "recall_at_50"].iloc[0]
        widths[n_queries] = _width(table, per_query, 0)
        assert widths[n_queries] == pytest.approx(2 * 1.96 * math.sqrt(p * (1 - p) / n_queries), rel=0.15)
    assert widths[100] / widths[1600] == pytest.approx(4.0, rel=0.2)


def test_trained_ci_width_grows_with_the_seed_spread() -> None:
    """A trained size's CI adds the seeds' spread: the bootstrap of a mean over S seeds has variance
    σ²(S − 1)/S² from them (plus the queries'). A bootstrap that never resampled seeds would not see σ."""
    seeds = tuple(range(5))
    widths = {}
    for seed_sd in (0.0, 0.06):
        table, per_query, _ = study(n_queries=2000, seeds=seeds, seed=6, seed_sd=seed_sd, curve=lambda n: 0.3)
        trained = table[table["size"] == 128]["recall_at_50"]
        sigma2 = trained.var(ddof=0) * len(seeds) / (len(seeds) - 1)  # the seeds' spread, as drawn
        queries = 0.3 * 0.7 / 2000 / len(seeds)  # each seed has its own hits on the shared queries
        expected = 2 * 1.96 * math.sqrt(sigma2 * (len(seeds) - 1) / len(seeds) ** 2 + queries)
        widths[seed_sd] = _width(table, per_query, 128)
        assert widths[seed_sd] == pytest.approx(expected, rel=0.3)
    assert widths[0.06] > 2.5 * widths[0.0]


def test_bootstrap_is_reproducible_and_shared_across_methods() -> None:
    table, per_query, _ = study(methods=("optical", "other"), n_queries=30)
    groups = groups_of(table, per_query)
    a = [bootstrap_group(g, ["recall_at_50"], 50, seed=4) for g in groups]
    b = [bootstrap_group(g, ["recall_at_50"], 50, seed=4) for g in groups]
    c = bootstrap_group(groups[0], ["recall_at_50"], 50, seed=5)
    np.testing.assert_array_equal(a[0].size_mean["recall_at_50"], b[0].size_mean["recall_at_50"])
    assert not np.array_equal(a[0].size_mean["recall_at_50"], c.size_mean["recall_at_50"])
    # Both methods share the N = 0 run and the query draws: identical zero-shot replicates.
    np.testing.assert_array_equal(a[0].size_mean["recall_at_50"][:, 0], a[1].size_mean["recall_at_50"][:, 0])


def test_without_run_files_only_seeds_are_resampled() -> None:
    table, _, _ = study(n_queries=40, seeds=(0, 1, 2, 3))
    (group,) = groups_of(table)  # no per-query values: the table's values
    reps = bootstrap_group(group, ["recall_at_50"], 500, seed=2)
    zero = reps.size_mean["recall_at_50"][:, group.zero_index]
    assert np.ptp(zero) == 0  # N = 0 is the same model for every seed: nothing left to resample
    trained = reps.size_mean["recall_at_50"][:, 1]
    values = table.loc[table["size"] == group.sizes[1], "recall_at_50"].to_numpy()
    assert set(np.round(trained * 4, 9)) <= {round(sum(c), 9) for c in _multisets(values, 4)}


def _multisets(values: np.ndarray, k: int):
    from itertools import combinations_with_replacement

    return combinations_with_replacement(values, k)


def test_groups_with_different_query_sets_are_rejected() -> None:
    table, per_query, _ = study(n_queries=10)
    label = table.index[-1]
    per_query[label] = per_query[label].iloc[:-1]
    with pytest.raises(ValueError, match="different query sets"):
        groups_of(table, per_query)
