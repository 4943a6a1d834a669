"""swimscale.stats: recall table, correlations (vs scipy), plot and TSV output."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from swimscale.analysis._stats import (
    RECALL_COLUMNS,
    build_recall_table,
    correlation_table,
    plot_recall_vs_n,
    write_tsv,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _record(language: str = "ny", method: str = "optical", size: int = 100, seed: int = 0, **kw: Any) -> dict:
    record = {
        "language": language,
        "benchmark": "swim",
        "method": method,
        "size": size,
        "seed": seed,
        "n_queries": 50,
        "recall_at_50": 0.5,
        "recall_at_100": 0.6,
        "ndcg_at_10": 0.3,
        "mrr_at_10": 0.25,
        "run_file": f"runs/{language}_{method}_{size}_{seed}.trec",
        "qrels_file": f"qrels/{language}.txt",
        "steps": size // 8,
        "examples_seen": size,
        "train_seconds": 1.5,
    }
    record.update(kw)
    return record


def _random_table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    records = [
        _record(language, method, size, s, recall_at_50=float(rng.uniform()), ndcg_at_10=float(rng.uniform()))
        for language in ("ny", "sn")
        for method in ("optical", "finetune")
        for size in (0, 10, 100, 1000, 10000)
        for s in range(3)
    ]
    rng.shuffle(records)
    return build_recall_table(records)


def _quiet_correlation(table: pd.DataFrame, metric: str = "recall_at_50") -> pd.DataFrame:
    """correlation_table, failing on any warning (degenerate input must be handled quietly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return correlation_table(table, metric)


def test_build_recall_table_order_and_columns() -> None:
    table = _random_table()
    assert list(table.columns) == RECALL_COLUMNS
    assert len(table) == 2 * 2 * 5 * 3
    keys = list(zip(table["language"], table["benchmark"], table["method"], table["size"], table["seed"]))
    assert keys == sorted(keys)


def test_build_recall_table_empty() -> None:
    table = build_recall_table([])
    assert table.empty and list(table.columns) == RECALL_COLUMNS


def test_build_recall_table_duplicate_key() -> None:
    with pytest.raises(ValueError, match=r"language='ny'.*size=100, seed=1"):
        build_recall_table([_record(seed=1), _record(seed=2), _record(seed=1, recall_at_50=0.1)])


def test_build_recall_table_missing_key() -> None:
    record = _record()
    del record["examples_seen"]
    with pytest.raises(ValueError, match="examples_seen"):
        build_recall_table([_record(seed=1), record])


@pytest.mark.parametrize("metric", ["recall_at_50", "ndcg_at_10"])
def test_correlations_match_scipy(metric: str) -> None:
    table = _random_table(1)
    result = _quiet_correlation(table, metric)
    assert len(result) == 4
    assert (result["metric"] == metric).all()
    for row in result.itertuples():
        group = table[(table["language"] == row.language) & (table["method"] == row.method)]
        trained = group[group["size"] > 0]
        x, y = np.log10(trained["size"].to_numpy(dtype=float)), trained[metric].to_numpy()
        rho, rho_p = stats.spearmanr(x, y)
        r, r_p = stats.pearsonr(x, y)
        assert (row.n_points, row.n_sizes, row.note) == (12, 4, "")
        assert row.spearman_rho == pytest.approx(rho, abs=1e-12)
        assert row.spearman_p == pytest.approx(rho_p, abs=1e-12)
        assert row.pearson_r == pytest.approx(r, abs=1e-12)
        assert row.pearson_p == pytest.approx(r_p, abs=1e-12)
        assert row.zero_shot == pytest.approx(group.loc[group["size"] == 0, metric].mean())


def test_perfect_monotone_trend() -> None:
    records = [_record(size=n, recall_at_50=math.log10(n) / 10) for n in (10, 100, 1000)]
    row = _quiet_correlation(build_recall_table(records)).iloc[0]
    assert row.spearman_rho == pytest.approx(1.0) and row.pearson_r == pytest.approx(1.0)
    assert math.isnan(row.zero_shot)


@pytest.mark.parametrize(
    "records",
    [
        pytest.param([_record(size=100, seed=s, recall_at_50=0.1 * s) for s in range(4)], id="single-size"),
        pytest.param([_record(size=n, seed=s) for n in (10, 100) for s in range(3)], id="constant-metric"),
        pytest.param([_record(size=0, seed=s, recall_at_50=0.1 * s) for s in range(3)], id="zero-shot-only"),
        pytest.param(
            [_record(size=n, recall_at_50=0.1 * i) for i, n in enumerate((0, 10, 100))], id="two-points"
        ),
    ],
)
def test_degenerate_groups_give_nan_and_note(records: list[dict]) -> None:
    row = _quiet_correlation(build_recall_table(records)).iloc[0]
    for column in ("spearman_rho", "spearman_p", "pearson_r", "pearson_p"):
        assert math.isnan(row[column])
    assert row.note


def test_one_seed_per_size_is_fine() -> None:
    records = [_record(size=n, recall_at_50=v) for n, v in [(0, 0.1), (10, 0.2), (100, 0.4), (1000, 0.3)]]
    row = _quiet_correlation(build_recall_table(records)).iloc[0]
    assert (row.n_points, row.n_sizes, row.note) == (3, 3, "")
    assert row.spearman_rho == pytest.approx(0.5)
    assert row.zero_shot == pytest.approx(0.1)


def test_plot_writes_png(tmp_path: Path) -> None:
    table = _random_table()
    table = table[~((table["language"] == "sn") & (table["seed"] > 0))]  # one seed: zero error bars
    path = tmp_path / "recall.png"
    plot_recall_vs_n(table, path)
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_plot_zero_shot_only(tmp_path: Path) -> None:
    table = build_recall_table([_record(language=lang, size=0) for lang in ("ny", "sn")])
    path = tmp_path / "zero.png"
    plot_recall_vs_n(table, path)
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_write_tsv(tmp_path: Path) -> None:
    table = _quiet_correlation(build_recall_table([_record(size=0), _record(size=10)]))
    path = tmp_path / "corr.tsv"
    write_tsv(table, path)
    lines = path.read_text().splitlines()
    assert lines[0].split("\t") == list(table.columns)
    fields = dict(zip(lines[0].split("\t"), lines[1].split("\t")))
    assert fields["spearman_rho"] == "nan" and fields["zero_shot"] == "0.5"
    back = pd.read_csv(path, sep="\t")
    assert back["n_points"].tolist() == [1]
