"""Every column of the moderators table against statsmodels' weighted least squares (the meta-regression
at its τ²), each outcome's variances, and the rows that say why there is no regression."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from swimscale.analysis._meta import meta_regression
from swimscale.analysis._moderators import (
    MODERATOR_TABLE_COLUMNS,
    _zero_variance,
    language_moderators,
    moderator_row,
    moderators_table,
)

LANGUAGES = [f"l{i}" for i in range(7)]


def _study(seed: int = 0):
    """A recall table with moderators per language and the languages' own slopes of two methods."""
    rng = np.random.default_rng(seed)
    fert = rng.uniform(1, 3, len(LANGUAGES))
    recall = pd.DataFrame({"language": LANGUAGES * 2, "fertility": list(fert) * 2,
                           "mbert_pretraining": ["yes", "no", "yes", "yes", "no", "no", "yes"] * 2,
                           "n_queries": [200, 300, 250, 400, 150, 500, 350] * 2})
    recall.index = recall.index[::-1]  # not the default index
    units = []
    for method in ("zeta", "alpha"):
        units.append(pd.DataFrame({"method": method, "language": LANGUAGES,
                                   "slope": 0.02 + 0.01 * fert + rng.normal(0, 0.006, len(LANGUAGES)),
                                   "se": rng.uniform(0.002, 0.004, len(LANGUAGES)),
                                   "zero_shot": rng.uniform(0.2, 0.6, len(LANGUAGES))}))
    return recall, pd.concat(units, ignore_index=True), fert


def _wls_at_tau2(y, m, v, tau2, level=0.95):
    fit = sm.WLS(y, sm.add_constant(m), weights=1 / (v + tau2)).fit()
    scale = float(np.sum((y - fit.fittedvalues) ** 2 / (v + tau2)) / (len(y) - 2))
    se = math.sqrt(scale * fit.normalized_cov_params[1, 1])
    half = stats.t.ppf(0.5 + level / 2, len(y) - 2) * se
    return fit.params[1], se, fit.params[1] - half, fit.params[1] + half, 2 * stats.t.sf(abs(fit.params[1] / se), len(y) - 2)


def test_each_row_is_the_weighted_least_squares_of_its_outcome_on_its_moderator():
    recall, units, fert = _study()
    table = moderators_table(recall, units, {}, 0.95)
    assert list(table.columns) == MODERATOR_TABLE_COLUMNS
    expected = [(m, o, name) for m in ("alpha", "zeta")
                for o, names in (("slope", ("mbert_pretraining", "tokenizer_fertility", "zero_shot")),
                                 ("zero_shot", ("mbert_pretraining", "tokenizer_fertility")))
                for name in names]
    assert list(zip(table["method"], table["outcome"], table["moderator"])) == expected
    assert (table["note"] == "").all() and (table["n_languages"] == 7).all() and (table["df"] == 5).all()
    mbert = np.array([1.0, 0, 1, 1, 0, 0, 1])
    for row in table.itertuples():
        own = units[units["method"] == row.method].reset_index(drop=True)
        y = own[row.outcome].to_numpy()
        v = own["se"].to_numpy() ** 2 if row.outcome == "slope" else \
            own["zero_shot"].to_numpy() * (1 - own["zero_shot"].to_numpy()) / np.array([200, 300, 250, 400, 150, 500, 350])
        m = {"mbert_pretraining": mbert, "tokenizer_fertility": fert, "zero_shot": own["zero_shot"].to_numpy()}[row.moderator]
        coefficient, se, low, high, p = _wls_at_tau2(y, m, v, row.tau2)
        assert (row.coefficient, row.se, row.ci_low, row.ci_high, row.p_value) == pytest.approx(
            (coefficient, se, low, high, p), rel=1e-8)
        fit = meta_regression(y, m, v, 0.95)
        assert (row.tau2, row.tau2_without) == pytest.approx((fit.tau2, fit.tau2_without), rel=1e-12, abs=1e-18)
        assert row.share_explained == pytest.approx(fit.share_explained, nan_ok=True)


def test_a_slope_without_a_finite_se_makes_that_outcome_ordinary_least_squares():
    recall, units, fert = _study(1)
    for bad in (math.nan, math.inf):
        broken = units.copy()
        broken.loc[(broken["method"] == "alpha") & (broken["language"] == "l2"), "se"] = bad
        row = moderators_table(recall, broken, {}, 0.95).query(
            "method == 'alpha' and outcome == 'slope' and moderator == 'tokenizer_fertility'").iloc[0]
        y = units.loc[units["method"] == "alpha", "slope"].to_numpy()
        ols = sm.OLS(y, sm.add_constant(fert)).fit()
        assert row["n_languages"] == 7
        assert (row["coefficient"], row["se"]) == pytest.approx((ols.params[1], ols.bse[1]), rel=1e-8)
        assert row["tau2"] == pytest.approx(ols.scale, rel=1e-10)


def test_rows_that_cannot_regress_say_why():
    y, m, v = np.array([0.1, 0.2, 0.3, 0.4, 0.5]), np.array([1.0, 2, 3, 4, 6]), np.full(5, 1e-4)
    row = moderator_row(y, m, v, 0.95)
    assert row["n_languages"] == 5 and row["note"] == "" and math.isfinite(row["coefficient"]) and row["df"] == 3
    flat = moderator_row(y, np.ones(5), v, 0.95)
    assert flat == {"n_languages": 5, "note": "the moderator has one value over these languages: nothing to relate"}
    yes_no = moderator_row(y, np.array([0.0, 0, 1, 1, 1]), v, 0.95)  # a range of exactly 1
    assert math.isfinite(yes_no["coefficient"])
    few = moderator_row(np.append(y[:4], math.nan), m, v, 0.95)  # a missing outcome
    assert few == {"n_languages": 4, "note": "4 language(s) with this moderator and outcome: a meta-regression needs ≥ 5"}
    few = moderator_row(y, np.append(m[:4], math.nan), v, 0.95)  # a missing moderator
    assert few["n_languages"] == 4 and "coefficient" not in few
    few = moderator_row(y, m, np.append(v[:4], math.nan), 0.95)
    assert few["n_languages"] == 4


def test_zero_shot_variances_need_a_count_for_every_language_and_a_level_inside_zero_one():
    units = pd.DataFrame({"language": ["a", "b"], "zero_shot": [0.2, 0.5]})
    recall = pd.DataFrame({"language": ["a", "b"], "n_queries": ["100", "400"]})
    assert _zero_variance(recall, units) == pytest.approx([0.0016, 0.000625])
    assert (_zero_variance(recall.assign(n_queries=["n/a", "400"]), units) == 0).all()
    assert (_zero_variance(recall.assign(n_queries=[0, 400]), units) == 0).all()
    assert (_zero_variance(recall.iloc[:1], units) == 0).all()  # b has no count
    assert (_zero_variance(recall, units.assign(zero_shot=[0.0, 0.5])) == 0).all()


def test_moderators_follow_the_rows_index_and_tiers_rank_only_known_tiers():
    table = pd.DataFrame({"language": ["a", "b", "c"], "unk_rate": [0.1, 0.2, 0.3]}, index=[10, 5, 0])
    values = language_moderators(table, {"a": "high", "b": "somewhere"})
    assert list(values["unk_rate"]) == [0.1, 0.2, 0.3]
    assert values.loc["a", "tier"] == 3.0 and math.isnan(values.loc["b", "tier"]) and math.isnan(values.loc["c", "tier"])


def test_object_typed_units_give_the_same_table():
    recall, units, _ = _study(2)
    table = moderators_table(recall, units, {}, 0.95)
    mixed = moderators_table(recall, units.astype(object), {}, 0.95)
    pd.testing.assert_frame_equal(mixed, table, check_dtype=False, rtol=1e-12)
