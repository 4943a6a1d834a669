"""Learning curves: recovery of known parameters, closed forms, the model comparison, CIs, unreliable fits."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from tests.analysis.synthetic import saturating, study

from swimscale.analysis import Settings, build_recall_table
from swimscale.analysis._bootstrap import bootstrap_group
from swimscale.analysis._curve_model import aicc, compare_models, curve, fit, model_sse, n_at_fraction, n_for_target
from swimscale.analysis._curves import learning_curve_row, learning_curves
from swimscale.analysis._groups import groups_of

TRUE = {"r0": 0.05, "r_inf": 0.35, "n0": 100.0, "alpha": 0.8}
LEVEL = Settings.of().level
SIX = (0, 16, 64, 256, 1024, 4096)


def _noiseless(sizes, seeds=(0, 1), **params) -> pd.DataFrame:
    p = {**TRUE, **params}
    records = []
    for size in sizes:
        for seed in seeds:
            value = float(curve(size, p["r0"], p["r_inf"], p["n0"], p["alpha"]))
            records.append(
                {
                    "language": "ny", "benchmark": "b", "method": "optical", "size": size, "seed": seed,
                    "recall_at_50": value, "recall_at_100": value, "ndcg_at_10": value, "mrr_at_10": value,
                    "n_queries": 100, "steps": 1, "examples_seen": size, "train_seconds": 0.0,
                    "run_file": "r", "qrels_file": "q",
                }
            )
    return build_recall_table(records)


def _row(table: pd.DataFrame, target: float = 0.2) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return learning_curves(groups_of(table), [None], target, LEVEL).iloc[0]


@pytest.mark.parametrize("sizes", [SIX, (0, 32, 128, 512, 2048, 8192, 32768)], ids=["6-sizes", "7-sizes"])
def test_fit_recovers_known_parameters_on_noiseless_data(sizes) -> None:
    row = _row(_noiseless(sizes))
    assert row.preferred_model == "saturating"
    assert row.r_inf == pytest.approx(TRUE["r_inf"], rel=1e-4)
    assert row.n0 == pytest.approx(TRUE["n0"], rel=1e-3)
    assert row.alpha == pytest.approx(TRUE["alpha"], rel=1e-3)
    assert row.rmse < 1e-6
    assert row.n90 == pytest.approx(TRUE["n0"] * (10 ** (1 / TRUE["alpha"]) - 1), rel=1e-3)
    assert row.n_target == pytest.approx(float(n_for_target(0.05, 0.35, 100.0, 0.8, 0.2)), rel=1e-3)
    assert row.note == ""


def test_closed_forms() -> None:
    r0, r_inf, n0, alpha = 0.05, 0.35, 100.0, 0.8
    n90 = n_at_fraction(n0, alpha)
    assert curve(n90, r0, r_inf, n0, alpha) - r0 == pytest.approx(0.9 * (r_inf - r0))
    n_t = n_for_target(r0, r_inf, n0, alpha, 0.2)
    assert curve(n_t, r0, r_inf, n0, alpha) == pytest.approx(0.2)
    assert n_for_target(r0, r_inf, n0, alpha, 0.04) == 0.0  # already reached at N = 0
    assert math.isinf(n_for_target(r0, r_inf, n0, alpha, 0.4))  # above the plateau
    np.testing.assert_allclose(n_for_target([r0, r0], [r_inf, 0.1], n0, alpha, 0.2), [n_t, np.inf])


def test_weights_act_as_repeated_points() -> None:
    sizes = np.array([16, 64, 256, 1024.0])
    rng = np.random.default_rng(0)
    y = np.array([saturating(n) for n in sizes]) + rng.normal(0, 0.01, 4)
    weighted = fit(sizes, y, 0.05, weights=np.array([2, 1, 0, 3]))
    repeated = fit(np.repeat(sizes, [2, 1, 0, 3]), np.repeat(y, [2, 1, 0, 3]), 0.05)
    assert weighted.r_inf == pytest.approx(repeated.r_inf, rel=1e-6)
    assert weighted.n0 == pytest.approx(repeated.n0, rel=1e-4)


def test_aicc_ranks_models_as_statsmodels_likelihoods_do() -> None:
    """AICc = AIC + 2K(K + 1)/(n − K − 1); its AIC part differs from statsmodels' OLS AIC by a constant
    (statsmodels counts the mean parameters only and keeps the 2π terms), the same for every model."""
    rng = np.random.default_rng(1)
    n = np.repeat([16.0, 64, 256, 1024, 4096], 3)
    y = 0.1 + 0.02 * np.log2(n) + rng.normal(0, 0.01, len(n))
    x = np.log2(n)
    sse = model_sse(n, y, None)
    ours = {m: aicc(sse[m], len(y), k) - 2 * (k + 1) * (k + 2) / (len(y) - k - 2) for m, k in (("flat", 1), ("log-linear", 2))}
    theirs = {"flat": sm.OLS(y, np.ones_like(y)).fit().aic, "log-linear": sm.OLS(y, sm.add_constant(x)).fit().aic}
    assert ours["log-linear"] - ours["flat"] == pytest.approx(theirs["log-linear"] - theirs["flat"], abs=1e-9)
    scores, preferred, margin = compare_models(sse, len(y))
    assert preferred == "log-linear" and margin > 2 and math.isnan(scores["saturating"])


def test_a_flat_table_has_no_plateau() -> None:
    table, per_query, _ = study(sizes=SIX, seeds=(0, 1, 2), n_queries=400, seed=3, curve=lambda n: 0.12, seed_sd=0.01)
    (group,) = groups_of(table, per_query)
    row = learning_curve_row(group, bootstrap_group(group, ["recall_at_50"], 100, n_keep=50, seed=0), 0.2, LEVEL)
    assert row["preferred_model"] in ("flat", "undecided") and math.isnan(row["r_inf"])
    assert row["note"].startswith("no plateau:")


def test_a_saturating_table_gets_a_plateau_whose_ci_covers_the_truth() -> None:
    truth = lambda n: saturating(n, n0=50, alpha=1.0)  # noqa: E731
    table, per_query, _ = study(sizes=SIX, seeds=(0, 1, 2, 3, 4), n_queries=1500, seed_sd=0.005, seed=8, curve=truth)
    (group,) = groups_of(table, per_query)
    reps = bootstrap_group(group, ["recall_at_50"], n_boot=200, n_keep=100, seed=0)
    row = learning_curve_row(group, reps, 0.2, LEVEL)
    assert row["preferred_model"] == "saturating" and row["delta_aicc"] >= 2
    assert row["n_boot_fit"] == 100 and row["n_boot_ok"] >= 90
    assert row["r_inf_ci_low"] <= TRUE["r_inf"] <= row["r_inf_ci_high"]


@pytest.mark.parametrize(
    "table, reason",
    [
        pytest.param(_noiseless((0, 32, 128, 512)), "only 3 trained size(s) (32, 128 and 512); a learning curve needs ≥ 5", id="three-sizes"),
        pytest.param(_noiseless((32, 128, 512, 2048, 8192)), "no N = 0 run: R0 unknown", id="no-zero-shot"),
        pytest.param(_noiseless(SIX, r_inf=0.01), "no gain: fitted R∞", id="gain-below-zero"),
        pytest.param(_noiseless(SIX, r_inf=0.9, n0=1e6, alpha=0.3), "", id="far-extrapolation"),
        pytest.param(_noiseless((0,)), "only 0 trained size(s)", id="only-zero-shot"),
    ],
)
def test_unreliable_fits_say_why_instead_of_a_number(table: pd.DataFrame, reason: str) -> None:
    row = _row(table)
    assert math.isnan(row.n90) and row.note
    assert reason in row.note
    if reason:
        assert math.isnan(row.r_inf)


def test_one_seed_fit_without_ci() -> None:
    (group,) = groups_of(_noiseless((*SIX, 16384), seeds=(0,)))  # 6 runs: AICc of 3 parameters + σ needs > 5
    row = learning_curve_row(group, bootstrap_group(group, ["recall_at_50"], 20, n_keep=20, seed=0), 0.2, LEVEL)
    assert math.isnan(row["r_inf_ci_low"])
    assert "one seed: the seed-cluster bootstrap cannot resample seeds, so no CIs" in row["note"]


def test_target_already_reached_at_zero_shot() -> None:
    row = _row(_noiseless(SIX), target=0.01)
    assert row.n_target == 0.0 and "target 0.01 already reached at N = 0" in row.note
