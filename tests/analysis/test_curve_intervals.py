"""The learning curve's intervals and checks (analysis/_curves.py), number by number.

- bootstrap refits: a seed drawn twice weighs twice (held to a fit on the runs repeated), R0 of a
  replicate is the mean of its drawn N = 0 runs, and a replicate without one fails;
- intervals of N (N90, N(target)) when some refits are undefined, held to a slow quantile reference;
- the lack-of-fit rule on a planted misfit and a planted fit, with each source of the standard error.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from swimscale.analysis._bootstrap import Replicates
from swimscale.analysis._curve_model import Fit, curve, fit, fit_bounds, n_at_fraction, n_for_target
from swimscale.analysis._curves import (
    _derived,
    _fmt,
    _check_lack_of_fit,
    _n_ci,
    _r_inf_ci,
    _refits,
    _Unreliable,
    learning_curve_row,
)
from swimscale.analysis._groups import groups_of

METRIC = "ndcg_at_10"  # not the default metric: the column is read by name
LEVEL = 0.9
SIZES = (16, 64, 256, 1024, 4096)
TRUTH = Fit(0.4, 150.0, 0.7, 0.0)
R0 = 0.05
NOISE = {0: 0.004, 1: -0.006, 2: 0.003}


def _table(zero_seeds=(0, 1, 2), noise=NOISE) -> pd.DataFrame:
    rows = [{"size": 0, "seed": s, METRIC: R0 + 0.002 * s} for s in zero_seeds]
    for s, shift in noise.items():
        for i, n in enumerate(SIZES):
            value = float(curve(n, R0, TRUTH.r_inf, TRUTH.n0, TRUTH.alpha)) + shift * (1 + (i % 2))
            rows.append({"size": n, "seed": s, METRIC: value})
    return pd.DataFrame(rows).assign(language="ny", benchmark="b", method="m")


def _slow_quantile(values: np.ndarray, q: float) -> float:
    """Linear interpolation between order statistics (numpy's default), written out."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = int(math.floor(position))
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (position - below) * (ordered[above] - ordered[below])


# --------------------------------------------------------------------------- bootstrap refits


def test_a_seed_drawn_twice_weighs_as_its_runs_repeated() -> None:
    table = _table(zero_seeds=(0, 1))
    (group,) = groups_of(table)
    trained = group.rows[group.rows["size"] > 0]
    bounds = fit_bounds(trained["size"].to_numpy(float))
    best = fit(trained["size"].to_numpy(float), trained[METRIC].to_numpy(float), R0 + 0.001, bounds=bounds)
    draws = np.array([[0, 0, 1], [1, 2, 2], [2, 2, 2], [0, 1, 2], [1, 1, 0]])
    rng = np.random.default_rng(0)
    values = group.rows[METRIC].to_numpy(float)
    cell_means = values + rng.normal(0, 0.01, (len(draws), len(values)))
    cell_means[4] = values * 0.2  # a replicate whose curve never gains over its R0
    reps = Replicates(len(draws), cell_means={METRIC: cell_means}, seed_draws=draws)
    target = 0.3
    results = _refits(group, reps, METRIC, best, bounds, target)
    assert results.shape == (5, 3)
    for b, drawn in enumerate(draws):
        cells = [group.rows.index[group.rows["seed"] == group.seeds[k]] for k in drawn]
        repeated = group.rows.loc[np.concatenate(cells)].assign(y=cell_means[b][np.concatenate(cells)])
        zero = repeated[repeated["size"] == 0]
        if not len(zero):  # seed 2 has no N = 0 run: no R0, no refit
            assert np.isnan(results[b]).all()
            continue
        r0 = float(zero["y"].mean())
        runs = repeated[repeated["size"] > 0]
        reference = fit(runs["size"].to_numpy(float), runs["y"].to_numpy(float), r0, starts=[best.params], bounds=bounds)
        assert results[b, 0] == pytest.approx(reference.r_inf, rel=1e-4)
        if reference.r_inf > r0:
            assert results[b, 1] == pytest.approx(n_at_fraction(reference.n0, reference.alpha), rel=1e-3)
            assert results[b, 2] == pytest.approx(
                n_for_target(r0, reference.r_inf, reference.n0, reference.alpha, target), rel=1e-3)
        else:
            assert np.isnan(results[b, 1]) and results[b, 2] == np.inf
    assert np.isnan(results[2]).all() and results[4, 2] == np.inf


def test_too_many_failed_refits_give_no_cis() -> None:
    """Replicates drawing only seed 2 (no N = 0 run) fail: 2 of 10 (> 10 %) leave no CIs, 1 of 10 does not."""
    (group,) = groups_of(_table(zero_seeds=(0, 1)))
    values = group.rows[METRIC].to_numpy(float)
    for failed, expected in ((2, "only 8 of 10 bootstrap refits converged: no CIs"), (1, "")):
        draws = np.array([[2, 2, 2]] * failed + [[0, 1, 2], [1, 0, 2], [0, 0, 1]] * 4)[:10]
        reps = Replicates(10, cell_means={METRIC: np.tile(values, (10, 1))}, seed_draws=draws)
        row = learning_curve_row(group, reps, 0.2, LEVEL, metric=METRIC)
        assert (row["n_boot_fit"], row["n_boot_ok"]) == (10, 10 - failed)
        assert (expected in row["note"]) if expected else ("converged" not in row["note"])
        assert math.isnan(row["r_inf_ci_low"]) == bool(expected)


def test_the_plateaus_interval_is_the_percentile_interval_of_the_refits() -> None:
    (group,) = groups_of(_table())
    values = group.rows[METRIC].to_numpy(float)
    rng = np.random.default_rng(2)
    draws = rng.integers(0, 3, (40, 3))
    cell_means = values + rng.normal(0, 0.003, (40, len(values)))
    reps = Replicates(40, cell_means={METRIC: cell_means}, seed_draws=draws)
    row = learning_curve_row(group, reps, 0.2, LEVEL, metric=METRIC)
    trained = group.rows[group.rows["size"] > 0]
    bounds = fit_bounds(trained["size"].to_numpy(float))
    best = fit(trained["size"].to_numpy(float), trained[METRIC].to_numpy(float), row["r0"], bounds=bounds)
    refits = _refits(group, reps, METRIC, best, bounds, 0.2)
    assert row["r_inf"] == pytest.approx(best.r_inf) and row["n_boot_ok"] == 40
    assert row["r_inf_ci_low"] == pytest.approx(_slow_quantile(refits[:, 0], 0.05))
    assert row["r_inf_ci_high"] == pytest.approx(_slow_quantile(refits[:, 0], 0.95))
    assert row["n90_ci_low"] == pytest.approx(_slow_quantile(refits[:, 1], 0.05))
    assert row["n_target_ci_high"] == pytest.approx(_slow_quantile(refits[:, 2], 0.95))
    assert row["rmse"] == pytest.approx(math.sqrt(best.sse / 15))


def test_a_too_wide_plateau_interval_is_refused() -> None:
    row = {"r_inf": 0.4, "r_inf_ci_low": math.nan, "r_inf_ci_high": math.nan}
    assert _r_inf_ci(row, np.linspace(0.1, 0.6, 101), LEVEL) == ""
    assert (row["r_inf_ci_low"], row["r_inf_ci_high"]) == (pytest.approx(0.125), pytest.approx(0.575))
    row = {"r_inf": 0.4, "r_inf_ci_low": math.nan, "r_inf_ci_high": math.nan}
    assert _r_inf_ci(row, np.linspace(0.0, 0.8, 101), LEVEL) == "R∞ = 0.4 unreliable: 90 % CI [0.04, 0.76] too wide"
    assert math.isnan(row["r_inf"]) and math.isnan(row["r_inf_ci_low"])


# --------------------------------------------------------------------------- intervals of N


def _n_row(key: str, value: float = 500.0) -> dict:
    return {key: value, f"{key}_ci_low": math.nan, f"{key}_ci_high": math.nan}


@pytest.mark.parametrize("key, name", [("n90", "N90"), ("n_target", "N(target)")])
def test_undefined_refits_count_as_the_upper_tail(key: str, name: str) -> None:
    """4 of 100 refits undefined (≤ 5 %, the upper tail of a 90 % CI): counted as +∞ there."""
    rng = np.random.default_rng(3)
    values = rng.uniform(200, 900, 100)
    values[[3, 50, 77]] = np.inf
    values[10] = np.nan
    row = _n_row(key)
    assert _n_ci(row, key, name, values, 4096.0, LEVEL) == ""
    upper = np.where(np.isfinite(values), values, np.inf)
    assert row[f"{key}_ci_low"] == pytest.approx(_slow_quantile(upper, 0.05))
    expected_high = _slow_quantile(np.where(np.isfinite(values), values, 1e300), 0.95)
    assert row[f"{key}_ci_high"] == pytest.approx(expected_high)
    assert expected_high < 900 and row[key] == 500.0


@pytest.mark.parametrize("key, name, why", [("n90", "N90", "gain ≤ 0"), ("n_target", "N(target)", "the target is not reached")])
def test_more_undefined_refits_than_the_tail_leave_no_n(key: str, name: str, why: str) -> None:
    values = np.r_[np.linspace(200, 900, 94), [np.inf] * 5, np.nan]
    row = _n_row(key)
    note = _n_ci(row, key, name, values, 4096.0, LEVEL)
    assert note == f"{name} unreliable: {why} in 6 of 100 bootstrap refits (upper CI unbounded)"
    assert math.isnan(row[key]) and math.isnan(row[f"{key}_ci_low"])


def test_an_n_that_is_not_reported_gets_no_interval() -> None:
    row = _n_row("n90", math.nan)
    assert _n_ci(row, "n90", "N90", np.full(10, np.inf), 4096.0, LEVEL) == ""
    assert math.isnan(row["n90_ci_low"]) and math.isnan(row["n90_ci_high"])


def test_the_limits_of_an_n_interval() -> None:
    # up to 100 × the largest N, and a ratio of up to 1000, are reported
    row = _n_row("n90")
    assert _n_ci(row, "n90", "N90", np.full(20, 409600.0), 4096.0, LEVEL) == ""
    assert row["n90_ci_high"] == 409600.0
    row = _n_row("n90")
    assert _n_ci(row, "n90", "N90", np.r_[[1.0] * 50, [1000.0] * 50], 4096.0, LEVEL) == ""
    assert (row["n90_ci_low"], row["n90_ci_high"]) == (1.0, 1000.0)
    row = _n_row("n90")
    assert _n_ci(row, "n90", "N90", np.r_[[0.0] * 50, [900.0] * 50], 4096.0, LEVEL) == ""  # from 0: no ratio
    # beyond either: not reported
    row = _n_row("n90")
    assert _n_ci(row, "n90", "N90", np.full(20, 409601.0), 4096.0, LEVEL) == "N90 unreliable: 90 % CI [409,601, 409,601] too wide"
    assert math.isnan(row["n90"]) and math.isnan(row["n90_ci_high"])
    row = _n_row("n_target")
    note = _n_ci(row, "n_target", "N(target)", np.r_[[1.0] * 50, [1001.0] * 50], 4096.0, LEVEL)
    assert note == "N(target) unreliable: 90 % CI [1, 1,001] too wide" and math.isnan(row["n_target"])


# --------------------------------------------------------------------------- lack of fit


def _reps_with_se(group, se_by_size: dict[int, float]) -> Replicates:
    """size_mean replicates whose (ddof 0) SD at each size is the given SE: ±SE, half each."""
    columns = [np.tile([-1.0, 1.0], 50) * se_by_size.get(int(n), 0.0) for n in group.sizes]
    return Replicates(100, size_mean={METRIC: np.column_stack(columns)})


def _planted(shift_at_256: float, seeds=(0, 1, 2)) -> tuple:
    table = _table(noise={s: 0.0 for s in seeds})
    table.loc[table["size"] == 256, METRIC] += shift_at_256
    (group,) = groups_of(table)
    return group, table


def test_a_planted_fit_passes_and_a_planted_misfit_is_named() -> None:
    group, _ = _planted(0.029)
    reps = _reps_with_se(group, {n: 0.01 for n in SIZES})
    _check_lack_of_fit(group, reps, METRIC, R0, TRUTH)  # 2.9 SE: a fit
    group, table = _planted(0.031)
    with pytest.raises(_Unreliable) as error:
        _check_lack_of_fit(group, reps, METRIC, R0, TRUTH)
    mean = float(table.loc[table["size"] == 256, METRIC].mean())
    fitted = float(curve(256, R0, TRUTH.r_inf, TRUTH.n0, TRUTH.alpha))
    assert str(error.value) == (
        f"lack of fit at N = 256: mean {mean:.3g} vs curve {fitted:.3g} (3.1 SE); "
        "the saturating curve does not describe these data")


def test_the_replicates_se_is_that_of_the_size_itself() -> None:
    """A wide SE at N = 256 only (column 3 of the sizes, N = 0 first): the misfit there is within it."""
    group, _ = _planted(0.05)
    _check_lack_of_fit(group, _reps_with_se(group, {**{n: 0.001 for n in SIZES}, 256: 0.02}), METRIC, R0, TRUTH)
    with pytest.raises(_Unreliable, match="at N = 256"):
        _check_lack_of_fit(group, _reps_with_se(group, {**{n: 0.02 for n in SIZES}, 256: 0.001}), METRIC, R0, TRUTH)


def test_without_replicates_the_se_is_that_of_the_seed_means() -> None:
    noise = {0: 0.01, 1: -0.01, 2: 0.0}  # seed SD 0.01 at every size: SE 0.01 / √3
    table = _table(noise=noise)
    for shift, misfit in ((0.0, False), (0.0085, False), (0.02, True)):
        shifted = table.copy()
        shifted.loc[shifted["size"] == 256, METRIC] += shift
        (group,) = groups_of(shifted)
        values = shifted.loc[shifted["size"] == 256, METRIC]
        se = float(values.std(ddof=1) / math.sqrt(3))
        # odd sizes carry twice the noise (see _table): N = 256 is size index 2, noise × 1
        assert se == pytest.approx(0.01 / math.sqrt(3))
        if misfit:
            with pytest.raises(_Unreliable, match=r"at N = 256: .* \(3\.5 SE\)"):
                _check_lack_of_fit(group, None, METRIC, R0, TRUTH)
        else:
            _check_lack_of_fit(group, None, METRIC, R0, TRUTH)


def test_one_seed_and_no_replicates_cannot_judge_and_identical_seeds_get_a_floor() -> None:
    group, _ = _planted(0.2, seeds=(0,))
    _check_lack_of_fit(group, None, METRIC, R0, TRUTH)  # one value per size: no SE, no verdict
    # one seed with replicates: the replicates need two seeds to judge, the values one per size
    _check_lack_of_fit(group, _reps_with_se(group, {n: 1e-4 for n in SIZES}), METRIC, R0, TRUTH)
    group, _ = _planted(2.5e-6)  # identical seeds, noiseless: SE floored at 1e-6
    _check_lack_of_fit(group, None, METRIC, R0, TRUTH)  # 2.5 floored SEs: a fit
    group, _ = _planted(3.5e-6)
    with pytest.raises(_Unreliable, match=r"at N = 256"):
        _check_lack_of_fit(group, None, METRIC, R0, TRUTH)



# --------------------------------------------------------------------------- what is reported of the fit


def _derived_row(best: Fit, target: float, r0: float = R0, min_n: float = 16.0, max_n: float = 4096.0) -> tuple:
    row = {"r0": r0, "n_points": 20}
    notes = _derived(row, best, target, min_n, max_n)
    return row, notes


def test_the_fits_numbers_and_their_closed_forms() -> None:
    best = Fit(0.4, 150.0, 0.7, 0.0008)
    row, notes = _derived_row(best, 0.3)
    assert notes == ["", ""]
    assert (row["r_inf"], row["n0"], row["alpha"]) == (0.4, 150.0, 0.7)
    assert row["rmse"] == pytest.approx(math.sqrt(0.0008 / 20))
    assert row["n90"] == pytest.approx(150.0 * (0.1 ** (-1 / 0.7) - 1))
    # R(N) = target: 0.4 − 0.35 (1 + N/150)^(−0.7) = 0.3
    assert row["n_target"] == pytest.approx(150.0 * ((0.35 / 0.1) ** (1 / 0.7) - 1))


def test_an_n_outside_the_sweep_is_not_reported_and_says_why() -> None:
    row, notes = _derived_row(Fit(0.4, 1.0, 2.0, 0.0), 0.39)  # N90 = 2.16, below the smallest N
    assert notes[0] == "N90 below the smallest trained N = 16 (the fit says 2.16): not resolved by the sweep"
    assert math.isnan(row["n90"]) and math.isnan(row["n_target"])
    assert notes[1] == "N(target) below the smallest trained N = 16 (the fit says 4.92): not resolved by the sweep"
    row, notes = _derived_row(Fit(0.4, 2e5, 0.5, 0.0), 0.3)  # N90 = 1.98e7, N(target) = 2.25e6 > 100 × 4,096
    assert notes[0] == "N90 = 2e+07 is beyond 100 × the largest N (4096): extrapolation" and math.isnan(row["n90"])
    assert notes[1] == "N(target) = 2.2e+06 is beyond 100 × the largest N (4096): extrapolation"
    assert math.isnan(row["n_target"])


def test_a_target_reached_at_zero_shot_or_never() -> None:
    row, notes = _derived_row(Fit(0.4, 150.0, 0.7, 0.0), 0.05)  # R0 = target: reached at N = 0
    assert notes[1] == "target 0.05 already reached at N = 0 (R0 = 0.05)" and row["n_target"] == 0.0
    row, notes = _derived_row(Fit(0.4, 150.0, 0.7, 0.0), 0.4)  # R∞ = target: never
    assert notes[1] == "target 0.4 not reached: fitted R∞ = 0.4" and math.isnan(row["n_target"])


def test_the_limits_of_the_sweep_are_inclusive() -> None:
    best = Fit(0.4, 16.0, 1.0, 0.0)  # N90 = 9 N0 = 144 (to rounding)
    n90 = float(n_at_fraction(16.0, 1.0))
    assert 100 * (n90 / 100) == n90
    for min_n, max_n in ((n90, 4096.0), (16.0, n90 / 100)):
        row, notes = _derived_row(best, 0.3, min_n=min_n, max_n=max_n)
        assert notes[0] == "" and row["n90"] == n90


@pytest.mark.parametrize("value, text", [
    (math.inf, "inf"), (math.nan, "nan"), (2_345_678.0, "2.3e+06"), (1e6, "1e+06"), (999_999.0, "999,999"),
    (1234.4, "1,234"), (100.0, "100"), (-250.0, "-250"), (99.5, "99.5"), (12.345, "12.3"), (0.0123, "0.0123"),
])
def test_numbers_in_the_notes(value: float, text: str) -> None:
    assert _fmt(value) == text
