"""Pooled slopes per tier on common ground: CR2 with Bell–McCaffrey df, Welch's test, the ground itself.

CR2 is checked against a brute-force computation with the full dummy design and explicit hat matrix
(an independent path from the within-unit algebra of the code), and by its defining property
(unbiased under independent homoskedastic errors); Welch's test against scipy and statsmodels.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
from scipy import stats
from statsmodels.stats.oneway import anova_oneway
from tests.analysis.synthetic import saturating, study

from swimscale.analysis import Settings
from swimscale.analysis._cluster import cr2_slope, welch_test
from swimscale.analysis._correlation import correlation_table
from swimscale.analysis._tier_slopes import benchmark_family, common_ground, read_tiers, slopes_table

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


def _brute_force_cr2(data: pd.DataFrame) -> tuple[float, float, float]:
    """(slope, CR2 SE, Bell–McCaffrey df) from the full design matrix and its hat matrix."""
    dummies = pd.get_dummies(data["unit"]).to_numpy(float)
    X = np.column_stack([data["x"].to_numpy(float), dummies])
    y = data["y"].to_numpy(float)
    bread = np.linalg.inv(X.T @ X)
    beta = bread @ X.T @ y
    H = X @ bread @ X.T
    M = np.eye(len(y)) - H
    e = M @ y
    c = np.zeros(X.shape[1])
    c[0] = 1.0
    meat, columns = np.zeros((X.shape[1], X.shape[1])), []
    for cluster in data["language"].unique():
        rows = np.flatnonzero(data["language"].to_numpy() == cluster)
        block = np.eye(len(rows)) - H[np.ix_(rows, rows)]
        values, vectors = scipy.linalg.eigh(block)  # block is singular (fixed effects): pseudo-inverse root
        keep = values > 1e-9
        A = vectors[:, keep] @ np.diag(values[keep] ** -0.5) @ vectors[:, keep].T
        u = X[rows].T @ A @ e[rows]
        meat += np.outer(u, u)
        a = np.zeros(len(y))
        a[rows] = A @ X[rows] @ bread @ c
        columns.append(M @ a)
    V = bread @ meat @ bread
    G = np.column_stack(columns)
    gram = G.T @ G
    return float(beta[0]), float(math.sqrt(V[0, 0])), float(np.trace(gram) ** 2 / np.trace(gram @ gram))


@pytest.mark.parametrize("two_benchmarks", [False, True])
def test_cr2_equals_a_brute_force_computation(two_benchmarks: bool) -> None:
    data = _panel(1, two_benchmarks)
    ours = cr2_slope(data["y"], data["x"], data["unit"], data["language"], LEVEL)
    slope, se, df = _brute_force_cr2(data)
    assert ours.slope == pytest.approx(slope, rel=1e-10)
    assert ours.se == pytest.approx(se, rel=1e-8)
    assert ours.df == pytest.approx(df, rel=1e-8)
    q = stats.t.ppf(0.5 + LEVEL / 2, df)
    assert (ours.ci_low, ours.ci_high) == (pytest.approx(slope - q * se), pytest.approx(slope + q * se))


def test_cr2_is_unbiased_under_independent_errors() -> None:
    """CR2's defining property: E[V_CR2] = σ² / Σ x̃² when the errors are iid (CR1 is biased down)."""
    data = _panel(2)
    x_within = data["x"] - data.groupby("unit")["x"].transform("mean")
    truth = 0.01**2 / float((x_within**2).sum())
    rng = np.random.default_rng(3)
    variances = []
    for _ in range(400):
        y = data["x"] * 0.02 + rng.normal(0, 0.01, len(data))
        variances.append(cr2_slope(y, data["x"], data["unit"], data["language"], LEVEL).se ** 2)
    assert np.mean(variances) == pytest.approx(truth, rel=0.08)


def test_welch_test_equals_scipy_and_statsmodels() -> None:
    rng = np.random.default_rng(4)
    samples = [rng.normal(0, 1, 8), rng.normal(0.8, 2.5, 12), rng.normal(0.3, 0.7, 6)]
    means = [s.mean() for s in samples]
    variances = [s.var(ddof=1) / len(s) for s in samples]
    dfs = [len(s) - 1 for s in samples]
    f, df1, df2, p = welch_test(means[:2], variances[:2], dfs[:2])
    t = stats.ttest_ind(samples[0], samples[1], equal_var=False)
    assert f == pytest.approx(t.statistic**2) and p == pytest.approx(t.pvalue) and df2 == pytest.approx(t.df)
    f, df1, df2, p = welch_test(means, variances, dfs)
    reference = anova_oneway(samples, use_var="unequal", welch_correction=True)
    assert (f, df1, df2, p) == (
        pytest.approx(reference.statistic), pytest.approx(reference.df[0]), pytest.approx(reference.df[1]),
        pytest.approx(reference.pvalue),
    )


def test_benchmark_family() -> None:
    assert benchmark_family("xtreme-up-as", "as") == "xtreme-up"
    assert benchmark_family("clirmatrix-bn-en", "bn") == "clirmatrix-en"
    assert benchmark_family("bible-ny-en", "ny") == "bible-en"


def _tiered_study() -> tuple[pd.DataFrame, dict[str, str]]:
    """Every language follows the SAME saturating curve; tier 'deep' is swept to 65,536 and also has a
    second benchmark family, tier 'short' only to 4,096 (as the Indic languages stop at 5.8K)."""
    curve = lambda n: saturating(n, n0=200, alpha=0.9)  # noqa: E731
    tables, tiers = [], {}
    for i, code in enumerate(("aa", "bb", "cc", "dd", "ee", "ff")):
        deep = i < 3
        tiers[code] = "deep" if deep else "short"
        sizes = (0, 64, 256, 1024, 4096, 16384, 65536) if deep else (0, 64, 256, 1024, 4096)
        table, _, _ = study(languages=(code,), sizes=sizes, n_queries=400, seed=10 + i, curve=curve, seed_sd=0.005)
        table["benchmark"] = f"up-{code}"
        tables.append(table)
        if deep:
            other = table.copy()
            other["benchmark"] = f"cm-{code}-en"
            tables.append(other)
    return pd.concat(tables, ignore_index=True), tiers


def test_tiers_are_compared_on_common_ground() -> None:
    """Identical curves swept over different N ranges have different slopes; on the common ground
    (one family covering both tiers, N ≤ the smaller tier's largest N) they do not."""
    table, tiers = _tiered_study()
    trained = table[table["size"] > 0]
    ground, family, cap, note = common_ground(trained, tiers)
    assert (family, cap, note) == ("up", 4096.0, "")
    assert set(ground["benchmark"].str[:3]) == {"up-"} and ground["size"].max() == 4096
    result = slopes_table(table, None, tiers, LEVEL)
    pooled = result[result["scope"] == "tier"].set_index("tier")
    assert (pooled["max_size"] == 4096).all() and (pooled["benchmark"] == "up").all()
    naive = {t: cr2_slope(rows["recall_at_50"], np.log2(rows["size"]), rows["language"] + rows["benchmark"], rows["language"], LEVEL).slope
             for t, rows in trained.assign(tier=trained["language"].map(tiers)).groupby("tier")}
    assert abs(naive["deep"] - naive["short"]) > 0.005  # the artefact common ground removes
    assert abs(pooled.loc["deep", "slope"] - pooled.loc["short", "slope"]) < 0.003
    difference = result[result["scope"] == "tier_difference"].iloc[0]
    assert difference.p_value > 0.05 and difference.ci_method == "Welch F test of the tier slopes"


def test_tiers_are_never_compared_across_benchmark_families() -> None:
    """No family covers both tiers ('short' only on up-*, 'deep' moved to cm-*): the comparison stays
    within the family covering the most tiers, then languages, and the note names the tier left out."""
    table, tiers = _tiered_study()
    table = table[~((table["language"].map(tiers) == "deep") & table["benchmark"].str.startswith("up-"))]
    trained = table[table["size"] > 0]
    ground, family, cap, note = common_ground(trained, tiers)
    assert family == "up" and set(ground["language"].map(tiers)) == {"short"}
    assert note == "tier(s) deep not scored on up: left out of the tier comparison (one family only)"
    rows = slopes_table(table, None, tiers, LEVEL)
    assert set(rows.loc[rows["scope"] != "language", "benchmark"]) == {"up"}


def test_slopes_table_takes_language_rows_from_the_correlation_table() -> None:
    table, per_query, _ = study(languages=tuple(TIERS), sizes=(0, 16, 64, 256, 1024, 4096), n_queries=30)
    correlation = correlation_table(table, "recall_at_50", LEVEL, per_query, n_boot=50, seed=0)
    result = slopes_table(table, correlation, TIERS, LEVEL)
    assert list(result["scope"]) == ["language"] * 7 + ["tier", "tier", "all", "tier_difference"]
    lang = result[result["scope"] == "language"].iloc[0]
    assert lang.slope == pytest.approx(correlation.iloc[0]["slope_per_doubling"])
    assert lang.ci_method == "per-seed slopes, t(S − 1)"
    low = result[(result["scope"] == "tier") & (result["tier"] == "low")].iloc[0]
    trained = table[(table["size"] > 0) & table["language"].isin(["aa", "bb", "cc"])]
    expected = cr2_slope(trained["recall_at_50"], np.log2(trained["size"]), trained["language"], trained["language"], LEVEL)
    assert low.slope == pytest.approx(expected.slope) and low.se == pytest.approx(expected.se)
    assert np.isfinite(result[result["scope"] == "tier_difference"].iloc[0]["p_value"])


@pytest.mark.parametrize(
    "languages, tiers, scope, reason",
    [
        (("aa",), {}, "all", "1 language(s): a cluster-robust SE needs ≥ 3 languages"),
        (("aa",), {}, "tier_difference", "one tier (unknown): no difference between tiers to test"),
        (("aa", "bb", "dd"), TIERS, "tier", "a cluster-robust SE needs ≥ 3 languages"),
        (("aa", "bb", "dd"), TIERS, "tier_difference", "fewer than two tiers with a slope across languages and SE: no test"),
    ],
)
def test_degenerate_pools_give_nan_and_say_why(languages, tiers, scope, reason) -> None:
    table, _, _ = study(languages=languages, n_queries=20, sizes=(0, 16, 64, 256, 1024, 4096))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = slopes_table(table, None, tiers, LEVEL)
    row = result[result["scope"] == scope].iloc[0]
    assert math.isnan(row["p_value"]) and reason in row.note


def test_too_few_sizes_on_the_common_ground() -> None:
    table, _, _ = study(languages=("aa", "bb", "cc"), sizes=(0, 128, 512), n_queries=20)
    row = slopes_table(table, None, {}, LEVEL).query("scope == 'all'").iloc[0]
    assert math.isnan(row.slope) and "2 size(s) on the common ground: a slope across languages needs ≥ 3" in row.note


def test_read_tiers(tmp_path) -> None:
    assert read_tiers(None) == {} and read_tiers(tmp_path / "missing.tsv") == {}
    good = tmp_path / "languages.tsv"
    good.write_text("code\tname\ttier\nny\tChichewa\tlow\nsn\tShona\t\n")
    assert read_tiers(good) == {"ny": "low", "sn": "unknown"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("code\tname\nny\tChichewa\n")
    with pytest.raises(ValueError, match="'tier'"):
        read_tiers(bad)
