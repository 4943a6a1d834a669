"""Learning-curve fits: recovery of known parameters, closed forms, CIs, and unreliable fits."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from tests.analysis.synthetic import saturating, study

from swimscale.analysis._curves import curve, fit, learning_curve_row, learning_curves, n_at_fraction, n_for_target
from swimscale.analysis._stats import bootstrap_group, build_recall_table, groups_of

TRUE = {"r0": 0.05, "r_inf": 0.35, "n0": 100.0, "alpha": 0.8}


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
        return learning_curves(groups_of(table), [None], target).iloc[0]


@pytest.mark.parametrize("sizes", [(0, 16, 64, 256, 1024, 4096), (0, 32, 128, 512)], ids=["6-sizes", "demo-sizes"])
def test_fit_recovers_known_parameters_on_noiseless_data(sizes) -> None:
    row = _row(_noiseless(sizes))
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


def test_bootstrap_cis_from_refits() -> None:
    table, per_query, _ = study(
        sizes=(0, 16, 64, 256, 1024, 4096),
        seeds=(0, 1, 2, 3),
        n_queries=400,
        seed_sd=0.01,
        curve=lambda n: saturating(n, n0=50, alpha=1.0),
    )
    (group,) = groups_of(table, per_query)
    reps = bootstrap_group(group, ["recall_at_50"], n_boot=60, n_keep=40)
    row = learning_curve_row(group, reps, target=0.2)
    assert row["n_boot_fit"] == 40 and row["n_boot_ok"] >= 36
    assert row["r_inf_ci_low"] <= row["r_inf"] <= row["r_inf_ci_high"]
    assert row["r_inf_ci_low"] < TRUE["r_inf"] < row["r_inf_ci_high"] + 0.05
    assert row["n_target_ci_low"] <= row["n_target"] <= row["n_target_ci_high"]


@pytest.mark.parametrize(
    "table, reason",
    [
        pytest.param(_noiseless((0, 32, 128)), "size", id="three-sizes"),
        pytest.param(_noiseless((32, 128, 512, 2048)), "N = 0", id="no-zero-shot"),
        pytest.param(_noiseless((0, 32, 128, 512), r_inf=0.01), "no gain", id="gain-below-zero"),
        pytest.param(_noiseless((0, 32, 128, 512), r_inf=0.9, n0=1e6, alpha=0.3), "", id="far-extrapolation"),
        pytest.param(_noiseless((0,)), "size", id="only-zero-shot"),
    ],
)
def test_unreliable_fits_say_why_instead_of_a_number(table: pd.DataFrame, reason: str) -> None:
    row = _row(table)
    assert math.isnan(row.n90) and row.note
    assert reason in row.note
    if reason:
        assert math.isnan(row.r_inf)


def test_one_seed_fit_without_ci() -> None:
    table, per_query, _ = study(sizes=(0, 16, 64, 256, 1024), seeds=(0,), n_queries=200)
    (group,) = groups_of(table, per_query)
    row = learning_curve_row(group, bootstrap_group(group, ["recall_at_50"], 20, n_keep=20), target=0.2)
    assert math.isnan(row["r_inf_ci_low"]) and "one seed" in row["note"]


def test_target_already_reached_at_zero_shot() -> None:
    row = _row(_noiseless((0, 16, 64, 256, 1024)), target=0.01)
    assert row.n_target == 0.0 and "already reached" in row.note
