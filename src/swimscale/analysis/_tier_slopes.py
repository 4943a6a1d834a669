"""Across languages: the slope of a metric per doubling of N, per resource tier, on common ground.

Model (every (size, seed) run with N > 0 one observation, y = the run's metric):

    y = a_unit + b · log2 N + e        (a_unit: one intercept per language × benchmark, fixed effects)

so ``b`` is the within-language change of the metric per doubling of N, with CR2 standard errors
clustered by language and Bell–McCaffrey degrees of freedom (:mod:`swimscale.analysis._cluster`).

**Common ground.** A saturating curve has a smaller slope in log N the further the sweep runs, so tiers
swept over different N ranges (5.8K for the Indic languages, 256K for others) differ in slope even if
every language behaves the same. Tiers are therefore compared over one N range -- capped at the
smallest of the tiers' largest N -- and always within one benchmark family, never across (a tier
difference across families would also be a benchmark difference: one gold passage against graded
judgements, one collection against another): the family covering the most tiers, then the most
languages (CLIRMatrix in the full study, where every tier has ≥ 3 languages); a tier it lacks is left out,
with a note. The tier and ``all`` rows' ``benchmark`` column names the family. The family of a benchmark is its name
without the language code (``xtreme-up-as`` → ``xtreme-up``), or the table's ``benchmark_family``
column. ``all`` pools the tiers on the same ground; ``tier_difference`` is Welch's heteroscedastic F
test of the tier slopes (independent: no language is in two tiers). Per language, the slope and its
interval come from the correlation table (per-seed slopes, t(S − 1)).

Too few languages in a tier (< :data:`MIN_CLUSTERS`), or too few sizes on the common ground
(< :data:`MIN_COMMON_SIZES`), give NaN with the reason in ``note``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from swimscale._types import StrPath
from swimscale.analysis._cluster import cr2_slope, welch_test
from swimscale.analysis._schema import MAIN_METRIC, SLOPE_COLUMNS, join_notes, series

UNKNOWN_TIER = "unknown"
CLUSTER_METHOD = "CR2 by language, t(Bell–McCaffrey df)"
SEED_METHOD = "per-seed slopes, t(S − 1)"
WELCH_METHOD = "Welch F test of the tier slopes"
MIN_CLUSTERS = 3  # with 2 languages the Bell–McCaffrey df is at most 1: no usable interval
MIN_COMMON_SIZES = 3  # a line through 2 sizes is just their difference


def read_tiers(path: StrPath | None) -> dict[str, str]:
    """Language code → tier from a TSV with at least the columns ``code`` and ``tier``.

    None or a missing file gives {} (every language then falls in tier ``unknown``); a file without
    those columns raises ValueError naming the column.
    """
    if path is None or not Path(path).exists():
        return {}
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    for column in ("code", "tier"):
        if column not in table.columns:
            raise ValueError(f"tiers file {path}: no column {column!r} (columns: {', '.join(table.columns)})")
    return {code.strip(): (tier.strip() or UNKNOWN_TIER) for code, tier in zip(table["code"], table["tier"])}


def benchmark_family(benchmark: str, language: str) -> str:
    """The benchmark's name without the language code: ``xtreme-up-as`` → ``xtreme-up``."""
    kept = [part for part in str(benchmark).split("-") if part != str(language)]
    return "-".join(kept) or str(benchmark)


def _empty(**values: Any) -> dict[str, Any]:
    row = dict.fromkeys(["slope", "se", "ci_low", "ci_high", "p_value", "stat", "df_num", "df_den", "max_size"], math.nan)
    row.update(note="", ci_method=CLUSTER_METHOD, n_sizes=0)
    row.update(values)
    return row


def common_ground(trained: pd.DataFrame, tiers: Mapping[str, str]) -> tuple[pd.DataFrame, str, float, str]:
    """The runs on which tiers are compared: (runs, family, largest N, note). Always one benchmark family
    (a tier difference across families would also be a benchmark difference): the one covering the most
    tiers, then the most languages; tiers it lacks are left out, and the note names them."""
    data = trained.assign(tier=[tiers.get(str(c), UNKNOWN_TIER) for c in trained["language"]])
    if "benchmark_family" not in data.columns:
        data["benchmark_family"] = [benchmark_family(b, c) for b, c in zip(data["benchmark"], data["language"])]
    family, note = "", ""
    if len(data):
        coverage = {f: (rows["tier"].nunique(), rows["language"].nunique(), f) for f, rows in data.groupby("benchmark_family")}
        family = max(coverage, key=coverage.get)
        missing = sorted(set(data["tier"]) - set(data.loc[data["benchmark_family"] == family, "tier"]))
        if missing:
            note = f"tier(s) {series(missing)} not scored on {family}: left out of the tier comparison (one family only)"
        data = data[data["benchmark_family"] == family]
    cap = float(data.groupby("tier")["size"].max().min()) if len(data) else math.nan
    return data[data["size"] <= cap], family, cap, note


def slope_across_languages(data: pd.DataFrame, metric: str, level: float) -> dict[str, Any]:
    """One slope across the languages of ``data`` (CR2 by language) of ``data`` with its interval; NaN with a reason if it has none."""
    languages = data["language"].astype(str).to_numpy()
    row = _empty(n_points=len(data), n_languages=len(set(languages)), n_sizes=int(data["size"].nunique()))
    if row["n_sizes"] < MIN_COMMON_SIZES:
        row["note"] = f"{row['n_sizes']} size(s) on the common ground: a slope across languages needs ≥ {MIN_COMMON_SIZES}"
        return row
    x = np.log2(data["size"].to_numpy(dtype=float))
    units = (data["language"].astype(str) + "/" + data["benchmark"].astype(str)).to_numpy()
    if row["n_languages"] < MIN_CLUSTERS:
        row["note"] = f"{row['n_languages']} language(s): a cluster-robust SE needs ≥ {MIN_CLUSTERS} languages"
        return row
    fit = cr2_slope(data[metric].to_numpy(dtype=float), x, units, languages, level)
    row.update(slope=fit.slope, se=fit.se, ci_low=fit.ci_low, ci_high=fit.ci_high, p_value=fit.p_value,
               stat=fit.slope / fit.se if fit.se > 0 else math.nan, df_den=fit.df)
    return row


def tier_difference(tier_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Welch's F test over the tiers whose slope across languages has an SE."""
    usable = [r for r in tier_rows if math.isfinite(r["se"]) and r["se"] > 0]
    row = _empty(ci_method=WELCH_METHOD, n_points=sum(r["n_points"] for r in tier_rows),
                 n_languages=sum(r["n_languages"] for r in tier_rows),
                 n_sizes=max((r["n_sizes"] for r in tier_rows), default=0))
    if len(tier_rows) < 2:
        row["note"] = f"one tier ({tier_rows[0]['tier'] if tier_rows else 'none'}): no difference between tiers to test"
        return row
    if len(usable) < 2:
        row["note"] = "fewer than two tiers with a slope across languages and SE: no test"
        return row
    f, df1, df2, p = welch_test([r["slope"] for r in usable], [r["se"] ** 2 for r in usable], [r["df_den"] for r in usable])
    row.update(stat=f, df_num=df1, df_den=df2, p_value=p)
    left_out = [r["tier"] for r in tier_rows if r not in usable]
    if left_out:
        row["note"] = f"tier(s) {series(left_out)} without an SE left out"
    return row


def _language_rows(correlation: pd.DataFrame, method: str, metric: str, tiers: Mapping[str, str]) -> list[dict]:
    """Each language's own slope with its interval (per-seed slopes), from the correlation table."""
    own = correlation[(correlation["method"] == method) & (correlation["metric"] == metric)]
    return [
        _empty(
            ci_method=SEED_METHOD, scope="language", tier=tiers.get(str(r.language), UNKNOWN_TIER),
            language=r.language, benchmark=r.benchmark, n_languages=1, n_points=r.n_points, n_sizes=r.n_sizes,
            slope=r.slope_per_doubling, ci_low=r.slope_ci_low, ci_high=r.slope_ci_high, p_value=r.slope_p,
            df_den=r.t_df, note=r.note,
        )
        for r in own.itertuples()
    ]


def _tier_rows(data: pd.DataFrame, metric: str, tiers: Mapping[str, str], level: float) -> list[dict]:
    """Per tier and all languages on the common ground, and the test of a difference between tiers."""
    trained = data[(data["size"] > 0) & data[metric].notna()]
    ground, family, cap, note = common_ground(trained, tiers)
    place = {"language": "", "benchmark": family, "max_size": cap}
    tier_rows = []
    for name in sorted({tiers.get(str(code), UNKNOWN_TIER) for code in data["language"].unique()}):
        fitted = slope_across_languages(ground[ground["tier"] == name], metric, level)
        tier_rows.append({**fitted, **place, "scope": "tier", "tier": name, "note": join_notes(fitted["note"], note)})
    everything = slope_across_languages(ground, metric, level)
    rows = [*tier_rows, {**everything, **place, "scope": "all", "tier": "", "note": join_notes(everything["note"], note)}]
    return rows + [{**tier_difference(tier_rows), **place, "scope": "tier_difference", "tier": ""}]


def slopes_table(
    recall: pd.DataFrame,
    correlation: pd.DataFrame | None,
    tiers: Mapping[str, str],
    level: float,
    metric: str = MAIN_METRIC,
) -> pd.DataFrame:
    """Per method: per-language slopes (from ``correlation``), per tier and all on common ground, tier test."""
    rows = []
    for method, data in recall.groupby("method", sort=True):
        base = {"method": method, "metric": metric}
        own = _language_rows(correlation, method, metric, tiers) if correlation is not None else []
        rows += [{**base, **row} for row in own + _tier_rows(data, metric, tiers, level)]
    return pd.DataFrame(rows, columns=SLOPE_COLUMNS)
