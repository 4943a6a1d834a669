"""Groups of runs (analysis/_groups.py): cells, seeds, sizes and per-query matrices, held to the table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from swimscale.analysis._groups import QUERIES_AND_SEEDS, SEEDS_ONLY, groups_of


def _table() -> pd.DataFrame:
    """Two groups, shuffled; in (ny, b, m): seed 7 has no run at N = 64, seed 3 no value at N = 256,
    N = 0 only for seed 3, seed 9 only at N = 0."""
    rows = [{"language": "ny", "benchmark": "b", "method": "m", "size": n, "seed": s, "recall_at_50": 0.1 * i + 0.01 * s,
             "ndcg_at_10": s % 2, "n_queries": 40 + s}
            for i, n in enumerate((16, 64, 256)) for s in (3, 7) if not (s == 7 and n == 64)]
    rows += [{"language": "ny", "benchmark": "b", "method": "m", "size": 0, "seed": s, "recall_at_50": 0.05,
              "ndcg_at_10": 0, "n_queries": 40} for s in (3, 9)]
    rows += [{"language": "am", "benchmark": "b", "method": "m", "size": n, "seed": 1, "recall_at_50": 0.2,
              "ndcg_at_10": 1, "n_queries": np.nan} for n in (0, 16)]
    table = pd.DataFrame(rows)
    table = pd.concat([table[table["language"] == "ny"].sample(frac=1.0, random_state=0), table[table["language"] == "am"]])
    assert table["language"].iloc[0] == "ny" and table["ndcg_at_10"].dtype == np.int64
    table.loc[(table["seed"] == 3) & (table["size"] == 256), "recall_at_50"] = np.nan
    return table


def test_groups_are_sorted_and_their_cells_laid_out() -> None:
    am, ny = groups_of(_table())
    assert (am.key, ny.key) == (("am", "b", "m"), ("ny", "b", "m"))
    assert list(zip(ny.rows["size"], ny.rows["seed"])) == [(0, 3), (0, 9), (16, 3), (16, 7), (64, 3), (256, 3), (256, 7)]
    assert list(ny.rows.index) == list(range(7)) and list(ny.rows.columns) == list(_table().columns)
    assert ny.sizes.tolist() == [0, 16, 64, 256] and ny.seeds.tolist() == [3, 7, 9]
    assert ny.cell_at.tolist() == [[0, -1, 1], [2, 3, -1], [4, -1, -1], [5, 6, -1]]
    assert ny.trained_sizes.tolist() == [16, 64, 256] and ny.trained_seeds == 2 and am.trained_seeds == 1
    assert ny.zero_index == 0 and ny.seed_cells.tolist() == [[2, 4, 5], [3, -1, 6], [-1, -1, -1]]


def test_seed_points_are_nan_where_a_run_or_its_value_is_missing() -> None:
    _, ny = groups_of(_table())
    x, y = ny.seed_points("recall_at_50")
    log = np.log10([16.0, 64.0, 256.0])
    expected_y = np.array([[0.03, 0.13, np.nan], [0.07, np.nan, 0.27], [np.nan] * 3])
    np.testing.assert_allclose(y, expected_y, rtol=1e-12)
    np.testing.assert_allclose(x, np.where(np.isnan(expected_y), np.nan, log), rtol=1e-12)


def test_without_run_files_a_cell_is_its_table_value_and_only_seeds_are_resampled() -> None:
    am, ny = groups_of(_table())
    assert not ny.queries and ny.resampled == SEEDS_ONLY
    assert set(ny.per_query) == {"recall_at_50", "ndcg_at_10"}
    np.testing.assert_array_equal(ny.per_query["recall_at_50"][:, 0], ny.rows["recall_at_50"].to_numpy())
    assert ny.per_query["recall_at_50"].shape == (7, 1) and ny.per_query["ndcg_at_10"].dtype == np.float64
    np.testing.assert_array_equal(ny.per_query["ndcg_at_10"][:, 0], [0, 0, 1, 1, 1, 1, 1])
    assert ny.n_queries == 47 and am.n_queries == 0  # the table's largest count; none given: 0
    assert groups_of(_table().drop(columns="n_queries"))[1].n_queries == 0
    half = _table().astype({"n_queries": object})
    half.loc[half["seed"] == 7, "n_queries"] = "many"
    assert groups_of(half)[1].n_queries == 43


def _per_query(table: pd.DataFrame, qids=("q1", "q2", "q3")) -> dict:
    return {label: pd.DataFrame({"qid": list(qids), "recall_at_50": [r.recall_at_50, 0.0, 1.0],
                                 "ndcg_at_10": [0, 1, r.seed]})
            for label, r in zip(table.index, table.itertuples())}  # ndcg_at_10: integers in the frame


def test_with_run_files_a_cell_is_its_per_query_vector() -> None:
    table = _table()
    per_query = _per_query(table)
    for label in per_query:
        if table.loc[label, "language"] == "am":
            per_query[label] = per_query[label].drop(columns="ndcg_at_10")
    am, ny = groups_of(table, per_query)
    assert ny.queries and ny.resampled == QUERIES_AND_SEEDS and ny.n_queries == 3
    assert set(ny.per_query) == {"recall_at_50", "ndcg_at_10"} and set(am.per_query) == {"recall_at_50"}
    matrix = ny.per_query["ndcg_at_10"]
    assert matrix.shape == (7, 3) and matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix[:, 2], ny.rows["seed"].to_numpy(float))
    (one,) = groups_of(table.iloc[:1], {table.index[0]: per_query[table.index[0]]})  # a group of one run
    assert one.per_query["recall_at_50"].shape == (1, 3)


def test_without_an_n0_run_the_first_cell_is_a_trained_one() -> None:
    table = _table()
    (group,) = groups_of(table[(table["language"] == "ny") & (table["size"] > 0)])
    assert group.seed_cells.tolist() == [[0, 2, 3], [1, -1, 4]]
    _, y = group.seed_points("recall_at_50")
    np.testing.assert_allclose(y, [[0.03, 0.13, np.nan], [0.07, np.nan, 0.27]], rtol=1e-12)


def test_runs_judged_on_different_queries_are_refused() -> None:
    table = _table().assign(run_file=lambda t: [f"run{i}" for i in range(len(t))])
    per_query = _per_query(table)
    odd = table.index[(table["language"] == "ny") & (table["size"] == 0) & (table["seed"] == 3)][0]  # the first run
    per_query[odd] = per_query[odd].assign(qid=["q1", "q2", "q4"])
    second = table.index[(table["language"] == "ny") & (table["size"] == 0) & (table["seed"] == 9)][0]
    named = table.loc[second, "run_file"]  # every run is compared with the first
    with pytest.raises(ValueError, match=f"runs of ny/b/m are judged on different query sets \\(run_file '{named}'\\)"):
        groups_of(table, per_query)
