"""One answer across languages: a random-slope model per tier, method and benchmark family.

On the common ground of :func:`swimscale.analysis._tier_slopes.common_ground` (one benchmark family that
covers every tier, N capped at the smallest of the tiers' largest N), runs with N > 0:

    y_run = (a + a_lang) + (b + b_lang) · (log2 N − c) + e,     (a_lang, b_lang) ~ N(0, Σ),  e ~ N(0, σ²)

fitted by REML (:class:`statsmodels.regression.mixed_linear_model.MixedLM`; c centres log2 N). ``b``
is the mean change of the metric per doubling of N over languages, ``tau`` = √Σ_bb the between-
language SD of that change. Its interval is b ± t(L − 1) · SE(b) (L languages: the languages are the
replicates of a mean slope), and a new language's slope lies in b ± t(L − 2) √(τ² + SE(b)²) with the
stated probability (the prediction interval of Higgins, Thompson & Spiegelhalter 2009).

**Cross-check.** Each language's own slope (per-seed least-squares slopes on log2 N, averaged over
seeds; its variance s²/S from the seeds' spread) is pooled by a random-effects meta-analysis with τ²
by DerSimonian–Laird and by Paule–Mandel (:func:`swimscale.analysis._meta.random_effects`): τ², Q,
I². Where the mixed model's mean lies outside the Paule–Mandel interval or the reverse, ``note`` says
the two disagree.

**Pooled correlation.** The repeated-measures correlation of the metric with log10 N over the same
runs, seeds averaged per size (:mod:`swimscale.analysis._rmcorr`), beside the mean of the languages'
own Spearman ρ (the correlation table's, per seed and averaged).

Rows: one per tier present and, with several tiers, ``all``. Fewer than :data:`MIN_LANGUAGES` languages
(or < 3 sizes on the common ground) give NaN with the reason in ``note``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.mixed_linear_model import MixedLM

from swimscale.analysis._meta import random_effects, t_interval
from swimscale.analysis._tier_slopes import MIN_COMMON_SIZES, UNKNOWN_TIER, common_ground
from swimscale.analysis._rmcorr import rmcorr, seed_means
from swimscale.analysis._schema import MAIN_METRIC, join_notes

MIN_LANGUAGES = 3  # a between-language SD and a prediction interval (t(L − 2)) need 3 languages
ALL_TIERS = "all"

ACROSS_COLUMNS = [
    "method", "tier", "family", "metric", "min_size", "max_size", "n_languages", "n_seeds", "n_sizes", "n_points",
    "slope", "se", "slope_low", "slope_high", "tau", "pi_low", "pi_high", "intercept", "intercept_se",
    "cov_intercept_slope", "x_center", "i2", "q", "q_p", "tau2_dl", "tau2_pm", "meta_slope_dl", "meta_low_dl",
    "meta_high_dl", "meta_slope_pm", "meta_low_pm", "meta_high_pm", "rmcorr", "rmcorr_low", "rmcorr_high",
    "rmcorr_p", "rmcorr_df", "spearman_mean", "note",
]
UNIT_COLUMNS = ["method", "tier", "language", "benchmark", "slope", "se", "intercept", "n_seeds", "n_sizes", "zero_shot"]


def language_tiers(recall: pd.DataFrame, tiers: Mapping[str, str]) -> dict[str, str]:
    """Language → tier: the table's ``tier`` column where it has one, else the tiers file's."""
    merged = {str(code): tiers.get(str(code), UNKNOWN_TIER) for code in recall["language"].unique()}
    if "tier" in recall.columns:
        for code, tier in zip(recall["language"].astype(str), recall["tier"].astype(str)):
            if tier.strip() and tier.strip().lower() != "nan":
                merged[code] = tier.strip()
    return merged


def _unit_slope(rows: pd.DataFrame, metric: str) -> dict[str, Any]:
    """Per-seed least-squares slopes on log2 N averaged over seeds, their SE s/√S, and the mean level."""
    slopes = []
    for _, seed_rows in rows.groupby("seed"):
        if seed_rows["size"].nunique() >= 2:
            slopes.append(np.polyfit(np.log2(seed_rows["size"].to_numpy(dtype=float)), seed_rows[metric].to_numpy(dtype=float), 1)[0])
    s = len(slopes)
    x = np.log2(rows["size"].to_numpy(dtype=float))
    slope = float(np.mean(slopes)) if s else math.nan
    return {
        "slope": slope,
        "se": float(np.std(slopes, ddof=1) / math.sqrt(s)) if s >= 2 else math.nan,
        "intercept": float(rows[metric].mean() - slope * x.mean()) if s else math.nan,
        "n_seeds": s,
        "n_sizes": int(rows["size"].nunique()),
    }


def unit_slopes(ground: pd.DataFrame, everything: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per language × benchmark of ``ground``: its own slope and SE, and its N = 0 level (from
    ``everything``, the method's full table)."""
    rows = []
    zero = everything[everything["size"] == 0].groupby(["language", "benchmark"])[metric].mean()
    for (language, benchmark), unit in ground.groupby(["language", "benchmark"], sort=True):
        own = _unit_slope(unit, metric)
        rows.append({"tier": unit["tier"].iloc[0], "language": language, "benchmark": benchmark, **own,
                     "zero_shot": float(zero.get((language, benchmark), math.nan))})
    return pd.DataFrame(rows, columns=[c for c in UNIT_COLUMNS if c != "method"])


def random_slope_fit(data: pd.DataFrame, metric: str, level: float) -> dict[str, Any]:
    """The REML random-slope model of ``data`` (module docstring); raises ValueError when it fails."""
    x = np.log2(data["size"].to_numpy(dtype=float))
    center = float(x.mean())
    exog = np.column_stack([np.ones(len(x)), x - center])
    groups = (data["language"].astype(str) + "/" + data["benchmark"].astype(str)).to_numpy()
    model = MixedLM(data[metric].to_numpy(dtype=float), exog, groups=groups, exog_re=exog)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = model.fit(reml=True, method=["lbfgs", "bfgs", "powell"])
        except (np.linalg.LinAlgError, ValueError) as error:
            raise ValueError(f"the mixed model did not fit ({error})") from error
    fe, cov = np.asarray(fit.fe_params), np.asarray(fit.cov_params())[:2, :2]
    n_lang = len(set(groups))
    se = math.sqrt(max(cov[1, 1], 0.0))
    tau2 = max(float(np.asarray(fit.cov_re)[1, 1]), 0.0)
    low, high, _ = t_interval(float(fe[1]), se, n_lang - 1, level)
    pi_half = float(stats.t.ppf(0.5 + level / 2, n_lang - 2)) * math.sqrt(tau2 + se**2) if n_lang > 2 else math.nan
    return {"slope": float(fe[1]), "se": se, "slope_low": low, "slope_high": high, "tau": math.sqrt(tau2),
            "pi_low": float(fe[1]) - pi_half, "pi_high": float(fe[1]) + pi_half, "intercept": float(fe[0]),
            "intercept_se": math.sqrt(max(cov[0, 0], 0.0)), "cov_intercept_slope": float(cov[0, 1]),
            "x_center": center}


def meta_check(units: pd.DataFrame, level: float) -> tuple[dict[str, Any], str]:
    """The random-effects meta-analysis of the languages' slopes (DL and PM), or why there is none."""
    usable = units[np.isfinite(units["slope"]) & np.isfinite(units["se"]) & (units["se"] > 0)]
    if len(usable) < MIN_LANGUAGES:
        return {}, f"meta-analysis: {len(usable)} language(s) with a seed-level SE (≥ 2 seeds); it needs ≥ {MIN_LANGUAGES}"
    out: dict[str, Any] = {}
    for method in ("dl", "pm"):
        pooled = random_effects(usable["slope"].to_numpy(), usable["se"].to_numpy() ** 2, method, level)
        out.update({f"tau2_{method}": pooled.tau2, f"meta_slope_{method}": pooled.mean,
                    f"meta_low_{method}": pooled.ci_low, f"meta_high_{method}": pooled.ci_high})
        out.update(i2=pooled.i2, q=pooled.q, q_p=pooled.q_p)
    note = "" if len(usable) == len(units) else f"meta-analysis over the {len(usable)} languages with ≥ 2 seeds"
    return out, note


def disagreement(row: Mapping[str, Any]) -> str:
    """"mixed model and meta-analysis disagree: …" where either mean lies outside the other's interval."""
    mixed, meta = row.get("slope", math.nan), row.get("meta_slope_pm", math.nan)
    if not (math.isfinite(mixed) and math.isfinite(meta)):
        return ""
    outside = not (row["meta_low_pm"] <= mixed <= row["meta_high_pm"]) or not (row["slope_low"] <= meta <= row["slope_high"])
    if not outside:
        return ""
    return (f"mixed model and meta-analysis disagree: slope {mixed:.3g} [{row['slope_low']:.3g}, {row['slope_high']:.3g}] "
            f"vs Paule–Mandel {meta:.3g} [{row['meta_low_pm']:.3g}, {row['meta_high_pm']:.3g}]")


def _correlations(data: pd.DataFrame, metric: str, spearman: Mapping[tuple[str, str], float], level: float) -> dict:
    points = seed_means(data, metric)
    fit = rmcorr(np.log10(points["size"].to_numpy(dtype=float)), points[metric].to_numpy(), points["unit"].to_numpy(), level)
    own = [spearman.get(key, math.nan) for key in data.groupby(["language", "benchmark"]).groups]
    own = [v for v in own if math.isfinite(v)]
    out = {"spearman_mean": float(np.mean(own)) if own else math.nan, "rmcorr_df": fit.df}
    if fit.n_units < 2:
        return {**out, "rmcorr_df": math.nan}
    return {**out, "rmcorr": fit.r, "rmcorr_low": fit.ci_low, "rmcorr_high": fit.ci_high, "rmcorr_p": fit.p_value}


def across_row(data: pd.DataFrame, units: pd.DataFrame, metric: str, level: float,
               spearman: Mapping[tuple[str, str], float]) -> dict[str, Any]:
    """Every column of :data:`ACROSS_COLUMNS` but the place (method, tier, family, max size)."""
    n_lang = int(data["language"].nunique())
    row: dict[str, Any] = {"n_languages": n_lang, "n_seeds": int(data["seed"].nunique()),
                           "n_sizes": int(data["size"].nunique()), "n_points": len(data)}
    row.update(_correlations(data, metric, spearman, level))
    if row["n_sizes"] < MIN_COMMON_SIZES:
        return {**row, "note": f"{row['n_sizes']} size(s) on the common ground: a slope across languages needs ≥ {MIN_COMMON_SIZES}"}
    if n_lang < MIN_LANGUAGES:
        return {**row, "note": f"{n_lang} language(s): no across-language answer (a between-language SD and a "
                               f"prediction interval need ≥ {MIN_LANGUAGES} languages)"}
    try:
        row.update(random_slope_fit(data, metric, level))
    except ValueError as error:
        return {**row, "note": str(error)}
    meta, meta_note = meta_check(units, level)
    row.update(meta)
    return {**row, "note": join_notes(meta_note, disagreement(row))}


def _spearman(correlation: pd.DataFrame | None, method: str, metric: str) -> dict[tuple[str, str], float]:
    if correlation is None or not len(correlation):
        return {}
    own = correlation[(correlation["method"] == method) & (correlation["metric"] == metric)]
    return {(str(r.language), str(r.benchmark)): float(r.spearman_rho) for r in own.itertuples()}


def across_tables(recall: pd.DataFrame, tiers: Mapping[str, str], level: float,
                  correlation: pd.DataFrame | None = None, metric: str = MAIN_METRIC) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per tier × method on common ground, and ``all`` with several tiers; each language's own slope)."""
    tier_of = language_tiers(recall, tiers)
    rows, units = [], []
    for method, data in recall.groupby("method", sort=True):
        trained = data[(data["size"] > 0) & data[metric].notna()]
        ground, family, cap, ground_note = common_ground(trained, tier_of)
        own = unit_slopes(ground, data, metric).assign(method=method)
        units.append(own)
        names = sorted(set(ground["tier"])) + ([ALL_TIERS] if ground["tier"].nunique() > 1 else [])
        for name in names:
            part = ground if name == ALL_TIERS else ground[ground["tier"] == name]
            part_units = own if name == ALL_TIERS else own[own["tier"] == name]
            fitted = across_row(part, part_units, metric, level, _spearman(correlation, method, metric))
            place = {"method": method, "tier": name, "family": family, "metric": metric,
                     "min_size": float(part["size"].min()) if len(part) else math.nan, "max_size": cap}
            rows.append({**place, **fitted, "note": join_notes(fitted.get("note", ""), ground_note)})
    unit_table = pd.concat(units, ignore_index=True)[UNIT_COLUMNS] if units else pd.DataFrame(columns=UNIT_COLUMNS)
    return pd.DataFrame(rows, columns=ACROSS_COLUMNS), unit_table
