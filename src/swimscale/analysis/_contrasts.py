"""Which arm wins: paired differences between methods, per tier, with Holm's correction.

For each pair of methods (a, b) (sorted names, difference a − b) and each language × benchmark, the
runs that both arms have at the same (size > 0, seed) are paired: d = y_a − y_b (N = 0 is one untrained
student shared by every arm, so it is left out). Each seed's differences are averaged over its sizes;
the language's difference is the mean over seeds, with variance s²/S from the seeds' spread.

Per tier the languages' differences are combined by the random-effects meta-analysis of
:func:`swimscale.analysis._meta.random_effects` (Paule–Mandel τ², HKSJ scale, t(k − 1)); a tier of one
language keeps that language's t(S − 1) interval; without seed-level variances (one seed) the
languages' differences are averaged with equal weight and a t(k − 1) interval. The family of contrasts
is every row with a p-value; Holm's step-down adjusted p-value is ``p_holm``, and each row's interval
is also given at its Holm level (``ci_low_holm``, ``ci_high_holm``: 1 − α/(m − i + 1) for the i-th
smallest p-value). ``better`` names an arm only where p_holm < α and that interval excludes 0.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from swimscale.analysis._meta import holm, random_effects, t_interval
from swimscale.analysis._schema import MAIN_METRIC

CONTRAST_COLUMNS = [
    "tier", "method_a", "method_b", "metric", "n_languages", "n_seeds", "n_sizes", "n_pairs", "difference", "se",
    "ci_low", "ci_high", "df", "p_value", "p_holm", "holm_level", "ci_low_holm", "ci_high_holm", "better", "note",
]


def language_differences(data: pd.DataFrame, a: str, b: str, metric: str) -> pd.DataFrame:
    """Per language × benchmark: mean paired difference a − b, its seed-level SE and counts."""
    key = ["language", "benchmark", "size", "seed"]
    trained = data[(data["size"] > 0) & data[metric].notna()]
    pairs = trained[trained["method"] == a][[*key, metric, "tier"]].merge(
        trained[trained["method"] == b][[*key, metric]], on=key, suffixes=("_a", "_b"))
    pairs["d"] = pairs[f"{metric}_a"] - pairs[f"{metric}_b"]
    rows = []
    for (language, benchmark), unit in pairs.groupby(["language", "benchmark"], sort=True):
        per_seed = unit.groupby("seed")["d"].mean()
        s = len(per_seed)
        rows.append({"tier": unit["tier"].iloc[0], "language": language, "d": float(per_seed.mean()),
                     "se": float(per_seed.std(ddof=1) / math.sqrt(s)) if s >= 2 else math.nan,
                     "n_seeds": s, "n_sizes": int(unit["size"].nunique()), "n_pairs": len(unit)})
    return pd.DataFrame(rows, columns=["tier", "language", "d", "se", "n_seeds", "n_sizes", "n_pairs"])


def _summarise(diffs: pd.DataFrame, level: float) -> dict[str, Any]:
    """The tier's mean difference with its interval (module docstring)."""
    k = len(diffs)
    d, se = diffs["d"].to_numpy(), diffs["se"].to_numpy()
    if k == 1:
        lo, hi, p = t_interval(float(d[0]), float(se[0]), int(diffs["n_seeds"].iloc[0]) - 1, level)
        note = "one language: its seeds' t interval" if math.isfinite(p) else "one language with one seed: no interval"
        return {"difference": float(d[0]), "se": float(se[0]), "ci_low": lo, "ci_high": hi, "p_value": p,
                "df": int(diffs["n_seeds"].iloc[0]) - 1, "note": note}
    if np.all(np.isfinite(se) & (se > 0)):
        combined = random_effects(d, se**2, "pm", level)
        return {"difference": combined.mean, "se": combined.se, "ci_low": combined.ci_low, "ci_high": combined.ci_high,
                "p_value": combined.p_value, "df": k - 1, "note": ""}
    mean, sd = float(np.mean(d)), float(np.std(d, ddof=1))
    lo, hi, p = t_interval(mean, sd / math.sqrt(k), k - 1, level)
    return {"difference": mean, "se": sd / math.sqrt(k), "ci_low": lo, "ci_high": hi, "p_value": p, "df": k - 1,
            "note": "no seed-level variances (one seed): languages weighted equally"}


def _holm_columns(table: pd.DataFrame, level: float) -> pd.DataFrame:
    alpha = 1 - level
    p_holm, levels = holm(table["p_value"].to_numpy(dtype=float), alpha)
    table["p_holm"], table["holm_level"] = p_holm, levels
    lows, highs, better = [], [], []
    for r, lvl in zip(table.itertuples(), levels):
        if not math.isfinite(lvl):
            lows.append(math.nan), highs.append(math.nan), better.append("")
            continue
        lo, hi, _ = t_interval(r.difference, r.se, r.df, float(lvl))
        lows.append(lo), highs.append(hi)
        winner = r.method_a if lo > 0 else r.method_b if hi < 0 else ""
        better.append(winner if r.p_holm < alpha else "")
    table["ci_low_holm"], table["ci_high_holm"], table["better"] = lows, highs, better
    return table


def contrasts_table(recall: pd.DataFrame, tier_of: dict[str, str], level: float, metric: str = MAIN_METRIC) -> pd.DataFrame:
    """One row per tier × pair of methods (module docstring); empty with fewer than two methods."""
    data = recall.assign(tier=[tier_of.get(str(c), "unknown") for c in recall["language"]])
    rows = []
    for a, b in combinations(sorted(data["method"].astype(str).unique()), 2):
        diffs = language_differences(data, a, b, metric)
        for tier, part in diffs.groupby("tier", sort=True):
            rows.append({"tier": tier, "method_a": a, "method_b": b, "metric": metric, "n_languages": len(part),
                         "n_seeds": int(part["n_seeds"].max()), "n_sizes": int(part["n_sizes"].max()),
                         "n_pairs": int(part["n_pairs"].sum()), **_summarise(part, level)})
    table = pd.DataFrame(rows, columns=[c for c in CONTRAST_COLUMNS if c not in ("p_holm", "holm_level", "ci_low_holm", "ci_high_holm", "better")])
    return _holm_columns(table, level)[CONTRAST_COLUMNS]
