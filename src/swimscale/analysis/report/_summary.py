"""``summary.md``: the answer to the research question in plain words, generated from the tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from swimscale.analysis._schema import MAIN_METRIC, level_words
from swimscale.analysis._statistics import BY_NAME, STATISTICS
from swimscale.analysis.report._format import (
    finite,
    fmt_corr,
    fmt_gain,
    fmt_metric,
    fmt_n,
    fmt_p,
    fmt_slope,
    metric_label,
    with_ci,
)


def _series(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _ci_words(lo: Any, hi: Any) -> str:
    if not (finite(lo) and finite(hi)):
        return "no CI"
    if lo > 0:
        return "CI above 0"
    if hi < 0:
        return "CI below 0"
    return "CI includes 0"


def _trend(row: Any, label: str, level: str) -> str:
    """One sentence on the direction of the metric with N over the trained sizes."""
    if not finite(row.spearman_rho):
        return "No correlation with N can be computed (see the caveats)."
    rho = f"ρ = {fmt_corr(row.spearman_rho)}"
    if not (finite(row.spearman_ci_low) and finite(row.spearman_ci_high)):
        return f"{label} has {rho} with N over the trained sizes, but no CI to judge it by."
    if row.spearman_ci_low > 0:
        return f"Over the trained sizes, {label} rises with N ({rho}, its {level} CI above 0)."
    if row.spearman_ci_high < 0:
        return f"Over the trained sizes, {label} falls as N grows ({rho}, its {level} CI below 0)."
    return f"Over the trained sizes, {label} shows no clear monotone trend with N ({rho}, its {level} CI includes 0)."


def _gain(sizes: pd.DataFrame, label: str, level: str) -> str:
    """One sentence on the trained sizes against zero-shot, with the paired CIs of the gain."""
    zero = sizes[sizes["size"] == 0]
    trained = sizes[(sizes["size"] > 0) & sizes["gain"].notna()]
    if not len(zero) or not len(trained):
        return ""
    gains = trained["gain"]
    listed = _series(
        [f"{with_ci(r.gain, r.gain_ci_low, r.gain_ci_high, fmt_gain)} at N = {int(r.size):,}" for r in trained.itertuples()]
    )
    if (gains > 0).all():
        sentence = f"Every trained size beats zero-shot {label}: gain {listed}"
        if trained["gain_ci_low"].notna().all():
            above = trained["gain_ci_low"] > 0
            if above.all():
                sentence += f" (paired {level} CIs, all above 0)"
            elif above.any():
                where = _series([f"{int(s):,}" for s in trained.loc[above, "size"]])
                sentence += f" (paired {level} CIs; above 0 only at N = {where})"
            else:
                sentence += f" (paired {level} CIs, all including 0)"
        return sentence + "."
    if (gains <= 0).all():
        return f"No trained size beats zero-shot {label}: gain {listed}."
    return f"Some trained sizes beat zero-shot {label} and some do not: gain {listed}."


def _curve_sentence(curve: Any) -> str:
    label = metric_label(curve.metric)
    if not finite(curve.r_inf) and not finite(curve.n90) and not finite(curve.n_target):
        return f"Learning curve: no reliable fit ({curve.note})."
    parts = []
    if finite(curve.r_inf):
        parts.append(f"plateau R∞ = {with_ci(curve.r_inf, curve.r_inf_ci_low, curve.r_inf_ci_high, fmt_metric)}")
    if finite(curve.n90):
        parts.append(f"90 % of the gain at N90 = {with_ci(curve.n90, curve.n90_ci_low, curve.n90_ci_high, fmt_n)}")
    if finite(curve.n_target):
        parts.append(
            f"{label} = {curve.target_recall:g} at N = "
            + with_ci(curve.n_target, curve.n_target_ci_low, curve.n_target_ci_high, fmt_n)
        )
    text = "Learning curve R(N) = R∞ − (R∞ − R0)(1 + N/N0)^(−α), R0 fixed at zero-shot: " + "; ".join(parts) + "."
    if isinstance(curve.note, str) and curve.note:
        text += f" Not reported: {curve.note}."
    return text


def _levels_bullet(key: tuple[str, str, str], sizes: pd.DataFrame, main: pd.DataFrame, label: str, level: str) -> str:
    """The metric at every size with its CI (or "" without any size)."""
    language, benchmark, method = key
    levels = [f"{with_ci(r.mean, r.ci_low, r.ci_high, fmt_metric)} at N = {int(r.size):,}" for r in sizes.itertuples()]
    if not levels:
        return ""
    trained = [lvl for lvl, s in zip(levels, sizes["size"]) if s > 0]
    n_seeds = int(main["n_seeds"].iloc[0]) if len(main) else 0
    n_queries = int(main["n_queries"].iloc[0]) if len(main) else 0
    if (sizes["size"] == 0).any() and trained:
        text = f"{label} went from {levels[0]} to {_series(trained)}"
    elif trained:
        text = f"{label} was {_series(trained)} (no N = 0 run)"
    else:
        text = f"{label} was {levels[0]}; there is no run with N > 0"
    return (
        f"For {language} ({benchmark}, {method}), {text} "
        f"(mean over {n_seeds} seed(s) × {n_queries} queries; {level} CIs in brackets)."
    )


def _statistics_bullets(r: Any, label: str) -> list[str]:
    """The correlations with log N, and the slope per doubling, each with its CI."""
    bullets = []
    correlations = [s for s in STATISTICS if s.correlation]
    if finite(getattr(r, correlations[0].column)):
        stated = ", ".join(
            f"{s.label} = {with_ci(*(getattr(r, c) for c in (s.column, *s.ci_columns)), fmt_corr)}" for s in correlations
        )
        bullets.append(f"Against log10 N over the {r.n_points} trained runs: {stated}.")
    slope = BY_NAME["slope"]
    if finite(getattr(r, slope.column)):
        value = with_ci(*(getattr(r, c) for c in (slope.column, *slope.ci_columns)), fmt_slope)
        bullets.append(f"{label} changes by {value} per doubling of N (least squares on log2 N).")
    return bullets


def _secondary_bullet(others: pd.DataFrame) -> str:
    if not len(others):
        return ""
    items = [
        f"{metric_label(o.metric)} {with_ci(o.spearman_rho, o.spearman_ci_low, o.spearman_ci_high, fmt_corr)}"
        for o in others.itertuples()
        if finite(o.spearman_rho)
    ]
    if items:
        return "Spearman ρ of the secondary metrics with log10 N: " + "; ".join(items) + "."
    return "No correlation of the secondary metrics with N can be computed either."


def _group_paragraph(
    key: tuple[str, str, str], tables: Mapping[str, pd.DataFrame], level: str
) -> str:
    """A heading and bullets: the answer first, then the numbers behind it."""
    language, benchmark, method = key

    def own(table: pd.DataFrame) -> pd.DataFrame:
        return table[(table["language"] == language) & (table["benchmark"] == benchmark) & (table["method"] == method)]

    corr = own(tables["correlation"])
    main = corr[corr["metric"] == MAIN_METRIC]
    sizes = own(tables["by_size"])
    sizes = sizes[sizes["metric"] == MAIN_METRIC].sort_values("size")
    label = metric_label(MAIN_METRIC)
    bullets = [_levels_bullet(key, sizes, main, label, level)]
    if len(main):
        r = main.iloc[0]
        verdict = [_gain(sizes, label, level), _trend(r, label, level)]
        bullets.insert(0, "**Answer:** " + " ".join(v for v in verdict if v))
        bullets += _statistics_bullets(r, label)
    fit = own(tables["curves"])
    if len(fit):
        bullets.append(_curve_sentence(fit.iloc[0]))
    bullets.append(_secondary_bullet(corr[corr["metric"] != MAIN_METRIC]))
    if len(main) and isinstance(main.iloc[0].note, str) and main.iloc[0].note:
        bullets.append(f"Caveats: {main.iloc[0].note}.")
    return f"### {language} ({benchmark}, {method})\n\n" + "\n".join(f"- {b}" for b in bullets if b)


def _pooled_line(r: Any) -> str:
    what = {"all": "all languages", "tier": f"tier {r.tier}"}.get(r.scope, "")
    if r.scope == "tier_difference":
        if finite(r.stat):
            return f"- slopes differ between tiers? F({r.df_num:.0f}, {r.df_den:.0f}) = {r.stat:.2f}, p = {fmt_p(r.p_value)}."
        return f"- slopes differ between tiers? Not testable: {r.note}."
    if not finite(r.slope):
        return f"- {what}: not estimable ({r.note})."
    text = f"- {what} ({r.n_languages} language(s), {r.n_points} runs): {with_ci(r.slope, r.ci_low, r.ci_high, fmt_slope)}"
    if finite(r.ci_low):
        text += f", {_ci_words(r.ci_low, r.ci_high)}"
    if isinstance(r.note, str) and r.note:
        text += f" ({r.note})"
    return text + "."


def _pooled_paragraph(method: str, slopes: pd.DataFrame) -> str:
    rows = slopes[slopes["method"] == method]
    label = metric_label(str(rows["metric"].iloc[0])) if len(rows) else "the metric"
    lines = [f"**{method}**, {label} per doubling of N with language fixed effects (cluster-robust by language):", ""]
    lines += [_pooled_line(r) for r in rows.itertuples() if r.scope != "language"]
    return "\n".join(lines)


FILES = [
    "## Files",
    "",
    "- `tables/correlation.{tsv,md,tex}`: ρ, r, τ and slope per doubling with CIs, per language × metric",
    "- `tables/recall_by_size.{tsv,md,tex}`: mean per N with CIs",
    "- `tables/learning_curves.{tsv,md,tex}`: R∞, N90, N(target) with CIs",
    "- `tables/slopes.{tsv,md,tex}`: pooled slopes per tier and the tier-difference test",
    "- `plots/recall_vs_n.{png,svg}`, `plots/slope_forest.{png,svg}`",
    "",
]


def _introduction(settings: Mapping[str, Any], level: str) -> list[str]:
    label = metric_label(MAIN_METRIC)
    return [
        f"# How does zero-shot {label} grow with the number N of training samples?",
        "",
        f"Generated by `swimscale correlate` from `tables/recall.tsv` and the run files it names. "
        f"{level} CIs are percentile bootstrap intervals over {settings.get('n_boot', 0):,} resamples of queries "
        "(one draw shared by every size of a language) and of seeds (a seed brings all its nested samples); "
        f"learning-curve CIs refit the curve on {settings.get('n_boot_fit', 0):,} of them. "
        f"Resource tiers: {settings.get('tiers_source', 'none')}. A value shown as – was not computed; the "
        "note says why. p-values in the tables treat the runs as independent; prefer the CIs.",
        "",
    ]


def summary_markdown(
    correlation: pd.DataFrame,
    by_size: pd.DataFrame,
    curves: pd.DataFrame,
    slopes: pd.DataFrame,
    settings: Mapping[str, Any],
) -> str:
    """The whole ``summary.md``; ``settings`` as :func:`swimscale.analysis._pipeline.write_outputs` gets them."""
    level = level_words(settings["level"])
    tables = {"correlation": correlation, "by_size": by_size, "curves": curves}
    lines = _introduction(settings, level) + ["## Per language", ""]
    source = correlation if len(correlation) else by_size
    keys = list(dict.fromkeys((r.language, r.benchmark, r.method) for r in source.itertuples()))
    if not keys:
        lines += ["The recall table has no runs.", ""]
    for key in keys:
        lines += [_group_paragraph(key, tables, level), ""]
    lines += ["## Pooled over languages", ""]
    methods = list(dict.fromkeys(slopes["method"])) if len(slopes) else []
    if not methods:
        lines += ["No pooled slope: no runs.", ""]
    for method in methods:
        lines += [_pooled_paragraph(method, slopes), ""]
    return "\n".join(lines + FILES)
