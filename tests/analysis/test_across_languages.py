"""The across-language tables: random-slope model (against statsmodels' formula API), the meta-analysis
cross-check, moderators and method contrasts, on planted studies and small hand-made tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests
from tests.analysis.planted import planted_study

from swimscale.analysis._across_languages import (
    ACROSS_COLUMNS,
    across_tables,
    disagreement,
    language_tiers,
    random_slope_fit,
    unit_slopes,
)
from swimscale.analysis._contrasts import CONTRAST_COLUMNS, contrasts_table
from swimscale.analysis._moderators import language_moderators, moderators_table

METRIC = "recall_at_50"


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    return planted_study(np.random.default_rng(7), n_languages=10, tau=0.01, beta=0.0)


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")
def test_random_slope_model_equals_statsmodels_formula_mixedlm(planted):
    trained = planted[planted["size"] > 0]
    ours = random_slope_fit(trained, METRIC, 0.95)
    data = trained.assign(x=np.log2(trained["size"]) - np.log2(trained["size"]).mean(), y=trained[METRIC])
    theirs = smf.mixedlm("y ~ x", data, groups=data["language"], re_formula="~x").fit(reml=True)
    assert ours["slope"] == pytest.approx(theirs.fe_params["x"], rel=1e-4)
    assert ours["se"] == pytest.approx(theirs.bse_fe["x"], rel=1e-3)
    assert ours["tau"] == pytest.approx(math.sqrt(theirs.cov_re.loc["x", "x"]), rel=1e-3)
    t = stats.t.ppf(0.975, 9)
    assert (ours["slope_low"], ours["slope_high"]) == pytest.approx((ours["slope"] - t * ours["se"], ours["slope"] + t * ours["se"]))
    half = stats.t.ppf(0.975, 8) * math.sqrt(ours["tau"] ** 2 + ours["se"] ** 2)
    assert (ours["pi_low"], ours["pi_high"]) == pytest.approx((ours["slope"] - half, ours["slope"] + half))


def test_across_table_meta_check_is_combine_effects_on_the_languages_own_slopes(planted):
    table, units = across_tables(planted.assign(tier="low"), {}, 0.95)
    assert list(table.columns) == ACROSS_COLUMNS and len(table) == 1  # one tier: no "all" row
    row = table.iloc[0]
    assert row["n_languages"] == 10 and row["n_seeds"] == 3 and row["n_sizes"] == 5 and row["family"] == "bench"
    for method in ("dl", "pm"):
        theirs = combine_effects(units["slope"].to_numpy(), units["se"].to_numpy() ** 2, method_re=method)
        assert row[f"meta_slope_{method}"] == pytest.approx(theirs.mean_effect_re, rel=1e-10)
        assert row[f"tau2_{method}"] == pytest.approx(max(theirs.tau2, 0.0), rel=1e-10)
    # each language's own slope: the mean of its per-seed least-squares slopes
    own = planted[(planted["language"] == "l03") & (planted["size"] > 0)]
    slopes = [np.polyfit(np.log2(g["size"]), g[METRIC], 1)[0] for _, g in own.groupby("seed")]
    unit = units[units["language"] == "l03"].iloc[0]
    assert unit["slope"] == pytest.approx(np.mean(slopes)) and unit["se"] == pytest.approx(np.std(slopes, ddof=1) / math.sqrt(3))
    zero = planted[(planted["language"] == "l03") & (planted["size"] == 0)][METRIC].mean()
    assert unit["zero_shot"] == pytest.approx(zero)
    # the mixed model and the meta-analysis agree here: no note
    assert row["note"] == "" and row["slope_low"] <= row["meta_slope_pm"] <= row["slope_high"]


def test_one_language_gives_no_across_language_answer_but_says_why():
    one = planted_study(np.random.default_rng(1), n_languages=1)
    table, units = across_tables(one, {"l00": "very-low"}, 0.95)
    row = table.iloc[0]
    assert row["tier"] == "very-low" and row["n_languages"] == 1
    for column in ("slope", "slope_low", "tau", "pi_low", "i2", "rmcorr"):
        assert math.isnan(row[column]), column
    assert "1 language(s): no across-language answer" in row["note"]
    assert len(units) == 1 and math.isfinite(units["slope"].iloc[0])


def test_tiers_give_one_row_each_and_all(planted):
    table, _ = across_tables(planted, {}, 0.95)  # the table's tier column: l00 very-low, l01 low, ...
    assert list(table["tier"]) == ["low", "very-low", "all"]
    assert list(table["n_languages"]) == [5, 5, 10]


def test_language_tiers_prefer_the_tables_column():
    table = pd.DataFrame({"language": ["a", "b", "c"], "tier": ["low", "", "nan"]})
    assert language_tiers(table, {"a": "high", "b": "mid"}) == {"a": "low", "b": "mid", "c": "unknown"}


def test_disagreement_is_said_only_beyond_the_intervals():
    row = {"slope": 0.02, "slope_low": 0.015, "slope_high": 0.025, "meta_slope_pm": 0.021, "meta_low_pm": 0.016,
           "meta_high_pm": 0.026}
    assert disagreement(row) == ""
    assert disagreement({**row, "meta_slope_pm": 0.03, "meta_low_pm": 0.027, "meta_high_pm": 0.033}).startswith(
        "mixed model and meta-analysis disagree")


def test_moderators_find_a_planted_moderator_and_say_why_when_too_few():
    data = planted_study(np.random.default_rng(4), n_languages=12, tau=0.005, beta=0.015)
    tier_of = language_tiers(data, {})
    _, units = across_tables(data, {}, 0.95)
    table = moderators_table(data, units, tier_of, 0.95)
    slope = table[(table["outcome"] == "slope")].set_index("moderator")
    assert set(slope.index) == {"tokenizer_fertility", "unk_rate", "tier", "zero_shot"}
    assert slope.loc["tokenizer_fertility", "ci_low"] > 0 and slope.loc["tokenizer_fertility", "share_explained"] > 0.5
    assert "zero_shot" not in set(table.loc[table["outcome"] == "zero_shot", "moderator"])
    few = moderators_table(data, units.iloc[:4], tier_of, 0.95)
    assert few["coefficient"].isna().all() and few["note"].str.contains("a meta-regression needs ≥ 5").all()


def test_moderator_values_from_the_table():
    table = pd.DataFrame({"language": ["a", "a", "b"], "mbert_pretraining": ["yes", "yes", "no"],
                          "joshi_class": ["2", "2", "nan"], "fertility": ["1.5", "1.5", "2.0"]})
    values = language_moderators(table, {"a": "low"})
    assert values.loc["a", "mbert_pretraining"] == 1 and values.loc["b", "mbert_pretraining"] == 0
    assert values.loc["a", "joshi_class"] == 2 and math.isnan(values.loc["b", "joshi_class"])
    assert values.loc["b", "tokenizer_fertility"] == 2.0 and "tier" not in values.columns  # joshi_class comes first
    assert list(language_moderators(table[["language"]], {"a": "low", "b": "high"})["tier"]) == [1.0, 3.0]


def test_method_contrasts_find_a_planted_difference_with_holm():
    data = planted_study(np.random.default_rng(5), n_languages=8, methods=("a_arm", "b_arm", "c_arm"), method_shift=0.02)
    table = contrasts_table(data, language_tiers(data, {}), 0.95)
    assert list(table.columns) == CONTRAST_COLUMNS and len(table) == 6  # 3 pairs × 2 tiers
    assert table["p_holm"].to_numpy() == pytest.approx(multipletests(table["p_value"], method="holm")[1])
    first = table[table["method_b"] != "c_arm"]
    assert (first["difference"] < -0.01).all() and (first["better"] == "b_arm").all()
    assert (first["ci_high_holm"] < 0).all() and (first["ci_high_holm"] >= first["ci_high"]).all()
    between = table[(table["method_a"] == "b_arm") & (table["method_b"] == "c_arm")]
    assert (between["better"] == "").all()  # b and c share the shift: no difference claimed
    assert contrasts_table(data[data["method"] == "a_arm"], {}, 0.95).empty


def test_a_contrast_of_one_language_keeps_its_seed_interval():
    data = planted_study(np.random.default_rng(6), n_languages=1, methods=("x", "y"), method_shift=0.0)
    row = contrasts_table(data, {}, 0.95).iloc[0]
    assert row["n_languages"] == 1 and row["df"] == 2 and row["note"] == "one language: its seeds' t interval"
    assert row["p_holm"] == pytest.approx(row["p_value"])


def test_unit_slopes_need_two_sizes_per_seed_and_two_seeds_for_an_se():
    rows = pd.DataFrame({"language": "a", "benchmark": "b", "tier": "t", "size": [16, 64, 16],
                         "seed": [0, 0, 1], METRIC: [0.1, 0.3, 0.2]})
    unit = unit_slopes(rows, rows, METRIC).iloc[0]
    assert unit["slope"] == pytest.approx(0.1) and unit["n_seeds"] == 1 and math.isnan(unit["se"])
    assert math.isnan(unit["zero_shot"])


def test_zero_shot_levels_get_binomial_variances_only_with_query_counts():
    from swimscale.analysis._moderators import _zero_variance

    units = pd.DataFrame({"language": ["a", "b"], "zero_shot": [0.2, 0.5]})
    recall = pd.DataFrame({"language": ["a", "b"], "n_queries": [100, 400]})
    assert _zero_variance(recall, units) == pytest.approx([0.2 * 0.8 / 100, 0.5 * 0.5 / 400])
    assert (_zero_variance(recall.drop(columns="n_queries"), units) == 0).all()
    assert (_zero_variance(recall.assign(n_queries=[100, None]), units) == 0).all()  # one missing: none
