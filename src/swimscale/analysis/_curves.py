"""The learning-curve table: per language × benchmark × method, the saturating curve where the data
prefer it, with its plateau R∞, N90 and N(target) and their CIs; the model comparison always.

R0 is the measured zero-shot mean. A curve needs N = 0 and :data:`MIN_TRAINED_SIZES` distinct sizes
N > 0; the three models (:mod:`swimscale.analysis._curve_model`) are compared by AICc, and R∞ is named
a plateau only when the saturating curve is preferred. CIs refit the curve on the first ``n_boot_fit``
replicates of the bootstrap (same query and seed resamples; a seed drawn twice weighs twice; R0 from
the same query resample). A fit that is not reliable says why in ``note`` and leaves the numbers NaN
(see :func:`learning_curve_row`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from swimscale.analysis._bootstrap import Replicates, percentile_ci, query_counts
from swimscale.analysis._correlation import too_few_sizes
from swimscale.analysis._curve_model import (
    MODEL_WORDS,
    SATURATING,
    UNDECIDED,
    Fit,
    compare_models,
    curve,
    fit,
    fit_bounds,
    model_sse,
    n_at_fraction,
    n_for_target,
    seed_choices,
    seed_confirmed,
)
from swimscale.analysis._groups import Group
from swimscale.analysis._schema import CURVE_COLUMNS, MAIN_METRIC, join_notes, level_words

EXTRAPOLATION = 100.0  # N90 / N(target) beyond this × the largest N is not reported
MAX_FAILED_SHARE = 0.10  # more failed refits than this: no CI
MAX_R_INF_CI_WIDTH = 0.5  # on the metric's [0, 1] scale
MAX_N_CI_RATIO = 1000.0  # an N CI spanning more than 3 orders of magnitude is no estimate
LACK_OF_FIT_Z = 3.0


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if abs(v) >= 1e6:
        return f"{v:.2g}"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _n_check(name: str, value: float, min_n: float, max_n: float) -> str:
    """Why an N-valued quantity is not reported, or ""."""
    if 0 < value < min_n:
        return f"{name} below the smallest trained N = {min_n:g} (the fit says {_fmt(value)}): not resolved by the sweep"
    if value > EXTRAPOLATION * max_n:
        return f"{name} = {_fmt(value)} is beyond {EXTRAPOLATION:g} × the largest N ({max_n:g}): extrapolation"
    return ""


class _Unreliable(Exception):
    """A reason why the curve (or its CIs) is not reported; its message goes to ``note``."""


def _empty_row(group: Group, metric: str, target: float) -> dict[str, Any]:
    rows = group.rows
    zero = rows.loc[rows["size"] == 0, metric].dropna()
    row: dict[str, Any] = {
        "language": group.language,
        "benchmark": group.benchmark,
        "method": group.method,
        "metric": metric,
        "n_sizes": int(rows.loc[rows[metric].notna(), "size"].nunique()),
        "n_points": int(((rows["size"] > 0) & rows[metric].notna()).sum()),
        "n_seeds": group.trained_seeds,
        "r0": float(zero.mean()) if len(zero) else math.nan,
        "target_recall": target,
        "n_boot_fit": 0,
        "n_boot_ok": 0,
    }
    row.update(dict.fromkeys(("r_inf", "n0", "alpha", "n90", "n_target", "rmse", "delta_aicc"), math.nan))
    row.update(dict.fromkeys(("aicc_flat", "aicc_log_linear", "aicc_saturating"), math.nan))
    row["preferred_model"] = ""
    for name in ("r_inf", "n90", "n_target"):
        row[f"{name}_ci_low"] = row[f"{name}_ci_high"] = math.nan
    return row


def _check_lack_of_fit(group: Group, reps: Replicates | None, metric: str, r0: float, best: Fit) -> None:
    """Raise when the curve misses a size mean by more than LACK_OF_FIT_Z standard errors."""
    trained = _trained(group, metric)
    fitted_means = curve(group.trained_sizes, r0, best.r_inf, best.n0, best.alpha)
    for i, size in enumerate(group.sizes):
        if size == 0:
            continue
        values = trained.loc[trained["size"] == size, metric]
        if reps is not None and reps.has(metric) and group.trained_seeds >= 2:
            se = float(np.nanstd(reps.size_mean[metric][:, i]))
        elif len(values) >= 2:
            se = float(values.std() / math.sqrt(len(values)))
        else:
            continue
        resid = float(values.mean()) - float(fitted_means[list(group.trained_sizes).index(size)])
        se = max(se, 1e-6)  # identical seeds (and noiseless data) have no spread
        if abs(resid) > LACK_OF_FIT_Z * se:
            raise _Unreliable(
                f"lack of fit at N = {size}: mean {values.mean():.3g} vs curve {values.mean() - resid:.3g} "
                f"({abs(resid) / se:.1f} SE); the saturating curve does not describe these data"
            )


def _trained(group: Group, metric: str) -> pd.DataFrame:
    return group.rows[(group.rows["size"] > 0) & group.rows[metric].notna()]


def _compare(row: dict[str, Any], group: Group, metric: str, best: Fit | None) -> str:
    """Fill the AICc columns and the preferred model; why there is no plateau, or ""."""
    trained = _trained(group, metric)
    sse = model_sse(trained["size"].to_numpy(dtype=float), trained[metric].to_numpy(dtype=float), best)
    scores, overall, margin = compare_models(sse, len(trained))
    seeds = seed_choices(trained["size"].to_numpy(), trained[metric].to_numpy(), trained["seed"].to_numpy(), row["r0"])
    preferred, overruled = seed_confirmed(overall, seeds)  # the nested runs of a seed are one replicate
    row.update({f"aicc_{name.replace('-', '_')}": value for name, value in scores.items()})
    row["preferred_model"], row["delta_aicc"] = preferred, margin
    if preferred == SATURATING:
        return ""
    listed = ", ".join(f"{name} {value:.1f}" for name, value in scores.items() if math.isfinite(value))
    if overruled:
        return f"no plateau: {overruled} (AICc {listed})"
    if preferred == UNDECIDED:
        return f"no plateau: no model is ahead by ΔAICc ≥ 2 (AICc {listed})"
    return f"no plateau: {MODEL_WORDS[preferred]} fits best (AICc {listed})"


def _fit_group(row: dict[str, Any], group: Group, reps: Replicates | None, metric: str) -> tuple[Fit, list]:
    """The full-data fit and its bounds; raises :class:`_Unreliable` when there is none to report."""
    r0 = row["r0"]
    if math.isnan(r0):
        raise _Unreliable("no N = 0 run: R0 unknown, no learning curve")
    trained = _trained(group, metric)
    why = too_few_sizes(trained["size"].unique())
    if why:
        raise _Unreliable(why.replace("a trend", "a learning curve"))
    n = trained["size"].to_numpy(dtype=float)
    bounds = fit_bounds(n)
    best = fit(n, trained[metric].to_numpy(dtype=float), r0, bounds=bounds)
    no_plateau = _compare(row, group, metric, best)
    if best is None:
        raise _Unreliable(join_notes("curve_fit did not converge from any start", no_plateau))
    if no_plateau:
        raise _Unreliable(no_plateau)
    if best.r_inf <= bounds[0][0] + 1e-6 or best.r_inf >= bounds[1][0] - 1e-6:
        raise _Unreliable(f"fitted R∞ at its bound ({best.r_inf:.3g}): plateau not identified")
    if best.r_inf - r0 <= 0:
        raise _Unreliable(f"no gain: fitted R∞ = {best.r_inf:.3g} ≤ R0 = {r0:.3g}")
    _check_lack_of_fit(group, reps, metric, r0, best)
    return best, bounds


def _derived(row: dict[str, Any], best: Fit, target: float, min_n: float, max_n: float) -> list[str]:
    """Fill R∞, N0, α, N90 and N(target) from the fit; the notes on what is not reported."""
    r0 = row["r0"]
    row.update(r_inf=best.r_inf, n0=best.n0, alpha=best.alpha, rmse=math.sqrt(best.sse / row["n_points"]))
    n90 = float(n_at_fraction(best.n0, best.alpha))
    why_n90 = _n_check("N90", n90, min_n, max_n)
    row["n90"] = math.nan if why_n90 else n90
    n_target = float(n_for_target(r0, best.r_inf, best.n0, best.alpha, target))
    if n_target == 0:
        why_target = f"target {target:g} already reached at N = 0 (R0 = {r0:.3g})"
    elif math.isinf(n_target):
        why_target = f"target {target:g} not reached: fitted R∞ = {best.r_inf:.3g}"
    else:
        why_target = _n_check("N(target)", n_target, min_n, max_n)
    row["n_target"] = n_target if (not why_target or n_target == 0) else math.nan
    return [why_n90, why_target]


def _refits(group: Group, reps: Replicates, metric: str, best: Fit, bounds: list, target: float) -> np.ndarray:
    """(refits, 3): R∞, N90 and N(target) refitted on each kept bootstrap replicate (NaN: failed)."""
    cell_means = reps.cell_means[metric]
    n_fit = len(cell_means)
    seed_counts = query_counts(reps.seed_draws, len(group.seeds))  # (n_fit, seeds)
    cell_seed = np.searchsorted(group.seeds, group.rows["seed"].to_numpy())
    cell_size = group.rows["size"].to_numpy(dtype=float)
    weights = seed_counts[:, cell_seed]  # (n_fit, cells): a seed drawn twice weighs twice
    is_trained = (cell_size > 0) & group.rows[metric].notna().to_numpy()
    is_zero = cell_size == 0
    results = np.full((n_fit, 3), np.nan)
    start = [best.params]
    for b in range(n_fit):
        w0 = weights[b, is_zero]
        if w0.sum() == 0:
            continue
        r0_b = float(np.sum(w0 * cell_means[b, is_zero]) / w0.sum())
        args = (cell_size[is_trained], cell_means[b, is_trained], r0_b, weights[b, is_trained])
        refit = fit(*args, start, bounds) or fit(*args, None, bounds)
        if refit is None:
            continue
        gain_b = refit.r_inf - r0_b
        results[b, 0] = refit.r_inf
        results[b, 1] = n_at_fraction(refit.n0, refit.alpha) if gain_b > 0 else np.nan
        results[b, 2] = n_for_target(r0_b, refit.r_inf, refit.n0, refit.alpha, target) if gain_b > 0 else np.inf
    return results


def _r_inf_ci(row: dict[str, Any], values: np.ndarray, level: float) -> str:
    lo, hi, _ = percentile_ci(values, level)
    if hi - lo > MAX_R_INF_CI_WIDTH:
        why = f"R∞ = {row['r_inf']:.3g} unreliable: {level_words(level)} CI [{lo:.3g}, {hi:.3g}] too wide"
        row["r_inf"] = math.nan
        return why
    row["r_inf_ci_low"], row["r_inf_ci_high"] = lo, hi
    return ""


def _n_ci(row: dict[str, Any], key: str, name: str, values: np.ndarray, max_n: float, level: float) -> str:
    """The CI of an N-valued quantity, or why it (and the quantity) is not reported."""
    if math.isnan(row[key]):
        return ""
    undefined = ~np.isfinite(values)
    alpha_tail = (1 - level) / 2
    if undefined.mean() > alpha_tail:
        why = "gain ≤ 0" if key == "n90" else "the target is not reached"
        row[key] = math.nan
        return f"{name} unreliable: {why} in {undefined.sum()} of {len(values)} bootstrap refits (upper CI unbounded)"
    # Undefined refits (never reached) belong to the upper tail: count them as +inf there.
    # (1e300 rather than inf keeps the interpolation finite; such an upper limit fails the check below.)
    lo, hi = np.quantile(np.where(undefined, 1e300, values), [alpha_tail, 1 - alpha_tail])
    if hi > EXTRAPOLATION * max_n or (lo > 0 and hi / lo > MAX_N_CI_RATIO):
        row[key] = math.nan
        return f"{name} unreliable: {level_words(level)} CI [{_fmt(lo)}, {_fmt(hi)}] too wide"
    row[f"{key}_ci_low"], row[f"{key}_ci_high"] = float(lo), float(hi)
    return ""


def _bootstrap_cis(
    row: dict[str, Any], group: Group, reps: Replicates, metric: str, fitted: tuple, target: float, level: float
) -> list[str]:
    best, bounds, max_n = fitted
    results = _refits(group, reps, metric, best, bounds, target)
    ok = np.isfinite(results[:, 0])
    row["n_boot_fit"], row["n_boot_ok"] = len(results), int(ok.sum())
    if 1 - ok.mean() > MAX_FAILED_SHARE:
        return [f"only {ok.sum()} of {len(results)} bootstrap refits converged: no CIs"]
    results = results[ok]
    return [
        _r_inf_ci(row, results[:, 0], level),
        _n_ci(row, "n90", "N90", results[:, 1], max_n, level),
        _n_ci(row, "n_target", "N(target)", results[:, 2], max_n, level),
    ]


def learning_curve_row(
    group: Group, reps: Replicates | None, target: float, level: float, metric: str = MAIN_METRIC
) -> dict[str, Any]:
    """The fit and its CIs for one group; NaN with the reason in ``note`` where not reliable."""
    row = _empty_row(group, metric, target)
    try:
        best, bounds = _fit_group(row, group, reps, metric)
    except _Unreliable as why:
        row["note"] = str(why)
        return row
    trained_n = group.rows.loc[(group.rows["size"] > 0) & group.rows[metric].notna(), "size"].to_numpy(dtype=float)
    min_n, max_n = float(trained_n.min()), float(trained_n.max())
    notes = _derived(row, best, target, min_n, max_n)
    if reps is not None and metric in reps.cell_means and len(reps.cell_means[metric]):
        if group.trained_seeds < 2:
            notes.append("one seed: the seed-cluster bootstrap cannot resample seeds, so no CIs")
        else:
            notes += _bootstrap_cis(row, group, reps, metric, (best, bounds, max_n), target, level)
    row["note"] = join_notes(*notes)
    return row


def learning_curves(
    groups: Sequence[Group],
    replicates: Sequence[Replicates | None],
    target: float,
    level: float,
    metric: str = MAIN_METRIC,
) -> pd.DataFrame:
    """One row per group: see :func:`learning_curve_row`."""
    rows = [learning_curve_row(g, r, target, level, metric) for g, r in zip(groups, replicates)]
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)
