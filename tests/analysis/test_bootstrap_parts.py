"""The parts of the query × seed bootstrap on their own: CI notes, empty and single replicates,
gathering, the count matrix, the replicates a group gets (how many, which are kept, its own random
stream), and the per-seed statistics of a group without N = 0 -- against scipy on the identity draw.
tests/analysis/test_bootstrap.py holds the whole against a slow reference and theory.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.analysis.synthetic import study

from swimscale.analysis import _bootstrap as bootstrap
from swimscale.analysis._bootstrap import bootstrap_group, ci, gather, percentile_ci, query_counts, replicate_statistics
from swimscale.analysis._groups import groups_of
from swimscale.analysis._statistics import STATISTICS


def test_ci_leaves_out_a_few_undefined_replicates_and_refuses_many():
    values = np.linspace(0.0, 1.0, 100)
    assert ci(values, "ρ", 0.9) == (pytest.approx(0.05), pytest.approx(0.95), "")
    few = values.copy()
    few[:3] = np.nan  # 3 % undefined: left out of the interval, and said
    lo, hi, note = ci(few, "ρ", 0.9)
    assert (lo, hi) == pytest.approx(np.quantile(few[3:], [0.05, 0.95]))
    assert note == "ρ undefined in 3 of 100 resamples, which the CI leaves out"
    many = values.copy()
    many[:10] = np.nan
    lo, hi, note = ci(many, "ρ", 0.9)
    assert math.isnan(lo) and math.isnan(hi)
    assert note == "ρ undefined in 10 of 100 resamples (constant resampled data): no CI"


def test_percentile_interval_of_no_and_of_one_finite_replicate():
    lo, hi, n = percentile_ci(np.array([np.nan, np.nan]), 0.95)
    assert math.isnan(lo) and math.isnan(hi) and n == 0
    assert percentile_ci(np.array([np.nan, 0.3]), 0.95) == (0.3, 0.3, 1)


def test_gather_takes_cells_and_marks_missing_ones():
    cells = np.array([[1, -1, 0], [0, 0, -1]])
    np.testing.assert_array_equal(gather(np.array([0.1, 0.2]), cells), [[0.2, np.nan, 0.1], [0.1, 0.1, np.nan]])
    per_replicate = np.array([[0.1, 0.2], [0.3, 0.4]])
    np.testing.assert_array_equal(gather(per_replicate, cells), [[0.2, np.nan, 0.1], [0.3, 0.3, np.nan]])


def test_query_counts_are_a_float_matrix():
    counts = query_counts(np.array([[0, 0, 2]]), 3)
    assert counts.dtype == np.float64 and counts.tolist() == [[2.0, 0.0, 1.0]]


def test_replicate_statistics_of_the_identity_draw_are_the_data_s_own():
    """A group without N = 0 (its first cell is a trained run) and with one run missing: drawing every
    query and every seed once gives the size means and scipy's statistic of each seed."""
    table, per_query, _ = study(sizes=(32, 128, 512, 2048), seeds=(0, 1, 2), n_queries=40, seed=8)
    dropped = table.index[(table["size"] == 512) & (table["seed"] == 1)]
    table = table.drop(index=dropped)
    (group,) = groups_of(table, {k: v for k, v in per_query.items() if k in table.index})
    identity_q, identity_s = np.arange(40)[None], np.arange(3)[None]
    out = replicate_statistics(group, ["recall_at_50"], identity_q, identity_s)["recall_at_50"]
    means = table.groupby("size")["recall_at_50"].mean()
    np.testing.assert_allclose(out["size_mean"][0], means.to_numpy(), atol=1e-12)
    for statistic in STATISTICS:
        for k, seed in enumerate(group.seeds):
            rows = table[table["seed"] == seed].sort_values("size")
            x = np.log10(rows["size"].to_numpy(float)) * statistic.x_scale
            expected = statistic.reference(x, rows["recall_at_50"].to_numpy())
            assert out["per_seed"][statistic.name][0, k] == pytest.approx(expected, abs=1e-9), (statistic.name, k)


def test_a_group_gets_n_boot_replicates_from_its_own_stream():
    table, per_query, _ = study(n_queries=30, seed=9)
    (group,) = groups_of(table, per_query)
    assert bootstrap_group(group, ["recall_at_50"], 0, seed=0) is None and bootstrap_group(group, ["recall_at_50"], -1, seed=0) is None
    one = bootstrap_group(group, ["recall_at_50"], 1, seed=0)
    reps = bootstrap_group(group, ["recall_at_50"], 50, seed=0)
    assert one.size_mean["recall_at_50"].shape == (1, 4) and reps.size_mean["recall_at_50"].shape == (50, 4)
    assert reps.n_boot == 50 and set(reps.per_seed) == {s.name for s in STATISTICS}
    assert reps.per_seed["spearman"]["recall_at_50"].shape == (50, 3)
    # Defaults: seed 0, and no replicate kept in full.
    np.testing.assert_array_equal(reps.size_mean["recall_at_50"],
                                  bootstrap_group(group, ["recall_at_50"], 50, seed=0).size_mean["recall_at_50"])
    assert reps.cell_means["recall_at_50"].shape == (0, len(group.rows)) and reps.seed_draws.shape == (0, 3)
    # The stream is the language's and the benchmark's: renaming either draws other resamples.
    for column, name in (("language", "yo"), ("benchmark", "other")):
        (renamed,) = groups_of(table.assign(**{column: name}), per_query)
        other = bootstrap_group(renamed, ["recall_at_50"], 50, seed=0)
        assert not np.array_equal(other.size_mean["recall_at_50"], reps.size_mean["recall_at_50"]), column


def test_many_queries_are_drawn_in_chunks_and_the_first_replicates_are_kept():
    """4 500 queries: the draws come in chunks of fewer than 1 000 replicates; the count is still
    n_boot and exactly the first n_keep replicates are kept in full, whatever the chunking."""
    table, per_query, _ = study(sizes=(0, 32, 128), seeds=(0, 1), n_queries=4500, seed=10)
    (group,) = groups_of(table, per_query)
    reps = bootstrap_group(group, ["recall_at_50"], 2000, n_keep=1500, seed=0)
    assert reps.size_mean["recall_at_50"].shape == (2000, 3)
    assert reps.cell_means["recall_at_50"].shape == (1500, len(group.rows)) and reps.seed_draws.shape == (1500, 2)
    # The kept cell means are those of the replicates' size means (seeds drawn as kept).
    for b in (0, 999, 1499):
        drawn = reps.seed_draws[b]
        cells = group.cell_at[:, drawn]
        expected = reps.cell_means["recall_at_50"][b][cells].mean(axis=1)
        np.testing.assert_allclose(reps.size_mean["recall_at_50"][b], expected, atol=1e-12)


def test_a_group_without_trained_runs_has_no_per_seed_statistics():
    table, per_query, _ = study(sizes=(0,), n_queries=30, seed=11)
    (group,) = groups_of(table, per_query)
    reps = bootstrap_group(group, ["recall_at_50"], 20, seed=0)
    assert reps.per_seed == {} and reps.size_mean["recall_at_50"].shape == (20, 1)


def test_chunking_bounds_memory_by_the_group_s_size(monkeypatch):
    """With a small work budget the chunks shrink to one replicate, and the replicates are still valid."""
    monkeypatch.setattr(bootstrap, "_CHUNK_FLOATS", 10)
    table, per_query, _ = study(n_queries=30, seed=12)
    (group,) = groups_of(table, per_query)
    reps = bootstrap_group(group, ["recall_at_50"], 7, n_keep=3, seed=0)
    assert reps.size_mean["recall_at_50"].shape == (7, 4) and reps.seed_draws.shape == (3, 3)
    assert np.isfinite(reps.size_mean["recall_at_50"]).all()


def test_draws_reach_every_query_and_every_seed():
    (query_idx, seed_idx), = list(bootstrap.draw(np.random.default_rng(0), 400, 7, 3, 1000))
    assert query_idx.shape == (400, 7) and seed_idx.shape == (400, 3)
    assert set(query_idx.ravel()) == set(range(7)) and set(seed_idx.ravel()) == set(range(3))


def _stream_draws(group, n_boot, n_queries, chunk, seed=0):
    rng = bootstrap.group_rng(seed, group.language, group.benchmark)
    return list(bootstrap.draw(rng, n_boot, n_queries, len(group.seeds), chunk))


def test_the_replicates_are_the_group_stream_s_draws_in_chunks_bounded_by_the_work_budget(monkeypatch):
    """A group's replicates are those of draw() on its own stream, in chunks of at most 1 000
    replicates and at most _CHUNK_FLOATS // (queries + cells² + runs) (at least one)."""
    table, per_query, _ = study(sizes=(0, 32, 128), seeds=(0, 1), n_queries=4500, seed=10)
    (group,) = groups_of(table, per_query)
    chunk = bootstrap._CHUNK_FLOATS // (4500 + group.cell_at.size ** 2 + len(group.rows))
    assert chunk < 1000
    reps = bootstrap_group(group, ["recall_at_50"], chunk + 5, n_keep=chunk + 5, seed=0)
    draws = _stream_draws(group, chunk + 5, 4500, chunk)
    np.testing.assert_array_equal(reps.seed_draws, np.concatenate([s for _, s in draws]))
    expected = np.concatenate([replicate_statistics(group, ["recall_at_50"], q, s)["recall_at_50"]["size_mean"]
                               for q, s in draws])
    np.testing.assert_array_equal(reps.size_mean["recall_at_50"], expected)

    # 30 queries: chunks of 1 000 (n_boot 1 001), and of one replicate under a tiny budget.
    small, small_queries, _ = study(sizes=(0, 32, 128), seeds=(0, 1), n_queries=30, seed=10)
    (group,) = groups_of(small, small_queries)
    for n_boot, budget, chunk in ((1001, bootstrap._CHUNK_FLOATS, 1000), (7, 10, 1)):
        monkeypatch.setattr(bootstrap, "_CHUNK_FLOATS", budget)
        reps = bootstrap_group(group, ["recall_at_50"], n_boot, n_keep=n_boot, seed=0)
        draws = _stream_draws(group, n_boot, 30, chunk)
        np.testing.assert_array_equal(reps.seed_draws, np.concatenate([s for _, s in draws]))
        expected = np.concatenate([replicate_statistics(group, ["recall_at_50"], q, s)["recall_at_50"]["size_mean"]
                                   for q, s in draws])
        np.testing.assert_array_equal(reps.size_mean["recall_at_50"], expected)
    monkeypatch.undo()
    # Seeds only: a cell's mean is its one "query"; a table without any metric still draws one query.
    for columns in (list(small.columns), ["language", "benchmark", "method", "size", "seed"]):
        (seeds_only,) = groups_of(small[columns], None)
        reps = bootstrap_group(seeds_only, ["recall_at_50"], 1001, n_keep=1001, seed=0)
        expected = np.concatenate([s for _, s in _stream_draws(seeds_only, 1001, 1, 1000)])
        np.testing.assert_array_equal(reps.seed_draws, expected)
        assert set(reps.size_mean) == ({"recall_at_50"} if seeds_only.per_query else set())
