"""Pooled across languages: the slope of a metric per doubling of N, by resource tier.

Model (OLS, every (size, seed) run with N > 0 one observation, y = the run's metric):

    y = a_unit + b · log2 N + e        (a_unit: one intercept per language × benchmark, fixed effects)

so ``b`` is the within-language change of the metric per doubling of N. Standard errors are
cluster-robust by language (statsmodels ``cov_type="cluster"``: CR1 with the small-sample correction
G/(G−1)·(n−1)/(n−k)), and inference uses a t distribution with G − 1 degrees of freedom (G = number
of languages), as statsmodels does with ``use_t=True``. Fitted for all languages together, and per
tier. Whether the slope differs between tiers is a cluster-robust Wald F test of the slope × tier
interactions in ``y = a_unit + b · log2 N + Σ_t c_t · log2 N · [tier = t]``.

With one language (or one in a tier) a cluster-robust SE does not exist; with one tier there is
nothing to compare: NaN with the reason in ``note``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from swimscale._types import StrPath
from swimscale.analysis._schema import MAIN_METRIC, SLOPE_COLUMNS

UNKNOWN_TIER = "unknown"
CLUSTER_METHOD = "cluster-robust by language, t(G−1)"
BOOTSTRAP_METHOD = "bootstrap percentile (queries × seeds)"


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


def _design(x: np.ndarray, units: np.ndarray, extra: list[np.ndarray] | None = None) -> np.ndarray:
    dummies = pd.get_dummies(pd.Series(units, dtype=str)).to_numpy(dtype=float)
    return np.column_stack([x, *(extra or []), dummies])


def _fit_cluster(y: np.ndarray, design: np.ndarray, clusters: np.ndarray):
    import statsmodels.api as sm

    codes = pd.factorize(pd.Series(clusters, dtype=str))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.OLS(y, design).fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)


def _empty(**kw: Any) -> dict[str, Any]:
    row = dict.fromkeys(["slope", "se", "ci_low", "ci_high", "p_value", "stat", "df_num", "df_den"], math.nan)
    row.update(note="", ci_method=CLUSTER_METHOD)
    row.update(kw)
    return row


def cluster_slope(
    y: np.ndarray, x: np.ndarray, units: np.ndarray, clusters: np.ndarray, level: float
) -> dict[str, Any]:
    """Slope of y on x with unit fixed effects, SE clustered by ``clusters``; NaN + note if degenerate."""
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    n_clusters = len(set(map(str, clusters)))
    row = _empty(n_points=len(y), n_languages=n_clusters)
    if len(y) == 0:
        row["note"] = "no runs with N > 0"
        return row
    design = _design(x, units)
    if np.linalg.matrix_rank(design) < design.shape[1]:
        row["note"] = "N does not vary within a language (a single size): no slope"
        return row
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    row["slope"] = float(coef[0])
    if len(y) <= design.shape[1]:
        row["note"] = f"{len(y)} runs for {design.shape[1]} parameters: no residual degrees of freedom, no SE"
        return row
    if n_clusters < 2:
        row["note"] = "one language: no cluster-robust SE (needs ≥ 2 languages); the slope is the OLS point estimate"
        return row
    res = _fit_cluster(y, design, clusters)
    lo, hi = res.conf_int(alpha=1 - level)[0]
    row.update(
        slope=float(res.params[0]),
        se=float(res.bse[0]),
        ci_low=float(lo),
        ci_high=float(hi),
        p_value=float(res.pvalues[0]),
        stat=float(res.tvalues[0]),
        df_den=float(n_clusters - 1),
    )
    if n_clusters < 5:
        row["note"] = f"only {n_clusters} languages: cluster-robust SE is rough with so few clusters"
    return row


def tier_difference(
    y: np.ndarray, x: np.ndarray, units: np.ndarray, clusters: np.ndarray, tier_of_point: np.ndarray
) -> dict[str, Any]:
    """Cluster-robust Wald F test that the slope is the same in every tier."""
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    tier_of_point = np.asarray(tier_of_point, dtype=str)
    tiers = sorted(set(tier_of_point))
    clusters = np.asarray(clusters, dtype=str)
    row = _empty(n_points=len(y), n_languages=len(set(clusters)), ci_method="cluster-robust Wald F")
    if len(tiers) < 2:
        row["note"] = f"one tier ({tiers[0] if tiers else 'none'}): no difference between tiers to test"
        return row
    thin = [t for t in tiers if len(set(clusters[tier_of_point == t])) < 2]
    if thin:
        row["note"] = f"tier(s) {', '.join(thin)} with one language: a cluster-robust test needs ≥ 2 languages per tier"
        return row
    interactions = [x * (tier_of_point == t) for t in tiers[1:]]
    design = _design(x, units, interactions)
    if np.linalg.matrix_rank(design) < design.shape[1] or len(y) <= design.shape[1]:
        row["note"] = "slopes per tier not identified (a single size within a tier, or too few runs)"
        return row
    res = _fit_cluster(y, design, clusters)
    restriction = np.zeros((len(interactions), design.shape[1]))
    restriction[:, 1 : 1 + len(interactions)] = np.eye(len(interactions))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = res.wald_test(restriction, use_f=True, scalar=True)
    row.update(
        stat=float(test.statistic),
        p_value=float(test.pvalue),
        df_num=float(test.df_num),
        df_den=float(test.df_denom),
    )
    if not math.isfinite(row["stat"]):
        row["note"] = "Wald test undefined (singular cluster-robust covariance)"
    return row


def _language_rows(correlation: pd.DataFrame, method: str, metric: str, tiers: Mapping[str, str]) -> list[dict]:
    """Each language's own slope with its bootstrap CI, from the correlation table."""
    own = correlation[(correlation["method"] == method) & (correlation["metric"] == metric)]
    return [
        {
            **_empty(ci_method=BOOTSTRAP_METHOD),
            "scope": "language",
            "tier": tiers.get(str(r.language), UNKNOWN_TIER),
            "language": r.language,
            "benchmark": r.benchmark,
            "n_languages": 1,
            "n_points": r.n_points,
            "slope": r.slope_per_doubling,
            "ci_low": r.slope_ci_low,
            "ci_high": r.slope_ci_high,
            "note": r.note,
        }
        for r in own.itertuples()
    ]


def _pooled_rows(data: pd.DataFrame, metric: str, tiers: Mapping[str, str], level: float) -> list[dict]:
    """Per tier, all languages, and the test of a difference between tiers."""
    trained = data[(data["size"] > 0) & data[metric].notna()]
    x = np.log2(trained["size"].to_numpy(dtype=float))
    y = trained[metric].to_numpy(dtype=float)
    languages = trained["language"].astype(str).to_numpy()
    units = (trained["language"].astype(str) + "/" + trained["benchmark"].astype(str)).to_numpy()
    tier = np.array([tiers.get(code, UNKNOWN_TIER) for code in languages], dtype=str)
    pooled = {"language": "", "benchmark": ""}
    rows = []
    for name in sorted({tiers.get(code, UNKNOWN_TIER) for code in data["language"].astype(str).unique()}):
        mask = tier == name
        rows.append({**pooled, "scope": "tier", "tier": name, **cluster_slope(y[mask], x[mask], units[mask], languages[mask], level)})
    rows.append({**pooled, "scope": "all", "tier": "", **cluster_slope(y, x, units, languages, level)})
    rows.append({**pooled, "scope": "tier_difference", "tier": "", **tier_difference(y, x, units, languages, tier)})
    return rows


def slopes_table(
    recall: pd.DataFrame,
    correlation: pd.DataFrame | None,
    tiers: Mapping[str, str],
    level: float,
    metric: str = MAIN_METRIC,
) -> pd.DataFrame:
    """Per method: per-language slopes (bootstrap CIs, from ``correlation``), per tier, all, tier test."""
    rows = []
    for method, data in recall.groupby("method", sort=True):
        base = {"method": method, "metric": metric}
        own = _language_rows(correlation, method, metric, tiers) if correlation is not None else []
        rows += [{**base, **row} for row in own + _pooled_rows(data, metric, tiers, level)]
    return pd.DataFrame(rows, columns=SLOPE_COLUMNS)
