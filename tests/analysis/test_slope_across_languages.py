"""The slope across languages (analysis/_tier_slopes.py, analysis/_cluster.py), number by number.

Every slope is held to statsmodels' OLS with one dummy per language × benchmark (fixed effects), and
its CR2 standard error and Bell–McCaffrey df to a brute-force computation with the full design and
hat matrix; on panels with unequal size sets per benchmark, several benchmarks per language, N = 0
runs and missing values (which the slope must leave out) and tiers swept over different N ranges.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import statsmodels.formula.api as smf
from scipy import stats

from swimscale.analysis._cluster import cr2_slope, welch_test
from swimscale.analysis._tier_slopes import (
    CLUSTER_METHOD,
    SEED_METHOD,
    UNKNOWN_TIER,
    WELCH_METHOD,
    benchmark_family,
    common_ground,
    read_tiers,
    slope_across_languages,
    slopes_table,
    tier_difference,
)

pytestmark = pytest.mark.filterwarnings("error")  # no warning on any of these inputs (a sqrt of a negative rounding error would warn)

LEVEL = 0.9  # not the default 0.95: a level dropped on the way would show
METRIC = "ndcg_at_10"  # not the default metric: the column is read by name
TIERS = {"aa": "low", "bb": "low", "cc": "low", "dd": "mid", "ee": "mid", "ff": "mid", "gg": "mid"}
# Each language's benchmarks (one family, "up", named by the benchmark_family column) with their own sizes.
SIZE_SETS = [(1, 16, 64, 256, 1024), (32, 128, 512), (16, 128, 1024, 4096, 8192)]  # N = 1: log2 N = 0


def _panel(seed: int = 0, tiers: dict[str, str] = TIERS) -> pd.DataFrame:
    """Runs of every language of ``tiers``: 1 to 3 benchmarks each, unequal size sets, 2-3 seeds, N = 0
    runs, one run without a value; y = unit intercept + language slope · log2 N + noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, (code, tier) in enumerate(tiers.items()):
        slope = (0.01 if tier == "low" else 0.03) + rng.normal(0, 0.006)
        for b in range(1 + i % 3):
            intercept = rng.uniform(0.0, 0.3)
            for size in (0, *SIZE_SETS[(i + b) % 3]):
                for s in range(2 + (i + b) % 2):
                    y = intercept + slope * math.log2(max(size, 1)) + rng.normal(0, 0.02)
                    rows.append({"method": "m", "language": code, "benchmark": f"up{b}-{code}", "benchmark_family": "up",
                                 "size": size, "seed": s, METRIC: y, "recall_at_50": rng.uniform()})
    table = pd.DataFrame(rows)
    table.loc[(table["language"] == "bb") & (table["size"] == 64), METRIC] = np.nan
    return table


def _trained(table: pd.DataFrame) -> pd.DataFrame:
    return table[(table["size"] > 0) & table[METRIC].notna()].reset_index(drop=True)


def _brute_force(data: pd.DataFrame) -> tuple[float, float, float]:
    """(slope, CR2 SE, Bell–McCaffrey df) by the textbook route: full dummy design, explicit hat matrix,
    A_g = (I − H_gg)^(−1/2) by scipy's eigendecomposition, G's columns M a_g."""
    units = (data["language"] + "/" + data["benchmark"]).to_numpy()
    X = np.column_stack([np.log2(data["size"].to_numpy(float)), pd.get_dummies(units).to_numpy(float)])
    y = data[METRIC].to_numpy(float)
    bread = np.linalg.inv(X.T @ X)
    H = X @ bread @ X.T
    M = np.eye(len(y)) - H
    e = M @ y
    meat, columns = np.zeros((X.shape[1],) * 2), []
    for cluster in data["language"].unique():
        rows = np.flatnonzero(data["language"].to_numpy() == cluster)
        values, vectors = scipy.linalg.eigh(np.eye(len(rows)) - H[np.ix_(rows, rows)])
        keep = values > 1e-9
        A = vectors[:, keep] @ np.diag(values[keep] ** -0.5) @ vectors[:, keep].T
        u = X[rows].T @ A @ e[rows]
        meat += np.outer(u, u)
        a = np.zeros(len(y))
        a[rows] = A @ X[rows] @ bread[:, 0]
        columns.append(M @ a)
    G = np.column_stack(columns)
    gram = G.T @ G
    beta = bread @ X.T @ y
    return float(beta[0]), math.sqrt((bread @ meat @ bread)[0, 0]), float(np.trace(gram) ** 2 / np.trace(gram @ gram))


def _ols_slope(data: pd.DataFrame) -> float:
    frame = data.assign(x=np.log2(data["size"].astype(float)), unit=data["language"] + "/" + data["benchmark"],
                        y=data[METRIC])
    return float(smf.ols("y ~ x + C(unit)", frame).fit().params["x"])


def _assert_row(row, data: pd.DataFrame) -> None:
    slope, se, df = _brute_force(data)
    q = stats.t.ppf(0.5 + LEVEL / 2, df)
    assert row["slope"] == pytest.approx(_ols_slope(data), rel=1e-9) == pytest.approx(slope, rel=1e-9)
    assert row["se"] == pytest.approx(se, rel=1e-7)
    assert row["df_den"] == pytest.approx(df, rel=1e-7)
    assert row["ci_low"] == pytest.approx(slope - q * se, rel=1e-7)
    assert row["ci_high"] == pytest.approx(slope + q * se, rel=1e-7)
    assert row["stat"] == pytest.approx(slope / se, rel=1e-7)
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(slope / se), df), rel=1e-6)
    assert math.isnan(row["df_num"])
    assert (row["n_points"], row["n_languages"], row["n_sizes"]) == (
        len(data), data["language"].nunique(), data["size"].nunique())


def test_the_slope_of_all_languages_equals_ols_with_fixed_effects_and_brute_force_cr2() -> None:
    """Unequal size sets per benchmark, up to three benchmarks per language, N = 0 runs and a missing
    value (both left out), one tier: the row equals the references on the trained runs."""
    table = _panel(1, dict.fromkeys(TIERS, "one"))
    result = slopes_table(table, None, dict.fromkeys(TIERS, "one"), LEVEL, metric=METRIC)
    assert list(result["scope"]) == ["tier", "all", "tier_difference"]
    row = result.set_index("scope").loc["all"]
    _assert_row(row, _trained(table))
    assert (row["method"], row["metric"], row["benchmark"], row["max_size"], row["ci_method"]) == (
        "m", METRIC, "up", 8192.0, CLUSTER_METHOD)
    assert row["note"] == "" and row["language"] == "" and row["tier"] == ""


def test_each_tier_equals_the_references_on_the_common_ground() -> None:
    """Tier 'low' is swept only to 1,024: both tiers and 'all' are fitted on N ≤ 1,024."""
    table = _panel(2)
    low = table["language"].map(TIERS) == "low"
    table = table[~low | (table["size"] <= 1024)]
    result = slopes_table(table, None, TIERS, LEVEL, metric=METRIC)
    trained = _trained(table)
    ground = trained[trained["size"] <= 1024]
    for scope, tier, codes in (("tier", "low", "abc"), ("tier", "mid", "defg"), ("all", "", "abcdefg")):
        row = result[(result["scope"] == scope) & (result["tier"] == tier)].iloc[0]
        _assert_row(row, ground[ground["language"].str[0].isin(list(codes))].reset_index(drop=True))
        assert row["max_size"] == 1024.0
    slopes = result[result["scope"] == "tier"]
    f, df1, df2, p = welch_test(slopes["slope"], slopes["se"] ** 2, slopes["df_den"])
    test = result[result["scope"] == "tier_difference"].iloc[0]
    # two tiers: Welch's F is the square of the Welch–Satterthwaite t of the two slopes
    (b1, b2), (v1, v2), (n1, n2) = slopes["slope"], slopes["se"] ** 2, slopes["df_den"]
    t = (b1 - b2) / math.sqrt(v1 + v2)
    nu = (v1 + v2) ** 2 / (v1**2 / n1 + v2**2 / n2)
    assert test["stat"] == pytest.approx(t**2) and test["df_den"] == pytest.approx(nu) and test["df_num"] == 1
    assert test["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), nu))
    assert (test["n_points"], test["n_languages"], test["n_sizes"]) == (
        len(ground), 7, slopes["n_sizes"].max())
    assert test["ci_method"] == WELCH_METHOD and test["note"] == "" and math.isnan(test["slope"])


def test_three_tiers_welch_f() -> None:
    rows = tier_difference([
        {"tier": t, "slope": b, "se": s, "df_den": d, "n_points": 10, "n_languages": 3, "n_sizes": k}
        for t, b, s, d, k in (("a", 0.01, 0.004, 3.0, 4), ("b", 0.03, 0.002, 5.0, 6), ("c", 0.02, 0.01, 2.5, 5))
    ])
    w = 1 / np.array([0.004, 0.002, 0.01]) ** 2
    b = np.array([0.01, 0.03, 0.02])
    mean = (w * b).sum() / w.sum()
    lam = ((1 - w / w.sum()) ** 2 / np.array([3.0, 5.0, 2.5])).sum()
    f = (w * (b - mean) ** 2).sum() / 2 / (1 + 2 * lam / 8)
    assert rows["stat"] == pytest.approx(f) and rows["df_den"] == pytest.approx(8 / (3 * lam))
    assert rows["p_value"] == pytest.approx(stats.f.sf(f, 2, 8 / (3 * lam)))
    assert (rows["n_points"], rows["n_languages"], rows["n_sizes"]) == (30, 9, 6)
    assert rows["df_num"] == 2 and rows["note"] == ""


def test_a_tier_without_an_se_is_left_out_of_the_test_and_named() -> None:
    good = {"n_points": 8, "n_languages": 3, "n_sizes": 4, "df_den": 4.0}
    rows = [
        {**good, "tier": "a", "slope": 0.01, "se": 0.004},
        {**good, "tier": "b", "slope": 0.03, "se": 0.002},
        {**good, "tier": "c", "slope": 0.02, "se": math.nan},
        {**good, "tier": "d", "slope": 0.02, "se": 0.0},
    ]
    test = tier_difference(rows)
    assert test["stat"] == pytest.approx(welch_test([0.01, 0.03], [0.004**2, 0.002**2], [4.0, 4.0])[0])
    assert test["note"] == "tier(s) c and d without an SE left out"
    one = tier_difference([rows[0], rows[2]])
    assert math.isnan(one["p_value"]) and one["note"] == "fewer than two tiers with a slope across languages and SE: no test"
    alone = tier_difference([rows[1]])
    assert alone["note"] == "one tier (b): no difference between tiers to test" and alone["n_sizes"] == 4
    none = tier_difference([])
    assert none["note"] == "one tier (none): no difference between tiers to test" and none["n_sizes"] == 0


@pytest.mark.parametrize("n_languages, n_sizes, note", [
    (3, 3, ""),
    (2, 3, "2 language(s): a cluster-robust SE needs ≥ 3 languages"),
    (3, 2, "2 size(s) on the common ground: a slope across languages needs ≥ 3"),
])
def test_the_minimum_languages_and_sizes(n_languages: int, n_sizes: int, note: str) -> None:
    table = _panel(3, dict.fromkeys(list(TIERS)[:n_languages], "one"))
    table = table[table["size"].isin((16, 32, 64, 128, 256, 512)[: 2 * n_sizes])]
    table = table[table["size"].isin(sorted(table["size"].unique())[:n_sizes])]
    data = _trained(table)
    row = slope_across_languages(data, METRIC, LEVEL)
    assert row["note"] == note and row["n_sizes"] == n_sizes and row["n_languages"] == n_languages
    assert math.isnan(row["max_size"]) and row["ci_method"] == CLUSTER_METHOD
    assert row["n_points"] == len(data)
    if note:
        assert all(math.isnan(row[k]) for k in ("slope", "se", "ci_low", "ci_high", "p_value", "stat", "df_den"))
    else:
        _assert_row(row, data)


def test_a_zero_se_gives_no_statistic() -> None:
    """A metric constant within each unit: slope 0 with SE exactly 0, so no t statistic and no p-value."""
    rows = [{"language": c, "benchmark": "up", "size": n, METRIC: 0.25 * i}
            for i, c in enumerate("xyz") for n in (16, 64, 256, 1024)]
    row = slope_across_languages(pd.DataFrame(rows), METRIC, LEVEL)
    assert (row["slope"], row["se"]) == (0.0, 0.0)
    assert math.isnan(row["stat"]) and math.isnan(row["p_value"]) and row["note"] == ""


def test_common_ground_picks_the_family_of_most_tiers_then_languages_and_caps_n() -> None:
    rows = []
    for code, tier, family, top in (("aa", "low", "up", 1024), ("bb", "mid", "up", 4096), ("cc", "mid", "cm", 8192),
                                    ("dd", "mid", "cm", 8192), ("ee", "low", "zz", 512), ("ff", "mid", "zz", 2048)):
        for n in (16, 64, 256, 512, 1024, 2048, 4096, 8192):
            if n <= top:
                rows.append({"language": code, "benchmark": f"{family}-{code}", "size": n, "seed": 0, METRIC: 0.1})
    trained = pd.DataFrame(rows)
    tiers = {"aa": "low", "bb": "mid", "cc": "mid", "dd": "mid", "ee": "low", "ff": "mid"}
    # up and zz both cover both tiers with two languages: the tie goes to the later name, zz
    ground, family, cap, note = common_ground(trained, tiers)
    assert (family, cap, note) == ("zz", 512.0, "")
    assert set(ground["language"]) == {"ee", "ff"} and ground["size"].max() == 512
    assert list(ground["tier"]) == [tiers[c] for c in ground["language"]]
    # one more language in up: up covers the same tiers with more languages
    more = pd.concat([trained, trained[trained["language"] == "bb"].assign(language="gg", benchmark="up-gg")])
    ground, family, cap, note = common_ground(more, {**tiers, "gg": "mid"})
    assert (family, cap, note) == ("up", 1024.0, "") and set(ground["language"]) == {"aa", "bb", "gg"}
    # cm has more languages than zz but only one tier; a language without a tier is 'unknown'
    ground, family, cap, note = common_ground(trained, {k: v for k, v in tiers.items() if k != "aa"})
    assert family == "zz" and note == "tier(s) unknown not scored on zz: left out of the tier comparison (one family only)"
    assert (common_ground(trained.iloc[:0], tiers)[1:3]) == ("", pytest.approx(math.nan, nan_ok=True))


def test_the_benchmark_family_column_wins_over_the_name() -> None:
    table = _panel(4, dict.fromkeys(TIERS, "one"))
    table["benchmark_family"] = np.where(table["benchmark"].str.startswith("up0"), "first", "other")
    result = slopes_table(table, None, dict.fromkeys(TIERS, "one"), LEVEL, metric=METRIC)
    row = result.set_index("scope").loc["all"]
    assert row["benchmark"] == "first"
    _assert_row(row, _trained(table[table["benchmark_family"] == "first"]))


def test_language_rows_copy_the_correlation_table() -> None:
    table = _panel(5)
    correlation = pd.DataFrame([
        {"method": "m", "metric": METRIC, "language": "aa", "benchmark": "up0-aa", "n_points": 11, "n_sizes": 4,
         "slope_per_doubling": 0.012, "slope_ci_low": 0.002, "slope_ci_high": 0.022, "slope_p": 0.03, "t_df": 2.0,
         "note": "own note"},
        {"method": "m", "metric": "recall_at_50", "language": "bb", "benchmark": "up0-bb", "n_points": 9, "n_sizes": 3,
         "slope_per_doubling": 0.5, "slope_ci_low": 0.4, "slope_ci_high": 0.6, "slope_p": 0.01, "t_df": 2.0, "note": ""},
        {"method": "other", "metric": METRIC, "language": "cc", "benchmark": "up0-cc", "n_points": 9, "n_sizes": 3,
         "slope_per_doubling": 0.5, "slope_ci_low": 0.4, "slope_ci_high": 0.6, "slope_p": 0.01, "t_df": 2.0, "note": ""},
        {"method": "m", "metric": METRIC, "language": "zz", "benchmark": "up0-zz", "n_points": 5, "n_sizes": 3,
         "slope_per_doubling": 0.1, "slope_ci_low": 0.0, "slope_ci_high": 0.2, "slope_p": 0.5, "t_df": 1.0, "note": ""},
    ])
    result = slopes_table(table, correlation, TIERS, LEVEL, metric=METRIC)
    own = result[result["scope"] == "language"]
    assert list(own["language"]) == ["aa", "zz"] and list(own["tier"]) == ["low", UNKNOWN_TIER]
    aa = own.iloc[0]
    assert (aa["benchmark"], aa["n_languages"], aa["n_points"], aa["n_sizes"], aa["slope"], aa["ci_low"], aa["ci_high"],
            aa["p_value"], aa["df_den"], aa["note"], aa["ci_method"], aa["metric"], aa["method"]) == (
        "up0-aa", 1, 11, 4, 0.012, 0.002, 0.022, 0.03, 2.0, "own note", SEED_METHOD, METRIC, "m")
    assert all(math.isnan(aa[k]) for k in ("se", "stat", "df_num", "max_size"))


def test_methods_are_fitted_apart() -> None:
    one = _panel(6, dict.fromkeys(TIERS, "one"))
    two = one.assign(method="a", **{METRIC: one[METRIC] * 2})
    result = slopes_table(pd.concat([one.assign(method="b"), two]), None, {}, LEVEL, metric=METRIC)
    assert list(result["method"]) == ["a"] * 3 + ["b"] * 3  # sorted by method, whatever the table's order
    rows = result[result["scope"] == "all"].set_index("method")
    assert rows.loc["a", "slope"] == pytest.approx(2 * rows.loc["b", "slope"])
    assert rows.loc["b", "slope"] == pytest.approx(_ols_slope(_trained(one)))
    assert list(result.columns)[:3] == ["method", "metric", "scope"] and set(result["tier"]) == {UNKNOWN_TIER, ""}


def test_read_tiers_strips_keeps_na_words_and_skips_comments(tmp_path) -> None:
    path = tmp_path / "languages.tsv"
    path.write_text("# languages\ncode\tname\ttier\n na \tNA language\t mid \nnan\tx\tNA\n")
    assert read_tiers(path) == {"na": "mid", "nan": "NA"}
    assert read_tiers(str(path)) == {"na": "mid", "nan": "NA"}
    commas = tmp_path / "commas.tsv"  # tab-separated even where every line has as many commas
    commas.write_text("code\tname, in English\ttier\nny\tChichewa, Nyanja\tlow\nsn\tShona, chiShona\tmid\n")
    assert read_tiers(commas) == {"ny": "low", "sn": "mid"}
    numbered = tmp_path / "numbered.tsv"
    numbered.write_text("code\ttier\n1\t2\nxx\t0\n")  # numbers are read as words
    assert read_tiers(numbered) == {"1": "2", "xx": "0"}
    nocode = tmp_path / "nocode.tsv"
    nocode.write_text("name\ttier\nx\tlow\n")
    with pytest.raises(ValueError, match=r"no column 'code' \(columns: name, tier\)"):
        read_tiers(nocode)


def test_the_common_grounds_note_reaches_the_tier_and_all_rows() -> None:
    """A tier not scored on the chosen family is named in the note of every tier row and the all row."""
    table = _panel(7)
    table["benchmark_family"] = np.where(table["language"].map(TIERS) == "low", "other", "up")
    result = slopes_table(table, None, TIERS, LEVEL, metric=METRIC)
    said = "tier(s) low not scored on up: left out of the tier comparison (one family only)"
    low, mid, everything = (result[(result["scope"] == s) & (result["tier"] == t)].iloc[0]
                            for s, t in (("tier", "low"), ("tier", "mid"), ("all", "")))
    assert low.note == "0 size(s) on the common ground: a slope across languages needs ≥ 3; " + said
    assert mid.note == said and everything.note == said
    _assert_row(everything, _trained(table[table["benchmark_family"] == "up"]))


def test_a_benchmark_named_as_its_language_is_its_own_family() -> None:
    assert benchmark_family("ny", "ny") == "ny"
    assert benchmark_family("ny-ny", "ny") == "ny-ny"
