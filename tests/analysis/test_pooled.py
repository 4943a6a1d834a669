"""Pooled slopes per tier: cluster-robust OLS against statsmodels computed here directly."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from tests.analysis.synthetic import study

from swimscale.analysis import Settings
from swimscale.analysis._correlation import correlation_table
from swimscale.analysis._pooled import cluster_slope, read_tiers, slopes_table, tier_difference

LEVEL = Settings.of().level

TIERS = {"aa": "low", "bb": "low", "cc": "low", "dd": "mid", "ee": "mid", "ff": "mid", "gg": "mid"}


def _panel(seed: int = 0, two_benchmarks: bool = False) -> pd.DataFrame:
    """Runs of 7 languages: y = language intercept + tier slope · log2 N + noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for code, tier in TIERS.items():
        intercept = rng.uniform(0.0, 0.2)
        slope = (0.01 if tier == "low" else 0.03) + rng.normal(0, 0.004)
        for bench in ("b1", "b2") if two_benchmarks and code in ("aa", "dd") else ("b1",):
            for size in (32, 128, 512, 2048):
                for s in range(3):
                    y = intercept + slope * math.log2(size) + rng.normal(0, 0.01)
                    rows.append({"language": code, "benchmark": bench, "size": size, "seed": s, "y": y, "tier": tier})
    frame = pd.DataFrame(rows)
    frame["x"] = np.log2(frame["size"])
    frame["unit"] = frame["language"] + "/" + frame["benchmark"]
    return frame


@pytest.mark.parametrize("two_benchmarks", [False, True])
def test_cluster_slope_equals_statsmodels(two_benchmarks: bool) -> None:
    data = _panel(1, two_benchmarks)
    ours = cluster_slope(data["y"], data["x"], data["unit"], data["language"], LEVEL)
    groups = pd.factorize(data["language"])[0]
    reference = smf.ols("y ~ x + C(unit)", data).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    assert ours["slope"] == pytest.approx(reference.params["x"], rel=1e-10)
    assert ours["se"] == pytest.approx(reference.bse["x"], rel=1e-10)
    lo, hi = reference.conf_int().loc["x"]
    assert (ours["ci_low"], ours["ci_high"]) == (pytest.approx(lo, rel=1e-10), pytest.approx(hi, rel=1e-10))
    assert ours["p_value"] == pytest.approx(reference.pvalues["x"], rel=1e-8)
    assert ours["df_den"] == len(TIERS) - 1 and ours["n_languages"] == len(TIERS)


def test_tier_difference_equals_statsmodels_wald_test() -> None:
    data = _panel(2)
    ours = tier_difference(data["y"], data["x"], data["unit"], data["language"], data["tier"])
    groups = pd.factorize(data["language"])[0]
    reference = smf.ols("y ~ x + x:C(tier) + C(unit)", data).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    names = [n for n in reference.params.index if n.startswith("x:C(tier)")]
    assert len(names) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = reference.wald_test(f"{names[0]} = 0", use_f=True, scalar=True)
    assert ours["stat"] == pytest.approx(float(test.statistic), rel=1e-8)
    assert ours["p_value"] == pytest.approx(float(test.pvalue), rel=1e-8)
    assert (ours["df_num"], ours["df_den"]) == (1, len(TIERS) - 1)
    assert ours["p_value"] < 0.01  # slopes 0.01 vs 0.03 per doubling


def test_slopes_table_rows_and_per_tier_fits() -> None:
    table, per_query, _ = study(languages=tuple(TIERS), sizes=(0, 32, 128, 512), n_queries=30)
    correlation = correlation_table(table, "recall_at_50", LEVEL, per_query, n_boot=50)
    result = slopes_table(table, correlation, TIERS, LEVEL)
    assert list(result["scope"]) == ["language"] * 7 + ["tier", "tier", "all", "tier_difference"]
    low = result[(result["scope"] == "tier") & (result["tier"] == "low")].iloc[0]
    trained = table[(table["size"] > 0) & table["language"].isin(["aa", "bb", "cc"])]
    units = trained["language"] + "/" + trained["benchmark"]
    expected = cluster_slope(trained["recall_at_50"], np.log2(trained["size"]), units, trained["language"], LEVEL)
    assert low.slope == pytest.approx(expected["slope"]) and low.se == pytest.approx(expected["se"])
    assert low.n_languages == 3
    lang = result[result["scope"] == "language"].iloc[0]
    assert lang.slope == pytest.approx(correlation.iloc[0]["slope_per_doubling"])
    assert np.isfinite(result[result["scope"] == "tier_difference"].iloc[0]["p_value"])


@pytest.mark.parametrize(
    "languages, tiers, scope, reason",
    [
        (("aa",), {}, "all", "one language"),
        (("aa",), {}, "tier_difference", "one tier"),
        (("aa", "bb"), {}, "tier_difference", "one tier"),
        (("aa", "bb", "dd"), TIERS, "tier_difference", "one language"),
        (("aa", "dd"), TIERS, "tier", "one language"),
    ],
)
def test_degenerate_pools_give_nan_and_note(languages, tiers, scope, reason) -> None:
    table, _, _ = study(languages=languages, n_queries=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = slopes_table(table, None, tiers, LEVEL)
    row = result[result["scope"] == scope].iloc[0]
    column = "p_value" if scope == "tier_difference" else "se"
    assert math.isnan(row[column]) and reason in row.note


def test_single_size_has_no_slope() -> None:
    table, _, _ = study(languages=("aa", "bb"), sizes=(0, 128), n_queries=20)
    row = slopes_table(table, None, {}, LEVEL).query("scope == 'all'").iloc[0]
    assert math.isnan(row.slope) and "single size" in row.note


def test_read_tiers(tmp_path) -> None:
    assert read_tiers(None) == {} and read_tiers(tmp_path / "missing.tsv") == {}
    good = tmp_path / "languages.tsv"
    good.write_text("code\tname\ttier\nny\tChichewa\tlow\nsn\tShona\t\n")
    assert read_tiers(good) == {"ny": "low", "sn": "unknown"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("code\tname\nny\tChichewa\n")
    with pytest.raises(ValueError, match="'tier'"):
        read_tiers(bad)
