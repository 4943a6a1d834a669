"""Every column of the method contrasts: the paired differences, each summary path (random effects,
one language, one seed) against statsmodels / scipy, Holm's columns against ``multipletests``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests
from tests.analysis.planted import planted_study

from swimscale.analysis._contrasts import CONTRAST_COLUMNS, _holm_columns, contrasts_table, language_differences

METRIC = "recall_at_50"
DIFF_COLUMNS = ["tier", "language", "d", "se", "n_seeds", "n_sizes", "n_pairs"]


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    data = planted_study(np.random.default_rng(21), n_languages=6, sizes=(1, 4, 16, 64), methods=("a", "b"),
                         method_shift=0.02, method_sd=0.01)
    return data.sample(frac=1.0, random_state=5).reset_index(drop=True)


def _by_hand(study: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    key = ["language", "benchmark", "size", "seed"]
    trained = study[study["size"] > 0]
    pairs = trained[trained["method"] == a].merge(trained[trained["method"] == b], on=key)
    pairs["d"] = pairs[f"{METRIC}_x"] - pairs[f"{METRIC}_y"]
    per_seed = pairs.groupby(["language", "seed"])["d"].mean()
    return per_seed.groupby("language").agg(["mean", "std", "count"])


def test_language_differences_are_the_seeds_mean_paired_differences(study):
    tier_of = {f"l{i:02d}": "zz" if i < 3 else "aa" for i in range(6)}  # the tiers' order is not the languages'
    data = study.assign(tier=[tier_of[c] for c in study["language"]])
    diffs = language_differences(data, "a", "b", METRIC)
    assert list(diffs.columns) == DIFF_COLUMNS and list(diffs["language"]) == [f"l{i:02d}" for i in range(6)]
    hand = _by_hand(study, "a", "b")
    assert diffs["d"].to_numpy() == pytest.approx(hand["mean"].to_numpy(), rel=1e-12)
    assert diffs["se"].to_numpy() == pytest.approx((hand["std"] / np.sqrt(3)).to_numpy(), rel=1e-12)
    assert list(diffs["tier"]) == ["zz"] * 3 + ["aa"] * 3
    assert list(diffs["n_seeds"]) == [3] * 6 and list(diffs["n_sizes"]) == [4] * 6 and list(diffs["n_pairs"]) == [12] * 6


@pytest.mark.parametrize("tier", ["aa", "zz"])
def test_each_tier_is_combine_effects_pm_with_a_hksj_t_interval(study, tier):
    tier_of = {f"l{i:02d}": "zz" if i < 3 else "aa" for i in range(6)}
    table = contrasts_table(study, tier_of, 0.95)
    assert list(table.columns) == CONTRAST_COLUMNS and list(table["tier"]) == ["aa", "zz"]
    row = table[table["tier"] == tier].iloc[0]
    assert (row["method_a"], row["method_b"], row["metric"]) == ("a", "b", METRIC)
    assert (row["n_languages"], row["n_seeds"], row["n_sizes"], row["n_pairs"], row["df"]) == (3, 3, 4, 36, 2)
    hand = _by_hand(study, "a", "b").loc[[c for c, t in tier_of.items() if t == tier]]
    theirs = combine_effects(hand["mean"].to_numpy(), (hand["std"] ** 2 / 3).to_numpy(), method_re="pm")
    half = stats.t.ppf(0.975, 2) * theirs.sd_eff_w_re_hksj
    assert row["difference"] == pytest.approx(theirs.mean_effect_re, rel=1e-10)
    assert row["se"] == pytest.approx(theirs.sd_eff_w_re_hksj, rel=1e-10)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((theirs.mean_effect_re - half, theirs.mean_effect_re + half), rel=1e-10)
    t = theirs.mean_effect_re / theirs.sd_eff_w_re_hksj
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), 2), rel=1e-8)
    assert row["note"] == ""
    # Holm over the two tiers: the smaller p at α/2, the other at α
    assert table["p_holm"].to_numpy() == pytest.approx(multipletests(table["p_value"], method="holm")[1])
    factor = 2 if row["p_value"] == table["p_value"].min() else 1
    assert row["holm_level"] == pytest.approx(1 - 0.05 / factor)
    half = stats.t.ppf(1 - 0.05 / factor / 2, 2) * row["se"]
    assert (row["ci_low_holm"], row["ci_high_holm"]) == pytest.approx((row["difference"] - half, row["difference"] + half))


def _runs(languages, seeds, d, method_b="b", sizes=(16, 64)):
    """Exact paired runs: method a at 0.5, method b at 0.5 − d[language][seed]."""
    rows = []
    for lang in languages:
        for s in seeds:
            for n in (0, *sizes):
                rows.append({"language": lang, "benchmark": f"bench-{lang}", "seed": s, "size": n, "method": "a", METRIC: 0.5})
                rows.append({"language": lang, "benchmark": f"bench-{lang}", "seed": s, "size": n, "method": method_b,
                             METRIC: 0.5 - (d[lang][s] if n else 0.3)})
    return pd.DataFrame(rows)


def test_one_seed_weighs_the_languages_equally_with_a_t_interval():
    d = {"x": [0.25], "y": [0.125], "z": [0.5], "w": [0.0625]}
    table = contrasts_table(_runs(list(d), [0], d), {}, 0.95)
    row = table.iloc[0]
    values = [0.25, 0.125, 0.5, 0.0625]
    test = stats.ttest_1samp(values, 0.0)
    low, high = test.confidence_interval(0.95)
    assert row["tier"] == "unknown" and row["n_languages"] == 4 and row["n_seeds"] == 1 and row["df"] == 3
    assert row["difference"] == pytest.approx(np.mean(values)) and row["se"] == pytest.approx(stats.sem(values))
    assert (row["ci_low"], row["ci_high"], row["p_value"]) == pytest.approx((low, high, test.pvalue))
    assert row["note"] == "no seed-level variances (one seed): languages weighted equally"


def test_a_language_with_identical_seeds_has_no_usable_variance():
    d = {"x": [0.25, 0.25], "y": [0.125, 0.375], "z": [0.5, 0.25]}  # x: SE 0
    row = contrasts_table(_runs(list(d), [0, 1], d), {}, 0.95).iloc[0]
    values = [0.25, 0.25, 0.375]
    assert row["difference"] == pytest.approx(np.mean(values)) and row["se"] == pytest.approx(stats.sem(values))
    assert row["note"] == "no seed-level variances (one seed): languages weighted equally" and row["df"] == 2


def test_one_language_keeps_its_seed_interval_and_one_seed_has_none():
    d = {"x": [0.25, 0.125, 0.5]}
    row = contrasts_table(_runs(["x"], [0, 1, 2], d), {"x": "high"}, 0.95).iloc[0]
    test = stats.ttest_1samp(d["x"], 0.0)
    assert row["tier"] == "high" and row["df"] == 2 and row["n_pairs"] == 6 and row["n_sizes"] == 2
    assert row["difference"] == pytest.approx(np.mean(d["x"])) and row["se"] == pytest.approx(stats.sem(d["x"]))
    assert (row["ci_low"], row["ci_high"], row["p_value"]) == pytest.approx((*test.confidence_interval(0.95), test.pvalue))
    assert row["note"] == "one language: its seeds' t interval"
    one = contrasts_table(_runs(["x"], [0], {"x": [0.25]}), {}, 0.95).iloc[0]
    assert one["note"] == "one language with one seed: no interval" and one["df"] == 0 and one["difference"] == 0.25
    assert math.isnan(one["se"]) and math.isnan(one["ci_low"]) and math.isnan(one["p_value"]) and math.isnan(one["p_holm"])
    assert math.isnan(one["ci_low_holm"]) and math.isnan(one["ci_high_holm"]) and one["better"] == ""


def test_rows_without_a_p_value_stay_out_of_holms_family():
    d = {"v": [0.25], "x": [0.25, 0.125, 0.5], "y": [0.3, 0.2, 0.4], "z": [0.1, 0.2, 0.3]}
    data = pd.concat([_runs(["v"], [0], d), _runs(["x", "y", "z"], [0, 1, 2], d)])
    table = contrasts_table(data, {"v": "a-tier", "x": "b-tier", "y": "b-tier", "z": "b-tier"}, 0.95)
    first, second = table.iloc[0], table.iloc[1]
    assert first["tier"] == "a-tier" and math.isnan(first["p_holm"]) and first["better"] == ""
    assert math.isnan(first["ci_low_holm"]) and math.isnan(first["ci_high_holm"])
    assert second["p_holm"] == pytest.approx(second["p_value"]) and second["holm_level"] == pytest.approx(0.95)
    assert (second["ci_low_holm"], second["ci_high_holm"]) == pytest.approx((second["ci_low"], second["ci_high"]))
    assert second["ci_low_holm"] > 0 and second["better"] == "a"


def test_size_zero_missing_values_and_unpaired_runs_are_left_out():
    d = {"x": [0.25, 0.125], "y": [0.5, 0.25]}
    data = _runs(["x", "y"], [0, 1], d, sizes=(1, 4))
    extra = pd.DataFrame([
        {"language": "x", "benchmark": "bench-x", "seed": 0, "size": 16, "method": "a", METRIC: math.nan},
        {"language": "x", "benchmark": "bench-x", "seed": 0, "size": 16, "method": "b", METRIC: 0.1},
        {"language": "x", "benchmark": "bench-x", "seed": 2, "size": 1, "method": "a", METRIC: 0.9},
    ])
    diffs = language_differences(pd.concat([data, extra]).assign(tier="t"), "a", "b", METRIC)
    assert list(diffs["n_pairs"]) == [4, 4] and list(diffs["n_sizes"]) == [2, 2] and list(diffs["n_seeds"]) == [2, 2]
    assert diffs["d"].to_numpy() == pytest.approx([0.1875, 0.375])
    assert diffs["se"].to_numpy() == pytest.approx([0.0625, 0.125])


def test_a_language_with_one_pair_and_methods_that_never_pair():
    data = _runs(["x"], [0], {"x": [0.25]}, sizes=(16,)).assign(tier="t")
    diffs = language_differences(data, "a", "b", METRIC)
    assert list(diffs["tier"]) == ["t"] and diffs["n_pairs"].iloc[0] == 1
    apart = pd.concat([_runs(["x"], [0], {"x": [0.25]}), _runs(["y"], [0], {"y": [0.25]}, method_b="c")])
    apart = apart[~((apart["language"] == "x") & (apart["method"] == "a"))]
    assert list(language_differences(apart.assign(tier="t"), "b", "c", METRIC).columns) == DIFF_COLUMNS
    table = contrasts_table(apart, {}, 0.95)
    assert list(table.columns) == CONTRAST_COLUMNS and list(zip(table["method_a"], table["method_b"])) == [("a", "c")]


def _holm_input(p_values, signs):
    df = 10
    t = [stats.t.isf(p / 2, df) for p in p_values]
    return pd.DataFrame({"method_a": "a", "method_b": "b", "difference": [s * v for s, v in zip(signs, t)], "se": 1.0,
                         "df": df, "p_value": p_values})


def test_better_needs_the_holm_adjusted_p_value_below_alpha():
    # 0.04 alone would pass at α, but the step-down stops at 0.03 (0.06 > 0.05): no winner, though its
    # Holm-level interval (the plain 95 % one) excludes 0
    table = _holm_columns(_holm_input([0.03, 0.04], [1, -1]), 0.95)
    assert table["p_holm"].to_numpy() == pytest.approx([0.06, 0.06])
    assert table["holm_level"].to_numpy() == pytest.approx([0.975, 0.95])
    assert table["ci_high_holm"].iloc[1] < 0 and list(table["better"]) == ["", ""]
    table = _holm_columns(_holm_input([0.001, 0.02, 0.3], [1, -1, 1]), 0.95)
    assert table["p_holm"].to_numpy() == pytest.approx(multipletests([0.001, 0.02, 0.3], method="holm")[1])
    assert list(table["better"]) == ["a", "b", ""]
    t = stats.t.ppf(1 - 0.05 / 3 / 2, 10)
    assert (table["ci_low_holm"].iloc[0], table["ci_high_holm"].iloc[0]) == pytest.approx(
        (table["difference"].iloc[0] - t, table["difference"].iloc[0] + t))


def test_an_adjusted_p_value_of_exactly_alpha_names_no_winner():
    # 2 × α/2 = α exactly (α = 1 − 0.95 in floating point): the second row's own interval excludes 0,
    # but p_holm = α is not below α
    alpha = 1 - 0.95
    table = _holm_columns(_holm_input([alpha / 2, 0.03], [1, 1]), 0.95)
    assert list(table["p_holm"]) == [alpha, alpha] and table["ci_low_holm"].iloc[1] > 0
    assert table["better"].iloc[1] == ""
