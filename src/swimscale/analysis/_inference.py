"""Inference for a trend that respects the design: seeds are the replicates, queries are shared.

The runs of one seed are nested (its 32-sample is inside its 128-sample) and every run is scored on
the same queries, so the size × seed runs of a language are not independent points. A statistic T of
the metric against log N (Spearman ρ, a slope, ...) is therefore computed **within each seed**, over
that seed's sizes, and averaged over the S seeds:

    T̄ = (1/S) Σ_s T_s,      SE² = s²_T / S + V_shared,      CI: T̄ ± t(S − 1, (1 + level)/2) · SE

* ``s²_T / S`` is the between-seed variance of the mean (each seed's own training randomness and its
  own run-by-query noise);
* ``V_shared`` is the part of the query sampling that all seeds share (a query that every trained
  student finds easier as N grows moves every T_s the same way, so the seeds' spread cannot show it).
  It is the mean covariance between two seeds' T*_s under the query bootstrap with the seeds held
  fixed: ``V_shared = (Var*(Σ_s T*_s) − Σ_s Var*(T*_s)) / (S (S − 1))`` (0 when negative). Each seed's
  own query noise is in ``s²_T`` already and is not counted twice. ``s²_T`` is floored at that own noise,
  ``mean_s Var*(T*_s) − V_shared``: seeds cannot agree more closely than their own query noise allows,
  and a discrete statistic (ρ over 5 sizes) whose few seeds happen to tie would otherwise get an
  interval of width 0.

The t distribution has S − 1 degrees of freedom (conservative for the shared part, which rests on many
queries; the floor makes it more so). The p-value is the same t test of T̄ = 0. With one seed there is
no interval. For a bounded statistic (a correlation) an interval reaching past ±1 is cut there, and
the note says so: with few seeds the data cannot bound it. No seed is ever resampled for a trend, so
no replicate is one seed's curve repeated S times -- the source of the ±1 limits a seed bootstrap
gives with 3 seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

# Query replicates in which a seed's statistic is undefined are left out; beyond MAX_UNDEFINED_SHARE of
# them, V_shared is not estimated (and the note says so).
from swimscale.formats import MAX_UNDEFINED_SHARE

CUT = "interval cut at ±1 (the t interval reaches past it: too few seeds to bound it)"


@dataclass(frozen=True)
class SeedInterval:
    """The mean over seeds of a per-seed statistic, with its design-based interval and test."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    se: float
    df: float
    shared_share: float  # the share of SE² that comes from the queries shared by all seeds
    note: str = ""


def query_variances(replicates: np.ndarray) -> tuple[float, float, str]:
    """From (b, S) query-bootstrap replicates of the per-seed statistics (seeds fixed): V_shared (the
    mean covariance between two seeds) and the mean variance of one seed's statistic; NaN with a note
    when they cannot be estimated."""
    b, n_seeds = replicates.shape
    ok = np.isfinite(replicates).all(axis=1)
    if b < 2 or ok.sum() < 2:
        return math.nan, math.nan, "no query resamples: the query part shared by the seeds is not estimated"
    if 1 - ok.mean() > MAX_UNDEFINED_SHARE:
        why = f"statistic undefined in {b - ok.sum()} of {b} query resamples: the shared query part is not estimated"
        return math.nan, math.nan, why
    kept = replicates[ok]
    total = float(np.var(kept.sum(axis=1), ddof=1))
    own = float(np.var(kept, axis=0, ddof=1).sum())
    return max(total - own, 0.0) / (n_seeds * (n_seeds - 1)), own / n_seeds, ""


def seed_t_interval(
    per_seed: np.ndarray, replicates: np.ndarray | None, level: float, bounded: bool = False
) -> SeedInterval:
    """The mean of ``per_seed`` (one value per seed) with a t(S − 1) interval (see the module docstring).

    ``replicates``: (b, S) values of the same statistic under query resamples with the seeds fixed, or
    None (no per-query data: the interval then rests on the seeds alone).
    """
    values = np.asarray(per_seed, dtype=float)
    n_seeds = len(values)
    estimate = float(values.mean()) if n_seeds else math.nan
    if n_seeds < 2:
        return SeedInterval(estimate, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan,
                            "one seed: no interval (seeds are the replicates)")
    v_shared, v_one, note = (0.0, 0.0, "") if replicates is None else query_variances(replicates)
    v_shared, v_one = (0.0, 0.0) if math.isnan(v_shared) else (v_shared, v_one)
    # The seeds cannot agree more closely than each seed's own (unshared) query noise allows: a floor
    # that keeps a discrete statistic whose few seeds happen to tie from getting a zero-width interval.
    spread = float(values.var(ddof=1))
    floor = v_one - v_shared
    v_seed = max(spread, floor) / n_seeds
    se = math.sqrt(v_seed + v_shared)
    df = n_seeds - 1  # also where the floor decides: conservative, never narrower than 3 seeds allow
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    lo, hi = estimate - half, estimate + half
    if bounded and (lo < -1 or hi > 1):
        lo, hi = max(lo, -1.0), min(hi, 1.0)
        note = "; ".join(n for n in (note, CUT) if n)
    if se > 0:
        p = float(2 * stats.t.sf(abs(estimate) / se, df))
    else:
        p = 1.0 if estimate == 0 else 0.0
    share = v_shared / (v_seed + v_shared) if se > 0 else 0.0
    return SeedInterval(estimate, lo, hi, p, se, float(df), share, note)
