"""Why languages differ: meta-regression of each language's slope and N = 0 level on one moderator at a time.

Per method, over the languages of the common ground (all tiers together), two outcomes:

* ``slope``: the language's own change per doubling of N (per-seed slopes averaged, variance s²/S);
* ``zero_shot``: its N = 0 level (the mean of its N = 0 rows; its sampling variance p(1 − p)/Q when the
  table has ``n_queries``, otherwise none: ordinary least squares).

Moderators, each a column of the table (constant within a language; the first recorded value) where
it has one: ``joshi_class`` (0–5; else the tier, coded very-low 0, low 1, mid 2, high 3),
``mbert_pretraining`` (yes/true/1 → 1), ``tokenizer_fertility`` (or ``fertility``), ``unk_rate``, and
for slopes the zero-shot level itself. Each row is one mixed-effects meta-regression
(:func:`swimscale.analysis._meta.meta_regression`: τ² by moments, Knapp–Hartung t(k − 2)): the
moderator's coefficient, its interval and p-value, τ² with and without it and the share of τ² it
explains. Fewer than :data:`MIN_LANGUAGES` languages with the moderator recorded, or a moderator that
does not vary, give NaN with the reason in ``note``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from swimscale.analysis._meta import meta_regression

MIN_LANGUAGES = 5  # a line through k points with a between-language variance: k − 2 ≥ 3 df
TIER_RANK = {"very-low": 0.0, "low": 1.0, "mid": 2.0, "high": 3.0}
# Moderator -> the table columns it may come from, in order of preference.
MODERATOR_COLUMNS = {
    "joshi_class": ("joshi_class",),
    "mbert_pretraining": ("mbert_pretraining",),
    "tokenizer_fertility": ("tokenizer_fertility", "fertility"),
    "unk_rate": ("unk_rate", "tokenizer_unk_rate"),
}
TRUE_WORDS = {"yes", "true", "1", "1.0", "y"}
FALSE_WORDS = {"no", "false", "0", "0.0", "n"}
MODERATOR_TABLE_COLUMNS = [
    "method", "outcome", "moderator", "n_languages", "coefficient", "se", "ci_low", "ci_high", "p_value", "df",
    "tau2", "tau2_without", "share_explained", "note",
]


def _number(value: Any) -> float:
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return 1.0
    if text in FALSE_WORDS:
        return 0.0
    try:
        return float(text)
    except ValueError:
        return math.nan


def language_moderators(recall: pd.DataFrame, tier_of: Mapping[str, str]) -> pd.DataFrame:
    """Language → each moderator the table records (first non-missing value), tier rank without joshi_class."""
    table = pd.DataFrame(index=sorted(recall["language"].astype(str).unique()))
    for name, columns in MODERATOR_COLUMNS.items():
        column = next((c for c in columns if c in recall.columns), None)
        if column is None:
            continue
        values = pd.Series([_number(v) for v in recall[column]], index=recall.index)
        table[name] = values.groupby(recall["language"].astype(str)).agg(lambda v: v.dropna().iloc[0] if v.notna().any() else math.nan)
    if "joshi_class" not in table.columns:
        ranks = [TIER_RANK.get(str(tier_of.get(code, "")).lower(), math.nan) for code in table.index]
        if np.isfinite(ranks).any():
            table["tier"] = ranks
    return table


def _zero_variance(recall: pd.DataFrame, units: pd.DataFrame) -> np.ndarray:
    """p(1 − p)/Q of each unit's N = 0 level where the table has ``n_queries``, else 0 (no variances)."""
    if "n_queries" not in recall.columns:
        return np.zeros(len(units))
    queries = pd.to_numeric(recall["n_queries"], errors="coerce").groupby(recall["language"].astype(str)).max()
    q = np.array([queries.get(str(code), math.nan) for code in units["language"]], dtype=float)
    p = units["zero_shot"].to_numpy(dtype=float)
    v = p * (1 - p) / q
    return v if np.all(np.isfinite(v) & (v > 0)) else np.zeros(len(units))


def moderator_row(y: np.ndarray, m: np.ndarray, v: np.ndarray, level: float) -> dict[str, Any]:
    """One meta-regression, or NaN with the reason."""
    keep = np.isfinite(y) & np.isfinite(m) & np.isfinite(v)
    y, m, v = y[keep], m[keep], v[keep]
    row: dict[str, Any] = {"n_languages": int(keep.sum())}
    if keep.sum() < MIN_LANGUAGES:
        return {**row, "note": f"{keep.sum()} language(s) with this moderator and outcome: a meta-regression needs ≥ {MIN_LANGUAGES}"}
    if np.ptp(m) == 0:
        return {**row, "note": "the moderator has one value over these languages: nothing to relate"}
    fit = meta_regression(y, m, v, level)
    return {**row, **{c: getattr(fit, c) for c in ("coefficient", "se", "ci_low", "ci_high", "p_value", "df",
                                                   "tau2", "tau2_without", "share_explained")}, "note": ""}


def moderators_table(recall: pd.DataFrame, units: pd.DataFrame, tier_of: Mapping[str, str], level: float) -> pd.DataFrame:
    """Per method × outcome × moderator: one row (module docstring). ``units``: each language's own slope
    and N = 0 level (:func:`swimscale.analysis._across_languages.across_tables`)."""
    moderators = language_moderators(recall, tier_of)
    rows = []
    for method, own in units.groupby("method", sort=True):
        own = own.reset_index(drop=True)
        values = moderators.reindex(own["language"].astype(str))
        slope_v = own["se"].to_numpy(dtype=float) ** 2
        slope_v = slope_v if np.all(np.isfinite(slope_v) & (slope_v > 0)) else np.zeros(len(own))
        outcomes = {"slope": (own["slope"].to_numpy(dtype=float), slope_v),
                    "zero_shot": (own["zero_shot"].to_numpy(dtype=float), _zero_variance(recall, own))}
        for outcome, (y, v) in outcomes.items():
            names = list(moderators.columns) + (["zero_shot"] if outcome == "slope" else [])
            for name in names:
                m = own["zero_shot"].to_numpy(dtype=float) if name == "zero_shot" else values[name].to_numpy(dtype=float)
                rows.append({"method": method, "outcome": outcome, "moderator": name, **moderator_row(y, m, v, level)})
    return pd.DataFrame(rows, columns=MODERATOR_TABLE_COLUMNS)
