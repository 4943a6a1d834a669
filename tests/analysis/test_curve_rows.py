"""A learning-curve row (analysis/_curves.py) column by column: what an unreliable group reports, the
model comparison's columns and notes, the bootstrap refits' arithmetic with a stand-in fit (which
records what it was asked), the lack-of-fit rule at its limits, and the table of several groups."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from swimscale.analysis._bootstrap import Replicates
from swimscale.analysis._curve_model import Fit, curve, fit_bounds, n_at_fraction, n_for_target
from swimscale.analysis._curves import _check_lack_of_fit, _refits, _Unreliable, learning_curve_row, learning_curves
from swimscale.analysis._groups import groups_of
from swimscale.analysis._schema import CURVE_COLUMNS

METRIC = "ndcg_at_10"
LEVEL = 0.9
R0 = 0.05


def _rows(sizes, seeds=(0, 1, 2), value=lambda n, s: float(curve(n, R0, 0.4, 150.0, 0.7)) + 0.002 * s) -> pd.DataFrame:
    rows = [{"size": n, "seed": s, METRIC: value(n, s)} for n in sizes for s in seeds]
    return pd.DataFrame(rows).assign(language="ny", benchmark="b", method="m")


# --------------------------------------------------------------------------- an unreliable group


def test_an_unreliable_row_has_every_column_and_says_why() -> None:
    table = _rows((1, 16, 64, 256, 1024))
    table.loc[(table["size"] == 64) & (table["seed"] == 1), METRIC] = np.nan
    (group,) = groups_of(table)
    row = learning_curve_row(group, None, 0.3, LEVEL, metric=METRIC)
    assert set(row) == set(CURVE_COLUMNS)
    assert (row["language"], row["benchmark"], row["method"], row["metric"]) == ("ny", "b", "m", METRIC)
    assert (row["n_sizes"], row["n_points"], row["n_seeds"], row["target_recall"]) == (5, 14, 3, 0.3)
    assert (row["n_boot_fit"], row["n_boot_ok"], row["preferred_model"]) == (0, 0, "")
    assert row["note"] == "no N = 0 run: R0 unknown, no learning curve"
    for name in CURVE_COLUMNS[7:]:
        if name not in ("target_recall", "preferred_model", "n_boot_fit", "n_boot_ok", "note"):
            assert math.isnan(row[name]), name


def test_too_few_sizes_for_a_curve_keep_r0_and_the_counts() -> None:
    table = _rows((0, 16, 64, 256))
    table.loc[table["size"] == 256, METRIC] = np.nan
    (group,) = groups_of(table)
    row = learning_curve_row(group, None, 0.3, LEVEL, metric=METRIC)
    assert row["r0"] == pytest.approx(R0 + 0.002) and (row["n_sizes"], row["n_points"]) == (3, 6)
    assert row["note"] == "only 2 trained size(s) (16 and 64); a learning curve needs ≥ 5 distinct N > 0"
    assert set(learning_curves([group], [None], 0.3, LEVEL, metric=METRIC).columns) == set(CURVE_COLUMNS)
    assert list(learning_curves([], [], 0.3, LEVEL).columns) == CURVE_COLUMNS


# --------------------------------------------------------------------------- the model comparison


def _aicc_words(row) -> str:
    return (f"AICc flat {row['aicc_flat']:.1f}, log-linear {row['aicc_log_linear']:.1f}, "
            f"saturating {row['aicc_saturating']:.1f}")


def test_a_line_in_log_n_has_no_plateau_and_says_which_model_fits() -> None:
    rng = np.random.default_rng(5)
    sizes = (0, 16, 64, 256, 1024, 4096, 16384)
    noise = {(n, s): rng.normal(0, 0.002) for n in sizes for s in range(3)}
    (group,) = groups_of(_rows(sizes, value=lambda n, s: 0.05 + 0.02 * math.log2(max(n, 1)) + noise[n, s]))
    row = learning_curve_row(group, None, 0.3, LEVEL, metric=METRIC)
    assert row["preferred_model"] == "log-linear"
    assert all(math.isfinite(row[k]) for k in ("aicc_flat", "aicc_log_linear", "aicc_saturating", "delta_aicc"))
    assert row["note"] == f"no plateau: a line in log N fits best ({_aicc_words(row)})"


def test_a_plateau_is_reported_with_its_aicc() -> None:
    (group,) = groups_of(_rows((0, 1, 16, 64, 256, 1024, 4096)))
    row = learning_curve_row(group, None, 0.3, LEVEL, metric=METRIC)
    assert row["preferred_model"] == "saturating" and row["aicc_saturating"] < row["aicc_log_linear"]
    assert row["r_inf"] == pytest.approx(0.4 + 0.002, abs=2e-3) and row["note"] == ""


# --------------------------------------------------------------------------- the fit at its bounds


@pytest.mark.parametrize("r_inf, r0, words", [(1.0, 0.05, "1"), (-0.05, 0.5, "0")])
def test_a_plateau_at_its_bound_is_not_identified(r_inf: float, r0: float, words: str) -> None:
    sizes = (0, 16, 64, 256, 1024, 4096, 16384)
    (group,) = groups_of(_rows(sizes, value=lambda n, s: float(curve(n, r0, r_inf, 100.0, 0.8))))
    row = learning_curve_row(group, None, 0.3, LEVEL, metric=METRIC)
    assert row["preferred_model"] == "saturating"
    assert row["note"].startswith("fitted R∞ at its bound (") and row["note"].endswith("): plateau not identified")
    said = float(row["note"][len("fitted R∞ at its bound ("):].split(")")[0])
    assert said == pytest.approx(float(words), abs=1e-6) and math.isnan(row["r_inf"])


# --------------------------------------------------------------------------- refits, with a stand-in fit


class _StandIn:
    """Replaces the curve fit: records each call and returns R∞ = R0 + the replicate's planned gain."""

    def __init__(self, gains: dict[int, float], fail_first: set[int] = frozenset(), fail: set[int] = frozenset()):
        self.gains, self.fail_first, self.fail, self.calls = gains, fail_first, fail, []

    def __call__(self, sizes, y, r0, weights=None, starts=None, bounds=None):
        b = int(y[0] // 1000)  # the replicate, planted in the values
        self.calls.append({"b": b, "sizes": np.asarray(sizes), "y": np.asarray(y), "r0": r0,
                           "weights": np.asarray(weights), "starts": starts, "bounds": bounds})
        if b in self.fail or (b in self.fail_first and starts is not None):
            return None
        return Fit(r0 + self.gains[b], 100.0 * (b + 1), 0.5 + 0.1 * b, 0.0)


def _refit_case(monkeypatch, gains, **kw):
    table = _rows((0, 1, 16, 64, 256), seeds=(0, 1, 2))  # N = 1 is trained
    table = table[~((table["size"] == 0) & (table["seed"] == 2))]  # seed 2 has no N = 0 run
    (group,) = groups_of(table)
    n_cells = len(group.rows)
    draws = np.array([[0, 0, 1], [2, 2, 1], [1, 1, 1], [2, 2, 2], [0, 2, 2], [1, 0, 0]])[: len(gains)]
    # cell means: replicate b's values are b + 0.001 × the cell, so the stand-in can tell b from y[0]
    cell_means = np.arange(len(draws))[:, None] * 1000.0 + 0.001 * np.arange(n_cells)[None, :]
    reps = Replicates(len(draws), cell_means={METRIC: cell_means}, seed_draws=draws)
    stand_in = _StandIn(gains, **kw)
    monkeypatch.setattr("swimscale.analysis._curves.fit", stand_in)
    best = Fit(0.4, 150.0, 0.7, 0.0)
    bounds = fit_bounds(np.array([16.0, 256.0]))
    return group, draws, cell_means, stand_in, _refits(group, reps, METRIC, best, bounds, 0.3), best, bounds


def test_each_refit_gets_the_replicates_runs_weighted_by_its_draws(monkeypatch) -> None:
    gains = {0: 0.3, 1: -0.1, 2: 0.0, 3: 0.2, 4: 0.25, 5: 1e-3}
    group, draws, cell_means, stand_in, results, best, bounds = _refit_case(monkeypatch, gains, fail={4})
    trained = (group.rows["size"] > 0).to_numpy()
    zero = ~trained
    for call in stand_in.calls:
        b = call["b"]
        counts = np.bincount(draws[b], minlength=3).astype(float)
        weights = counts[np.searchsorted(group.seeds, group.rows["seed"])]
        np.testing.assert_array_equal(call["sizes"], group.rows["size"].to_numpy(float)[trained])
        np.testing.assert_array_equal(call["y"], cell_means[b, trained])
        np.testing.assert_array_equal(call["weights"], weights[trained])
        assert call["r0"] == pytest.approx(np.sum(weights[zero] * cell_means[b, zero]) / weights[zero].sum())
        assert call["bounds"] == bounds
        if call["starts"] is not None:
            np.testing.assert_array_equal(call["starts"][0], best.params)
    assert sorted({c["b"] for c in stand_in.calls}) == [0, 1, 2, 4, 5]  # replicate 3 drew no N = 0 run
    assert np.isnan(results[3]).all() and np.isnan(results[4]).all()  # no R0; the fit failed from every start
    for b in (0, 2, 5, 1):
        r0 = next(c["r0"] for c in stand_in.calls if c["b"] == b)
        assert results[b, 0] == pytest.approx(r0 + gains[b])
    assert results[0, 1] == pytest.approx(n_at_fraction(100.0, 0.5))
    assert results[0, 2] == pytest.approx(n_for_target(results[0, 0] - 0.3, results[0, 0], 100.0, 0.5, 0.3))
    assert results[5, 1] == pytest.approx(n_at_fraction(600.0, 1.0))  # the smallest gain still counts
    for b in (1, 2):  # no gain (R∞ ≤ R0): N90 undefined, the target never reached
        assert np.isnan(results[b, 1]) and results[b, 2] == np.inf


def test_a_refit_failing_from_the_full_fit_is_tried_from_the_default_starts(monkeypatch) -> None:
    gains = {0: 0.3, 1: 0.2, 2: 0.1}
    group, _, _, stand_in, results, best, bounds = _refit_case(monkeypatch, gains, fail_first={1})
    retried = [c for c in stand_in.calls if c["b"] == 1]
    assert [c["starts"] is None for c in retried] == [False, True] and retried[1]["bounds"] == bounds
    np.testing.assert_array_equal(retried[1]["y"], retried[0]["y"])
    assert retried[1]["r0"] == retried[0]["r0"] and np.isfinite(results).all()
    assert len(stand_in.calls) == 4


# --------------------------------------------------------------------------- lack of fit at its limits


def _flat_group(values_at_256, seeds=(0, 1, 2)):
    """R∞ = R0 = 0.5: the curve is exactly 0.5 everywhere; the runs at N = 256 are the given values."""
    sizes = (0, 16, 64, 256, 1024)
    values = {s: v for s, v in zip(seeds, values_at_256)}
    (group,) = groups_of(_rows(sizes, seeds, value=lambda n, s: values[s] if n == 256 else 0.5))
    return group


FLAT = Fit(0.5, 100.0, 1.0, 0.0)


def _se_reps(group, se: float) -> Replicates:
    return Replicates(100, size_mean={METRIC: np.column_stack([np.tile([-se, se], 50)] * len(group.sizes))})


def test_a_miss_of_exactly_three_se_is_a_fit() -> None:
    group = _flat_group([0.875, 0.875, 0.875])  # 0.375 = 3 × 0.125 above the curve, exactly
    _check_lack_of_fit(group, _se_reps(group, 0.125), METRIC, 0.5, FLAT)
    with pytest.raises(_Unreliable, match=r"at N = 256: mean 0.875 vs curve 0.5 \(3.0 SE\)"):
        _check_lack_of_fit(group, _se_reps(group, 0.1249), METRIC, 0.5, FLAT)


def test_two_seeds_use_the_replicates_se_or_their_own() -> None:
    group = _flat_group([0.53, 0.54], seeds=(0, 1))  # mean 0.535; the seeds' SE 0.005
    _check_lack_of_fit(group, _se_reps(group, 0.02), METRIC, 0.5, FLAT)  # the replicates: 1.75 SE
    with pytest.raises(_Unreliable, match=r"\(7.0 SE\)"):
        _check_lack_of_fit(group, None, METRIC, 0.5, FLAT)  # the two seeds' own SE


def test_a_size_with_one_value_is_skipped_not_the_end_of_the_check() -> None:
    misses = {0: 0.6, 1: 0.62, 2: 0.61}  # at N = 256, far off the flat curve at 0.5
    table = _rows((0, 16, 64, 256, 1024), value=lambda n, s: misses[s] if n == 256 else 0.5)
    table = table[~((table["size"] == 16) & (table["seed"] > 0))]  # one value at N = 16: no SE there
    (group,) = groups_of(table)
    with pytest.raises(_Unreliable, match="at N = 256"):
        _check_lack_of_fit(group, None, METRIC, 0.5, FLAT)


# --------------------------------------------------------------------------- rows with CIs, several groups


def _noisy_group(seeds=(0, 1), sizes=(0, 16, 64, 256, 1024, 4096)):
    shift = {0: 0.004, 1: -0.004, 2: 0.001}
    table = _rows(sizes, seeds, value=lambda n, s: float(curve(n, R0, 0.4, 150.0, 0.7)) + shift[s] * (n > 0) * (1 + (n % 3)))
    (group,) = groups_of(table)
    values = group.rows[METRIC].to_numpy(float)
    rng = np.random.default_rng(9)
    draws = rng.integers(0, len(seeds), (20, len(seeds)))
    reps = Replicates(20, size_mean={METRIC: np.zeros((20, len(sizes))) + 0.01 * rng.normal(size=(20, len(sizes)))},
                      cell_means={METRIC: values + rng.normal(0, 0.002, (20, len(values)))}, seed_draws=draws)
    return group, reps


def test_two_seeds_get_cis_and_the_fits_notes_are_kept() -> None:
    group, reps = _noisy_group()
    row = learning_curve_row(group, reps, 0.399, LEVEL, metric=METRIC)  # N(target) ≈ 6e5: beyond 100 × 4,096
    assert row["n_boot_fit"] == 20 and row["r_inf_ci_low"] < row["r_inf"] < row["r_inf_ci_high"]
    assert row["note"].startswith("N(target) = ") and row["note"].split("; ")[0].endswith("extrapolation")


def test_one_seed_says_it_has_no_cis() -> None:
    (group,) = groups_of(_rows((0, 16, 64, 256, 1024, 4096, 16384), seeds=(0,)))
    values = group.rows[METRIC].to_numpy(float)
    reps = Replicates(20, cell_means={METRIC: np.tile(values, (20, 1))}, seed_draws=np.zeros((20, 1), int))
    row = learning_curve_row(group, reps, 0.3, LEVEL, metric=METRIC)
    assert row["note"].endswith("one seed: the seed-cluster bootstrap cannot resample seeds, so no CIs")
    assert row["n_boot_fit"] == 0 and math.isnan(row["r_inf_ci_low"])


def test_the_table_is_each_groups_row() -> None:
    group, reps = _noisy_group(seeds=(0, 1, 2))
    other = groups_of(_rows((0, 16, 64)))[0]
    table = learning_curves([group, other], [reps, None], 0.3, LEVEL, metric=METRIC)
    assert list(table.columns) == CURVE_COLUMNS and len(table) == 2
    expected = learning_curve_row(group, reps, 0.3, LEVEL, metric=METRIC)
    for column in CURVE_COLUMNS:
        got = table.iloc[0][column]
        assert got == expected[column] or (isinstance(got, float) and math.isnan(got) and math.isnan(expected[column]))
    assert table.iloc[0]["r_inf_ci_low"] == pytest.approx(expected["r_inf_ci_low"]) and np.isfinite(expected["r_inf_ci_low"])
    assert table.iloc[1]["note"].startswith("only 2 trained size(s)")


# --------------------------------------------------------------------------- limits of the reported intervals


def test_a_plateau_interval_exactly_half_wide_is_reported() -> None:
    from swimscale.analysis._curves import _r_inf_ci

    row = {"r_inf": 0.5, "r_inf_ci_low": math.nan, "r_inf_ci_high": math.nan}
    assert _r_inf_ci(row, np.r_[[0.25] * 50, [0.75] * 50], LEVEL) == ""
    assert (row["r_inf_ci_low"], row["r_inf_ci_high"]) == (0.25, 0.75)


def test_undefined_refits_exactly_filling_the_tail_are_counted_in_it() -> None:
    """1 of 4 undefined is exactly the 25 % tail of a 50 % CI: not "unbounded", but +∞ in the upper tail."""
    from swimscale.analysis._curves import _n_ci

    row = {"n90": 500.0, "n90_ci_low": math.nan, "n90_ci_high": math.nan}
    note = _n_ci(row, "n90", "N90", np.array([300.0, 400.0, 500.0, np.inf]), 4096.0, 0.5)
    assert note == "N90 unreliable: 50 % CI [375, 2.5e+299] too wide" and math.isnan(row["n90"])


def test_an_n90_below_the_smallest_trained_n_of_one() -> None:
    """Fast saturation (N0 = 0.3, α = 2): N90 = 0.65, below N = 1, the smallest trained size."""
    (group,) = groups_of(_rows((0, 1, 4, 16, 64, 256), value=lambda n, s: float(curve(n, R0, 0.4, 0.3, 2.0))))
    row = learning_curve_row(group, None, 0.3, LEVEL, metric=METRIC)
    assert row["preferred_model"] == "saturating" and math.isnan(row["n90"])
    assert row["note"].startswith("N90 below the smallest trained N = 1 (the fit says 0.6")


def test_an_n_below_one_is_below_the_sweep_too() -> None:
    from swimscale.analysis._curves import _derived

    row = {"r0": R0, "n_points": 10}
    notes = _derived(row, Fit(0.4, 0.1, 2.0, 0.0), 0.3, 16.0, 4096.0)
    assert notes[0] == "N90 below the smallest trained N = 16 (the fit says 0.216): not resolved by the sweep"


class _PlantedRefits:
    """The real fit for the full data; for each refit (weighted), R∞ = R0 + the next planted gain."""

    def __init__(self, gains):
        from swimscale.analysis._curve_model import fit as real

        self.real, self.gains, self.bounds = real, list(gains), []

    def __call__(self, sizes, y, r0, weights=None, starts=None, bounds=None):
        if weights is None:
            return self.real(sizes, y, r0, bounds=bounds)
        self.bounds.append(bounds)
        return Fit(r0 + self.gains.pop(0), 150.0, 0.7, 0.0)


def test_refits_without_a_gain_leave_n_unreported_and_say_so(monkeypatch) -> None:
    group, reps = _noisy_group(seeds=(0, 1, 2))
    planted = _PlantedRefits([0.35] * 17 + [-0.01] * 3)
    monkeypatch.setattr("swimscale.analysis._curves.fit", planted)
    row = learning_curve_row(group, reps, 0.3, LEVEL, metric=METRIC)
    assert (row["n_boot_fit"], row["n_boot_ok"]) == (20, 20)  # a refit without a gain still converged
    notes = row["note"].split("; ")
    assert "N90 unreliable: gain ≤ 0 in 3 of 20 bootstrap refits (upper CI unbounded)" in notes
    assert "N(target) unreliable: the target is not reached in 3 of 20 bootstrap refits (upper CI unbounded)" in notes
    trained = group.rows.loc[group.rows["size"] > 0, "size"].to_numpy(float)
    assert planted.bounds == [fit_bounds(trained)] * 20
    assert math.isnan(row["n90"]) and math.isfinite(row["r_inf_ci_low"])


def test_the_lack_of_fit_verdict_uses_the_groups_replicates() -> None:
    """Misses within the seeds' own spread, but beyond 3 of the replicates' (tighter) SEs: no plateau."""
    shift = {0: 0.012, 1: -0.012, 2: 0.0}
    sizes = (0, 16, 64, 256, 1024, 4096, 16384)
    (group,) = groups_of(_rows(sizes, value=lambda n, s: float(curve(n, R0, 0.4, 150.0, 0.7)) + shift[s] * (n > 0)
                               + 0.01 * (n == 256)))
    assert learning_curve_row(group, None, 0.3, LEVEL, metric=METRIC)["note"] == ""
    tight = Replicates(100, size_mean={METRIC: np.column_stack([np.tile([-1e-3, 1e-3], 50)] * len(sizes))})
    row = learning_curve_row(group, tight, 0.3, LEVEL, metric=METRIC)
    assert row["note"].startswith("lack of fit at N = ") and math.isnan(row["r_inf"])


# --------------------------------------------------------------------------- the full fit's verdicts, with a stand-in


def _saturating_group():
    (group,) = groups_of(_rows((0, 16, 64, 256, 1024, 4096, 16384)))
    return group


def test_a_fit_that_never_converges_says_so_with_the_comparison(monkeypatch) -> None:
    monkeypatch.setattr("swimscale.analysis._curves.fit", lambda *args, **kw: None)
    row = learning_curve_row(_saturating_group(), None, 0.3, LEVEL, metric=METRIC)
    assert row["note"].startswith("curve_fit did not converge from any start; no plateau: ")
    assert math.isnan(row["aicc_saturating"]) and math.isnan(row["r_inf"])


@pytest.mark.parametrize("r_inf, note", [
    (1.0 - 1e-6, "fitted R∞ at its bound (1): plateau not identified"),
    (0.0 + 1e-6, "fitted R∞ at its bound (1e-06): plateau not identified"),
    (0.05 + 0.002, "no gain: fitted R∞ = 0.052 ≤ R0 = 0.052"),
])
def test_the_fits_limits_are_inclusive(monkeypatch, r_inf: float, note: str) -> None:
    """R∞ within 1e-6 of a bound, or exactly R0 (the group's zero-shot mean), is not reported."""
    group = _saturating_group()
    r0 = float(group.rows.loc[group.rows["size"] == 0, METRIC].mean())
    planted = Fit(r0 if note.startswith("no gain") else r_inf, 150.0, 0.7, 1e-12)
    monkeypatch.setattr("swimscale.analysis._curves.fit", lambda *args, **kw: planted)
    row = learning_curve_row(group, None, 0.3, LEVEL, metric=METRIC)
    assert row["preferred_model"] == "saturating" and row["note"] == note


def test_the_comparison_counts_every_trained_run_n_1_included() -> None:
    from swimscale.analysis._curve_model import aicc

    table = _rows((0, 1, 4, 16, 64, 256), value=lambda n, s: float(curve(n, R0, 0.4, 0.3, 2.0)) + 0.001 * s)
    (group,) = groups_of(table)
    row = learning_curve_row(group, None, 0.3, LEVEL, metric=METRIC)
    y = table.loc[table["size"] > 0, METRIC].to_numpy(float)
    assert row["aicc_flat"] == pytest.approx(aicc(float(np.sum((y - y.mean()) ** 2)), len(y), 1))
