"""The sentences of ``summary.md`` that claim something: each one derived from an interval or a model
comparison, never from a point estimate alone.

* a gain over zero-shot is claimed at a size only where the paired CI of the gain lies above 0 (a loss
  only where it lies below); a CI that includes 0 is said to show no difference;
* a trend ("rises", "falls") only where the interval of the slope per doubling excludes 0;
* a plateau only where the saturating curve is the preferred model (AICc) and its R∞ is reliable.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from swimscale.analysis._curve_model import FLAT, LOG_LINEAR, SATURATING, UNDECIDED
from swimscale.analysis._schema import MIN_TRAINED_SIZES, series
from swimscale.analysis._statistics import TREND
from swimscale.analysis.report._format import finite, fmt_gain, fmt_metric, fmt_slope, with_ci

EVERY_SIZE_BEATS = "Every trained size beats zero-shot"
RISES, FALLS, NO_TREND = "rises with N", "falls as N grows", "No trend with N is shown"
LEVELS_OFF = "levels off"


def _sizes(rows: pd.DataFrame) -> str:
    return series([f"{int(n):,}" for n in rows["size"]])


def gain_claim(sizes: pd.DataFrame, label: str, level: str) -> str:
    """What the paired CIs of the gain over N = 0 show, size by size ("" without N = 0 or N > 0)."""
    zero = sizes[sizes["size"] == 0]
    trained = sizes[(sizes["size"] > 0) & sizes["gain"].notna()]
    if not len(zero) or not len(trained):
        return ""
    listed = series(
        [f"{with_ci(r.gain, r.gain_ci_low, r.gain_ci_high, fmt_gain)} at N = {int(r.size):,}" for r in trained.itertuples()]
    )
    with_cis = trained[trained["gain_ci_low"].notna() & trained["gain_ci_high"].notna()]
    if not len(with_cis):
        return f"The gains over zero-shot {label} ({listed}) have no CI, so no gain is claimed."
    above = with_cis[with_cis["gain_ci_low"] > 0]
    below = with_cis[with_cis["gain_ci_high"] < 0]
    unclear = with_cis[(with_cis["gain_ci_low"] <= 0) & (with_cis["gain_ci_high"] >= 0)]
    if len(above) == len(trained):
        return f"{EVERY_SIZE_BEATS} {label}: gain {listed} (paired {level} CIs, all above 0)."
    if not len(above) and not len(below):
        return f"No trained size is shown to beat zero-shot {label}: every paired {level} CI of the gain includes 0 ({listed})."
    parts = []
    if len(above):
        parts.append(f"beats zero-shot {label} at N = {_sizes(above)} (paired {level} CI of the gain above 0)")
    if len(below):
        parts.append(f"is worse than zero-shot at N = {_sizes(below)} (CI below 0)")
    if len(unclear):
        parts.append(f"shows no difference at N = {_sizes(unclear)} (CI includes 0)")
    without = len(trained) - len(with_cis)
    tail = f"; {without} size(s) without a CI" if without else ""
    return f"The trained student {'; '.join(parts)}{tail}: gain {listed}."


def trend_claim(row: Any, label: str, level: str) -> str:
    """The direction of the metric with N, from the interval of the slope per doubling."""
    slope, lo, hi = (getattr(row, c) for c in (TREND.column, *TREND.ci_columns))
    if row.n_sizes < MIN_TRAINED_SIZES:
        return f"No trend is reported: only {row.n_sizes} trained size(s), and a trend needs ≥ {MIN_TRAINED_SIZES}."
    if not finite(slope):
        return "No trend can be computed (see the caveats)."
    value = with_ci(slope, lo, hi, fmt_slope)
    if not (finite(lo) and finite(hi)):
        return f"{label} changes by {value} per doubling of N, but without an interval no trend is claimed."
    where = f"per-seed slopes, t({row.t_df:.0f})"
    if lo > 0:
        return f"{label} {RISES}: {value} per doubling of N ({level} CI above 0; {where})."
    if hi < 0:
        return f"{label} {FALLS}: {value} per doubling of N ({level} CI below 0; {where})."
    return f"{NO_TREND}: {label} changes by {value} per doubling of N, and the {level} CI includes 0 ({where})."


def _aicc(curve: Any) -> str:
    scores = [
        f"{name} {getattr(curve, column):.1f}"
        for name, column in ((FLAT, "aicc_flat"), (LOG_LINEAR, "aicc_log_linear"), (SATURATING, "aicc_saturating"))
        if finite(getattr(curve, column))
    ]
    return "AICc " + ", ".join(scores)


def plateau_claim(curve: Any, label: str) -> str:
    """Whether the metric levels off, from the model comparison (and the reliability of R∞)."""
    preferred = curve.preferred_model if isinstance(curve.preferred_model, str) else ""
    note = curve.note if isinstance(curve.note, str) else ""
    if not preferred:
        return f"No learning curve: {note}." if note else "No learning curve."
    if preferred == SATURATING and finite(curve.r_inf):
        plateau = with_ci(curve.r_inf, curve.r_inf_ci_low, curve.r_inf_ci_high, fmt_metric)
        return (
            f"{label} {LEVELS_OFF}: the saturating curve fits better than a flat line and a line in log N "
            f"({_aicc(curve)}), with plateau R∞ = {plateau}."
        )
    if preferred == SATURATING:
        return f"The saturating curve fits best ({_aicc(curve)}), but no plateau is reported: {note}."
    if preferred == FLAT:
        return f"No plateau: a flat line through the trained runs fits as well or better ({_aicc(curve)})."
    if preferred == LOG_LINEAR:
        return f"No plateau within the sweep: a line in log N fits best ({_aicc(curve)})."
    assert preferred == UNDECIDED
    return f"No plateau is claimed: no model fits clearly best ({_aicc(curve)}; a lead under 2 is no support)."
