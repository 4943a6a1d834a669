"""The recall table, the correlation table (per-seed statistics, against scipy), plots and TSV output."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from tests.analysis.synthetic import MINIMAL_COLUMNS, study

from swimscale.analysis import RECALL_COLUMNS, STATISTICS, Settings, build_recall_table, write_tsv
from swimscale.analysis._correlation import NO_QUERY_CI, correlation_table
from swimscale.analysis.report import plot_recall_vs_n

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LEVEL = Settings.of().level
SIZES = (0, 16, 64, 256, 1024, 4096)


def _record(language: str = "ny", method: str = "optical", size: int = 100, seed: int = 0, **kw: Any) -> dict:
    record = {
        "language": language, "benchmark": "swim", "method": method, "size": size, "seed": seed, "n_queries": 50,
        "recall_at_50": 0.5, "recall_at_100": 0.6, "ndcg_at_10": 0.3, "mrr_at_10": 0.25,
        "run_file": f"runs/{language}_{method}_{size}_{seed}.trec", "qrels_file": f"qrels/{language}.txt",
        "steps": size // 8, "examples_seen": size, "train_seconds": 1.5,
    }
    record.update(kw)
    return record


def _random_table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    records = [
        _record(language, method, size, s, recall_at_50=float(rng.uniform()), ndcg_at_10=float(rng.uniform()))
        for language in ("ny", "sn")
        for method in ("optical", "finetune")
        for size in SIZES
        for s in range(3)
    ]
    rng.shuffle(records)
    return build_recall_table(records)


def _quiet_correlation(table: pd.DataFrame, metric: str = "recall_at_50", **kw: Any) -> pd.DataFrame:
    """correlation_table, failing on any warning (degenerate input must be handled quietly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return correlation_table(table, metric, LEVEL, **{"n_boot": 0, "seed": 0, **kw})


def test_build_recall_table_order_and_columns() -> None:
    table = _random_table()
    assert list(table.columns) == RECALL_COLUMNS
    assert len(table) == 2 * 2 * len(SIZES) * 3
    keys = list(zip(table["language"], table["benchmark"], table["method"], table["size"], table["seed"]))
    assert keys == sorted(keys)


def test_build_recall_table_empty_duplicate_and_missing_key() -> None:
    assert build_recall_table([]).empty
    with pytest.raises(ValueError, match=r"language='ny'.*size=100, seed=1"):
        build_recall_table([_record(seed=1), _record(seed=2), _record(seed=1, recall_at_50=0.1)])
    record = _record()
    del record["examples_seen"]
    with pytest.raises(ValueError, match="examples_seen"):
        build_recall_table([_record(seed=1), record])


@pytest.mark.parametrize("metric", ["recall_at_50", "ndcg_at_10"])
def test_each_statistic_is_the_mean_of_scipys_per_seed_values(metric: str) -> None:
    table = _random_table(1)
    result = _quiet_correlation(table, metric)
    assert len(result) == 4 and (result["metric"] == metric).all()
    for row in result.itertuples():
        group = table[(table["language"] == row.language) & (table["method"] == row.method)]
        assert (row.n_points, row.n_sizes, row.n_seeds, row.t_df) == (15, 5, 3, 2)
        for statistic in STATISTICS:
            per_seed = []
            for _, seed_rows in group[group["size"] > 0].groupby("seed"):
                x = np.log10(seed_rows["size"].to_numpy(float)) * statistic.x_scale
                per_seed.append(statistic.reference(x, seed_rows[metric].to_numpy()))
            assert getattr(row, statistic.column) == pytest.approx(np.mean(per_seed), abs=1e-12)
            # Without run files the interval is the one-sample t interval of the seeds' values.
            lo, hi = stats.ttest_1samp(per_seed, 0.0).confidence_interval(LEVEL)
            if statistic.correlation:
                lo, hi = max(lo, -1), min(hi, 1)
            assert getattr(row, f"{statistic.name}_ci_low") == pytest.approx(lo, abs=1e-12)
            assert getattr(row, f"{statistic.name}_ci_high") == pytest.approx(hi, abs=1e-12)
        assert row.zero_shot == pytest.approx(group.loc[group["size"] == 0, metric].mean())


def test_too_few_sizes_give_nan_and_say_why() -> None:
    records = [_record(size=n, seed=s, recall_at_50=0.1 + 0.01 * i + 0.001 * s) for i, n in enumerate((0, 32, 128, 512)) for s in range(3)]
    row = _quiet_correlation(build_recall_table(records)).iloc[0]
    for statistic in STATISTICS:
        assert math.isnan(row[statistic.column]) and math.isnan(row[statistic.p_column])
    assert "only 3 trained size(s) (32, 128 and 512); a trend needs ≥ 5 distinct N > 0" in row.note


def test_constant_metric_leaves_correlations_undefined_but_not_the_slope() -> None:
    records = [_record(size=n, seed=s) for n in SIZES for s in range(3)]
    row = _quiet_correlation(build_recall_table(records)).iloc[0]
    assert math.isnan(row.spearman_rho) and "ρ undefined: the metric is constant within every seed" in row.note
    assert row.slope_per_doubling == 0.0


def test_one_seed_gives_estimates_without_intervals() -> None:
    records = [_record(size=n, recall_at_50=0.1 + 0.01 * math.log2(n + 1)) for n in SIZES]
    row = _quiet_correlation(build_recall_table(records)).iloc[0]
    assert row.spearman_rho == pytest.approx(1.0) and math.isnan(row.spearman_ci_low)
    assert "one seed: no interval (seeds are the replicates)" in row.note


def test_run_files_add_the_shared_query_part_and_the_zero_shot_ci() -> None:
    table, per_query, _ = study(sizes=SIZES, n_queries=200, seed=2)
    with_runs = _quiet_correlation(table, per_query=per_query, n_boot=300).iloc[0]
    without = _quiet_correlation(table[["language", "benchmark", "method", "size", "seed", "recall_at_50"]], n_boot=300).iloc[0]
    assert with_runs.resampled == "queries × seeds" and without.resampled == "seeds only"
    assert with_runs.slope_per_doubling == pytest.approx(without.slope_per_doubling)
    assert with_runs.slope_ci_high - with_runs.slope_ci_low >= without.slope_ci_high - without.slope_ci_low
    assert with_runs.zero_shot_ci_low < with_runs.zero_shot < with_runs.zero_shot_ci_high
    assert math.isnan(without.zero_shot_ci_low) and NO_QUERY_CI in without.note


def test_minimal_table_is_enough() -> None:
    table = _random_table(2)[MINIMAL_COLUMNS]
    result = _quiet_correlation(table, n_boot=100)
    assert len(result) == 4 and result["spearman_rho"].notna().all() and (result["n_queries"] == 0).all()


def test_plot_writes_png(tmp_path: Path) -> None:
    table = _random_table()
    table = table[~((table["language"] == "sn") & (table["seed"] > 0))]  # one seed: zero error bars
    path = tmp_path / "recall.png"
    plot_recall_vs_n(table, [path], LEVEL)
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_plot_zero_shot_only(tmp_path: Path) -> None:
    table = build_recall_table([_record(language=lang, size=0) for lang in ("ny", "sn")])
    path = tmp_path / "zero.png"
    plot_recall_vs_n(table, [path], LEVEL)
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_write_tsv(tmp_path: Path) -> None:
    table = _quiet_correlation(build_recall_table([_record(size=0), _record(size=10)]))
    path = tmp_path / "corr.tsv"
    write_tsv(table, path)
    lines = path.read_text().splitlines()
    assert lines[0].split("\t") == list(table.columns)
    fields = dict(zip(lines[0].split("\t"), lines[1].split("\t")))
    assert fields["spearman_rho"] == "nan" and fields["zero_shot"] == "0.5"
    assert pd.read_csv(path, sep="\t")["n_points"].tolist() == [1]


def _legend(fig) -> dict[str, Any]:
    handles, labels = fig.axes[0].get_legend_handles_labels()
    return dict(zip(labels, handles))


def test_plot_tells_methods_apart_and_draws_a_shared_zero_shot_once() -> None:
    from swimscale.analysis.report._plots import recall_vs_n_figure
    from tests.analysis.synthetic import study

    table, _, _ = study(sizes=SIZES, methods=("optical", "pooled"))
    legend = _legend(recall_vs_n_figure(table, LEVEL))
    optical, pooled = legend["optical: mean over seeds"], legend["pooled: mean over seeds"]
    assert optical.get_color() != pooled.get_color() and optical.get_marker() != pooled.get_marker()
    # One untrained student for both methods: one N = 0 line, not one per method.
    assert "untrained student, N = 0 (every method)" in legend
    assert not any(label.endswith(": untrained student, N = 0") for label in legend)
    zero = table.loc[table["size"] == 0, "recall_at_50"].iloc[0]
    assert legend["untrained student, N = 0 (every method)"].get_ydata()[0] == pytest.approx(zero)


def test_plot_draws_each_methods_own_zero_shot_where_they_differ() -> None:
    from swimscale.analysis.report._plots import recall_vs_n_figure

    table = _random_table()  # N = 0 drawn at random per method
    legend = _legend(recall_vs_n_figure(table, LEVEL))
    assert {"optical: untrained student, N = 0", "finetune: untrained student, N = 0"} <= set(legend)
    assert "untrained student, N = 0 (every method)" not in legend
