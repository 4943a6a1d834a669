"""Every column of the across-language table and of the languages' own slopes, pinned against a library
that computes the same thing (statsmodels' MixedLM, combine_effects and OLS), and every note."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from tests.analysis.planted import planted_study

from swimscale.analysis import _across_languages as across
from swimscale.analysis._across_languages import (
    ACROSS_COLUMNS,
    UNIT_COLUMNS,
    across_tables,
    disagreement,
    meta_check,
    random_slope_fit,
    unit_slopes,
)

METRIC = "recall_at_50"
SIZES = (1, 4, 16, 64, 256)  # N = 1 is a trained size (only N = 0 is left out)


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    """Two methods named against their order of appearance, two tiers, rows shuffled."""
    data = planted_study(np.random.default_rng(11), n_languages=8, sizes=SIZES, methods=("zeta", "alpha"),
                         method_shift=0.01, seed_sd=0.004)
    return data.sample(frac=1.0, random_state=3).reset_index(drop=True)


@pytest.fixture(scope="module")
def correlation(study) -> pd.DataFrame:
    """A correlation table: Spearman's ρ per method × language × benchmark, another metric beside it, one ρ missing."""
    rng = np.random.default_rng(2)
    units = study[["method", "language", "benchmark"]].drop_duplicates().sort_values(["method", "language"])
    main = units.assign(metric=METRIC, spearman_rho=rng.uniform(0.2, 0.9, len(units)))
    main.loc[(main["method"] == "alpha") & (main["language"] == "l03"), "spearman_rho"] = math.nan
    other = units.assign(metric="ndcg_at_10", spearman_rho=-1.0)
    return pd.concat([main, other], ignore_index=True)


@pytest.fixture
def tables(study, correlation):  # per test: mutation testing maps each function to the tests that call it
    zeta_first = study.sort_values("method", ascending=False, kind="stable")  # rows not in the methods' order
    return across_tables(zeta_first, {}, 0.95, correlation)


def _mixedlm(part: pd.DataFrame):
    x = np.log2(part["size"].to_numpy(dtype=float))
    data = part.assign(x=x - x.mean(), y=part[METRIC], g=part["language"] + "/" + part["benchmark"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return smf.mixedlm("y ~ x", data, groups=data["g"], re_formula="~x").fit(reml=True), float(x.mean())


def _rmcorr_by_ols(part: pd.DataFrame) -> tuple[float, float, float, float, float]:
    points = part.groupby(["language", "benchmark", "size"])[METRIC].mean().reset_index()
    points = points.assign(x=np.log10(points["size"]), y=points[METRIC], u=points["language"] + "/" + points["benchmark"])
    ols = smf.ols("y ~ C(u) + x", data=points).fit()
    t, df = float(ols.tvalues["x"]), float(ols.df_resid)
    r = t / math.sqrt(t * t + df)
    half = stats.norm.ppf(0.975) / math.sqrt(df - 1)
    return r, math.tanh(math.atanh(r) - half), math.tanh(math.atanh(r) + half), float(ols.pvalues["x"]), df


def test_rows_are_sorted_by_method_then_tier_with_all_last(tables):
    table, units = tables
    assert list(table.columns) == ACROSS_COLUMNS
    assert list(zip(table["method"], table["tier"])) == [
        ("alpha", "low"), ("alpha", "very-low"), ("alpha", "all"), ("zeta", "low"), ("zeta", "very-low"), ("zeta", "all")]
    assert list(units.columns) == UNIT_COLUMNS and list(units.index) == list(range(16))
    assert list(zip(units["method"], units["language"])) == [(m, f"l{i:02d}") for m in ("alpha", "zeta") for i in range(8)]
    assert list(units["benchmark"]) == [f"bench-l{i:02d}" for i in range(8)] * 2
    assert list(units["tier"]) == ["very-low", "low"] * 8


@pytest.mark.parametrize("method", ["alpha", "zeta"])
@pytest.mark.parametrize("tier", ["low", "very-low", "all"])
def test_every_column_equals_statsmodels(study, correlation, tables, method, tier):
    table, units = tables
    row = table[(table["method"] == method) & (table["tier"] == tier)].iloc[0]
    part = study[(study["method"] == method) & (study["size"] > 0)]
    own = units[units["method"] == method]
    if tier != "all":
        part, own = part[part["tier"] == tier], own[own["tier"] == tier]
    assert row.drop("note").notna().all(), row[row.isna()].index.tolist()
    assert row["note"] == "" and row["family"] == "bench" and row["metric"] == METRIC
    assert (row["min_size"], row["max_size"]) == (1.0, 256.0)
    assert (row["n_languages"], row["n_seeds"], row["n_sizes"], row["n_points"]) == (
        part["language"].nunique(), 3, 5, len(part))
    # the random-slope model
    fit, center = _mixedlm(part)
    cov = fit.cov_params().loc[["Intercept", "x"], ["Intercept", "x"]].to_numpy()
    assert row["x_center"] == pytest.approx(center, rel=1e-12)
    assert row["slope"] == pytest.approx(fit.fe_params["x"], rel=1e-4)
    assert row["intercept"] == pytest.approx(fit.fe_params["Intercept"], rel=1e-5)
    assert row["se"] == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-3)
    assert row["intercept_se"] == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-2)
    assert row["cov_intercept_slope"] == pytest.approx(cov[0, 1], abs=2e-2 * math.sqrt(cov[0, 0] * cov[1, 1]))
    assert row["tau"] == pytest.approx(math.sqrt(fit.cov_re.loc["x", "x"]), rel=1e-2, abs=1e-4)
    k = row["n_languages"]
    half = stats.t.ppf(0.975, k - 1) * row["se"]
    assert (row["slope_low"], row["slope_high"]) == pytest.approx((row["slope"] - half, row["slope"] + half), rel=1e-12)
    half = stats.t.ppf(0.975, k - 2) * math.sqrt(row["tau"] ** 2 + row["se"] ** 2)
    assert (row["pi_low"], row["pi_high"]) == pytest.approx((row["slope"] - half, row["slope"] + half), rel=1e-12)
    # the meta-analysis of the languages' own slopes (this tier's only)
    assert len(own) == k
    for name in ("dl", "pm"):
        theirs = combine_effects(own["slope"].to_numpy(), own["se"].to_numpy() ** 2, method_re=name)
        half = stats.t.ppf(0.975, k - 1) * theirs.sd_eff_w_re_hksj
        assert row[f"tau2_{name}"] == pytest.approx(max(theirs.tau2, 0.0), rel=1e-9, abs=1e-15)
        assert row[f"meta_slope_{name}"] == pytest.approx(theirs.mean_effect_re, rel=1e-12)
        assert (row[f"meta_low_{name}"], row[f"meta_high_{name}"]) == pytest.approx(
            (theirs.mean_effect_re - half, theirs.mean_effect_re + half), rel=1e-10)
    assert row["q"] == pytest.approx(theirs.q, rel=1e-12)
    assert row["q_p"] == pytest.approx(stats.chi2.sf(theirs.q, k - 1), rel=1e-10)
    assert row["i2"] == pytest.approx(max(0.0, (theirs.q - (k - 1)) / theirs.q), abs=1e-12)
    # the repeated-measures correlation of the seed means with log10 N
    r, low, high, p, df = _rmcorr_by_ols(part)
    assert (row["rmcorr"], row["rmcorr_low"], row["rmcorr_high"]) == pytest.approx((r, low, high), rel=1e-9)
    assert row["rmcorr_p"] == pytest.approx(p, rel=1e-7) and row["rmcorr_df"] == df
    # the languages' own Spearman ρ of this method and metric, the missing one left out
    rho = correlation[(correlation["method"] == method) & (correlation["metric"] == METRIC)
                      & correlation["language"].isin(part["language"])]["spearman_rho"]
    assert row["spearman_mean"] == pytest.approx(float(rho.dropna().mean()), rel=1e-12)


def test_each_languages_own_slope_intercept_and_zero_shot(study, tables):
    _, units = tables
    for (method, language), unit in units.groupby(["method", "language"]):
        rows = study[(study["method"] == method) & (study["language"] == language)]
        trained = rows[(rows["size"] > 0) & (rows["size"] <= 256)]
        slopes = [np.polyfit(np.log2(g["size"]), g[METRIC], 1)[0] for _, g in trained.groupby("seed")]
        got = unit.iloc[0]
        assert got["slope"] == pytest.approx(np.mean(slopes), rel=1e-10)
        assert got["se"] == pytest.approx(np.std(slopes, ddof=1) / math.sqrt(3), rel=1e-10)
        x = np.log2(trained["size"]).mean()
        assert got["intercept"] == pytest.approx(trained[METRIC].mean() - np.mean(slopes) * x, rel=1e-10)
        assert (got["n_seeds"], got["n_sizes"]) == (3, 5)
        assert got["zero_shot"] == pytest.approx(rows.loc[rows["size"] == 0, METRIC].mean(), rel=1e-12)


def _runs(languages, sizes, seeds=(0, 1), slope=0.02, tier="low", method="m"):
    rng = np.random.default_rng(len(languages) * 10 + len(sizes))
    return pd.DataFrame([
        {"method": method, "language": lang, "benchmark": f"bench-{lang}", "tier": tier, "seed": s, "size": n,
         METRIC: 0.3 + (slope + 0.005 * i) * math.log2(n) + rng.normal(0, 0.01) if n else 0.2}
        for i, lang in enumerate(languages) for s in seeds for n in (0, *sizes)])


def test_two_sizes_say_so_and_three_sizes_are_enough():
    row = across_tables(_runs(["a", "b", "c", "d"], (16, 64)), {}, 0.95)[0].iloc[0]
    assert row["note"] == "2 size(s) on the common ground: a slope across languages needs ≥ 3"
    assert math.isnan(row["slope"]) and row["n_points"] == 16
    row = across_tables(_runs(["a", "b", "c", "d"], (16, 64, 256)), {}, 0.95)[0].iloc[0]
    assert math.isfinite(row["slope"]) and math.isfinite(row["pi_low"])


def test_two_languages_say_so_with_their_correlation_and_three_are_enough():
    data = _runs(["a", "b"], (16, 64, 256, 1024))
    row = across_tables(data, {}, 0.95)[0].iloc[0]
    assert row["note"].startswith("2 language(s): no across-language answer") and math.isnan(row["slope"])
    r, low, high, p, df = _rmcorr_by_ols(data[data["size"] > 0])
    assert (row["rmcorr"], row["rmcorr_low"], row["rmcorr_high"], row["rmcorr_p"]) == pytest.approx((r, low, high, p))
    assert row["rmcorr_df"] == df == 5
    three = random_slope_fit(_runs(["a", "b", "c"], (16, 64, 256))[lambda d: d["size"] > 0], METRIC, 0.95)
    half = stats.t.ppf(0.975, 1) * math.sqrt(three["tau"] ** 2 + three["se"] ** 2)
    assert three["pi_high"] == pytest.approx(three["slope"] + half)
    row = across_tables(_runs(["a", "b", "c"], (16, 64, 256)), {}, 0.95)[0].iloc[0]
    assert math.isfinite(row["slope"]) and math.isfinite(row["tau2_pm"])


@pytest.mark.filterwarnings("error::RuntimeWarning")  # no mean of an empty list of ρ
def test_one_language_has_no_correlation_degrees_of_freedom():
    row = across_tables(_runs(["a"], (16, 64, 256, 1024)), {}, 0.95)[0].iloc[0]
    assert math.isnan(row["rmcorr"]) and math.isnan(row["rmcorr_df"]) and math.isnan(row["spearman_mean"])


def test_a_failed_mixed_model_is_the_note(monkeypatch):
    def fail(self, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(across.MixedLM, "fit", fail)
    row = across_tables(_runs(["a", "b", "c"], (16, 64, 256)), {}, 0.95)[0].iloc[0]
    assert row["note"] == "the mixed model did not fit (Singular matrix)" and math.isnan(row["slope"])


def test_the_meta_analysis_leaves_out_languages_without_a_seed_level_se():
    data = _runs(["a", "b", "c", "d", "e"], (16, 64, 256))
    data = data[~((data["language"] == "e") & (data["seed"] == 1))]  # e: one seed, no SE
    table, units = across_tables(data, {}, 0.95)
    row = table.iloc[0]
    assert row["note"] == "meta-analysis over the 4 languages with ≥ 2 seeds"
    kept = units[units["language"] != "e"]
    theirs = combine_effects(kept["slope"].to_numpy(), kept["se"].to_numpy() ** 2, method_re="pm")
    assert row["meta_slope_pm"] == pytest.approx(theirs.mean_effect_re) and row["q"] == pytest.approx(theirs.q)
    few = across_tables(data[data["language"].isin(["a", "b", "e"]) | (data["seed"] == 0)], {}, 0.95)[0].iloc[0]
    assert few["note"] == "meta-analysis: 2 language(s) with a seed-level SE (≥ 2 seeds); it needs ≥ 3"
    assert math.isnan(few["tau2_dl"]) and math.isfinite(few["slope"])


def test_meta_check_needs_a_finite_slope_and_a_positive_se():
    units = pd.DataFrame({"slope": [0.01, 0.02, 0.03, math.nan, 0.05, 0.06],
                          "se": [0.002, 0.003, 0.004, 0.005, math.nan, 0.0]})
    out, note = meta_check(units, 0.95)
    theirs = combine_effects(np.array([0.01, 0.02, 0.03]), np.array([0.002, 0.003, 0.004]) ** 2, method_re="dl")
    assert note == "meta-analysis over the 3 languages with ≥ 2 seeds"
    assert out["meta_slope_dl"] == pytest.approx(theirs.mean_effect_re) and out["q"] == pytest.approx(theirs.q)
    out, note = meta_check(units.iloc[:3], 0.95)
    assert note == "" and out["tau2_dl"] == pytest.approx(max(theirs.tau2, 0.0))


def test_a_tier_off_the_common_family_is_noted_after_the_rows_own_note():
    data = _runs(["a", "b", "c"], (16, 64, 256))
    other = _runs(["x"], (16, 64, 256), tier="high").assign(benchmark="other-x")
    row = across_tables(pd.concat([data, other]), {}, 0.95)[0].iloc[0]
    assert row["tier"] == "low"
    assert row["note"] == ("tier(s) high not scored on bench: left out of the tier comparison (one family only)")
    two = across_tables(pd.concat([_runs(["a", "b"], (16, 64, 256)), other]), {}, 0.95)[0].iloc[0]
    assert two["note"] == ("2 language(s): no across-language answer (a between-language SD and a prediction interval "
                           "need ≥ 3 languages); tier(s) high not scored on bench: left out of the tier comparison "
                           "(one family only)")


def test_a_disagreement_joins_the_meta_analysis_note(monkeypatch):
    data = _runs(["a", "b", "c", "d", "e"], (16, 64, 256))
    data = data[~((data["language"] == "e") & (data["seed"] == 1))]
    monkeypatch.setattr(across, "disagreement", lambda row: "DIS")
    assert across_tables(data, {}, 0.95)[0].iloc[0]["note"] == "meta-analysis over the 4 languages with ≥ 2 seeds; DIS"
    full = _runs(["a", "b", "c", "d"], (16, 64, 256))
    assert across_tables(full, {}, 0.95)[0].iloc[0]["note"] == "DIS"


def test_a_method_without_trained_runs_and_an_empty_table():
    data = pd.concat([_runs(["a", "b", "c"], (16, 64, 256)), _runs(["a"], ()).assign(method="zero")])
    table, units = across_tables(data, {}, 0.95)
    assert list(table["method"]) == ["m"] and list(units["method"].unique()) == ["m"]
    table, units = across_tables(data[data["method"] == "zero"], {}, 0.95)
    assert table.empty and units.empty and list(units.columns) == UNIT_COLUMNS
    table, units = across_tables(data.iloc[:0], {}, 0.95)
    assert table.empty and units.empty and list(units.columns) == UNIT_COLUMNS and list(table.columns) == ACROSS_COLUMNS


def test_spearman_of_an_empty_correlation_table_is_missing():
    data = _runs(["a", "b", "c"], (16, 64, 256))
    row = across_tables(data, {}, 0.95, pd.DataFrame())[0].iloc[0]
    assert math.isnan(row["spearman_mean"]) and math.isfinite(row["slope"])


@pytest.mark.filterwarnings("error")
def test_unit_slopes_of_one_run_and_of_two_seeds():
    rows = pd.DataFrame({"language": ["b", "a", "a", "a", "a"], "benchmark": ["x", "y", "y", "y", "y"], "tier": "t",
                         "size": [16, 16, 64, 16, 64], "seed": [0, 0, 0, 1, 1], METRIC: [0.1, 0.1, 0.3, 0.2, 0.5]})
    units = unit_slopes(rows, rows, METRIC)
    assert list(units.columns) == [c for c in UNIT_COLUMNS if c != "method"]
    assert list(units["language"]) == ["a", "b"] and list(units["benchmark"]) == ["y", "x"]
    a, b = units.iloc[0], units.iloc[1]
    assert a["slope"] == pytest.approx(0.125) and a["se"] == pytest.approx(0.025) and a["n_seeds"] == 2
    assert a["intercept"] == pytest.approx(0.275 - 0.125 * 5) and a["n_sizes"] == 2
    assert b["tier"] == "t" and b["n_seeds"] == 0 and b["n_sizes"] == 1
    assert math.isnan(b["slope"]) and math.isnan(b["se"]) and math.isnan(b["intercept"])
    assert list(unit_slopes(rows.iloc[:0], rows, METRIC).columns) == [c for c in UNIT_COLUMNS if c != "method"]


def test_object_typed_sizes_and_metric_give_the_same_tables():
    data = _runs(["a", "b", "c", "d"], (16, 64, 256, 1024))
    table, units = across_tables(data, {}, 0.95)
    mixed, mixed_units = across_tables(data.astype({"size": object, METRIC: object}), {}, 0.95)
    pd.testing.assert_frame_equal(mixed, table, check_dtype=False, rtol=1e-9)
    pd.testing.assert_frame_equal(mixed_units, units, check_dtype=False, rtol=1e-12)


def test_disagreement_at_and_beyond_each_bound():
    row = {"slope": 0.02, "slope_low": 0.01, "slope_high": 0.03, "meta_slope_pm": 0.025, "meta_low_pm": 0.02,
           "meta_high_pm": 0.04}
    assert disagreement(row) == ""  # the mixed mean on the lower bound
    assert disagreement({**row, "meta_low_pm": 0.0, "meta_high_pm": 0.02}) == ""  # on the upper bound
    assert disagreement({**row, "meta_slope_pm": 0.01}) == ""
    assert disagreement({**row, "meta_slope_pm": 0.03}) == ""
    # only one of the two means outside the other's interval is enough
    said = disagreement({**row, "meta_slope_pm": 0.035, "meta_high_pm": 0.05})
    assert said == ("mixed model and meta-analysis disagree: slope 0.02 [0.01, 0.03] vs Paule–Mandel 0.035 [0.02, 0.05]")
    assert disagreement({**row, "meta_low_pm": 0.021}).startswith("mixed model and meta-analysis disagree")
    assert disagreement({"slope": 0.02}) == "" and disagreement({"meta_slope_pm": 0.02}) == ""
    assert disagreement({**row, "meta_slope_pm": math.nan, "meta_low_pm": math.nan, "meta_high_pm": math.nan}) == ""


def test_the_random_slope_model_is_statsmodels_reml_by_lbfgs():
    data = planted_study(np.random.default_rng(1), n_languages=6)
    data = data[data["size"] > 0]
    ours = random_slope_fit(data, METRIC, 0.95)
    x = np.log2(data["size"].to_numpy(dtype=float))
    exog = np.column_stack([np.ones(len(x)), x - x.mean()])
    groups = (data["language"] + "/" + data["benchmark"]).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = across.MixedLM(data[METRIC].to_numpy(), exog, groups=groups, exog_re=exog).fit(reml=True, method="lbfgs")
    assert ours["tau"] == pytest.approx(math.sqrt(fit.cov_re[1, 1]), rel=1e-9)
    assert (ours["slope"], ours["se"]) == pytest.approx((fit.fe_params[1], fit.bse_fe[1]), rel=1e-9)
