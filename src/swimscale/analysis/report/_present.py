"""Paper-ready versions of the analysis tables: estimates with their CIs as strings, and their captions.

The TSVs keep every number at full precision; these round for reading (see
:mod:`swimscale.analysis.report._format`). A missing value prints as "–" and its reason stays in the
Note column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from swimscale.analysis._schema import RANK_METRIC, level_words
from swimscale.analysis._statistics import STATISTICS
from swimscale.analysis.report._format import (
    DASH,
    ci_header,
    finite,
    fmt_corr,
    fmt_gain,
    fmt_metric,
    fmt_n,
    fmt_p,
    p_text,
    fmt_slope,
    metric_label,
    text_or_empty,
    with_ci,
)
from swimscale.analysis.report._labels import flag_words


def _where(r: Any) -> dict[str, str]:
    return {"Language": r.language, "Benchmark": r.benchmark, "Method": r.method, "Metric": metric_label(r.metric)}


def present_correlation(table: pd.DataFrame, level: float) -> pd.DataFrame:
    ci = ci_header(level)
    rows = []
    for r in table.itertuples():
        row = {
            **_where(r),
            "Runs (sizes, seeds)": f"{r.n_points} ({r.n_sizes}, {r.n_seeds})",
            f"Zero-shot {ci}": with_ci(r.zero_shot, r.zero_shot_ci_low, r.zero_shot_ci_high, fmt_metric),
        }
        for s in STATISTICS:
            values = [getattr(r, c) for c in (s.column, *s.ci_columns)]
            row[f"{s.label} {ci}"] = with_ci(*values, fmt_corr if s.correlation else fmt_slope)
        row["p (slope)"] = fmt_p(r.slope_p)
        row["Note"] = text_or_empty(r.note)
        rows.append(row)
    return pd.DataFrame(rows)


def present_by_size(table: pd.DataFrame, level: float) -> pd.DataFrame:
    rows = []
    for r in table.itertuples():
        fmt = fmt_corr if r.metric == RANK_METRIC else fmt_metric  # log2 ranks are not shares
        rows.append(
            {
                **_where(r),
                "N": f"{int(r.size):,}",
                "Runs": str(r.n_seeds),
                f"Mean {ci_header(level)}": with_ci(r.mean, r.ci_low, r.ci_high, fmt),
                f"Gain over N = 0 {ci_header(level, paired=True)}": with_ci(r.gain, r.gain_ci_low, r.gain_ci_high, fmt_gain),
                "SD over seeds": fmt(r.sd),
                "Resampled": r.resampled,
                "Flag": flag_words(getattr(r, "flag", "")),
                "Note": text_or_empty(r.note),
            }
        )
    return pd.DataFrame(rows)


def present_curves(table: pd.DataFrame, level: float) -> pd.DataFrame:
    ci = ci_header(level)
    rows = []
    for r in table.itertuples():
        aicc = ", ".join(
            f"{name} {getattr(r, column):.1f}"
            for name, column in (("flat", "aicc_flat"), ("log", "aicc_log_linear"), ("sat.", "aicc_saturating"))
            if finite(getattr(r, column))
        )
        rows.append(
            {
                **_where(r),
                "R0 (N = 0)": fmt_metric(r.r0),
                "Preferred model (AICc)": f"{r.preferred_model} ({aicc})" if aicc else DASH,
                f"Plateau R∞ {ci}": with_ci(r.r_inf, r.r_inf_ci_low, r.r_inf_ci_high, fmt_metric),
                f"N90 {ci}": with_ci(r.n90, r.n90_ci_low, r.n90_ci_high, fmt_n),
                f"N for {metric_label(r.metric)} = {r.target_recall:g} {ci}": with_ci(
                    r.n_target, r.n_target_ci_low, r.n_target_ci_high, fmt_n
                ),
                "Refits (ok)": f"{r.n_boot_fit} ({r.n_boot_ok})",
                "Note": text_or_empty(r.note),
            }
        )
    return pd.DataFrame(rows)


def _slope_scope(r: Any) -> str:
    if r.scope == "language":
        return f"{r.language} ({r.benchmark})"
    ground = f" on {r.benchmark or 'all benchmarks'}, N ≤ {fmt_n(r.max_size)}" if finite(r.max_size) else ""
    return {"tier": f"tier {r.tier}", "all": "all languages", "tier_difference": "slope differs between tiers?"}.get(
        r.scope, r.scope
    ) + ground


def present_slopes(table: pd.DataFrame, level: float) -> pd.DataFrame:
    rows = []
    for r in table.itertuples():
        if r.scope == "tier_difference":
            estimate = DASH
            test = f"F({r.df_num:.0f}, {r.df_den:.1f}) = {r.stat:.2f}, {p_text(r.p_value)}" if finite(r.stat) else DASH
        else:
            estimate = with_ci(r.slope, r.ci_low, r.ci_high, fmt_slope)
            test = f"{p_text(r.p_value)} (df {r.df_den:.1f})" if finite(r.p_value) else DASH
        rows.append(
            {
                "Method": r.method,
                "Scope": _slope_scope(r),
                "Tier": text_or_empty(r.tier),
                "Languages": str(r.n_languages),
                "Runs (sizes)": f"{r.n_points} ({r.n_sizes})",
                f"{metric_label(r.metric)} per doubling of N {ci_header(level)}": estimate,
                "Test": test,
                "CI": r.ci_method,
                "Note": text_or_empty(r.note),
            }
        )
    return pd.DataFrame(rows)


def present_literature(table: pd.DataFrame, level: float) -> pd.DataFrame:
    """The published points as they are, with the gain over the series' own N = 0 (``level`` unused)."""
    return pd.DataFrame(
        {
            "Source": table["source"],
            "Setting": table["setting"],
            "Language": table["language"],
            "N": [fmt_n(v) if finite(v) and v >= 10 else (f"{v:g}" if finite(v) else DASH) for v in table["n"]],
            "Metric": table["metric"],
            "Value": [f"{v:g}" for v in table["value"]],
            "Gain over own N = 0": [f"{v:+.1f}" if finite(v) else DASH for v in table["gain_over_n0"]],
            "Model": table["model"],
            "Note": table["note"],
        }
    )


def described(settings: Mapping[str, Any]) -> dict[str, tuple[Callable[[pd.DataFrame, float], pd.DataFrame], str, str]]:
    """Table name -> (presenter, caption, LaTeX label)."""
    level = level_words(settings["level"])
    resampled = "queries and seeds" if settings.get("run_files", True) else "seeds only (no run files)"
    return {
        "correlation": (
            present_correlation,
            "Statistics of each metric against log N, each computed within each seed and averaged over seeds; "
            f"{level} t intervals on S − 1 degrees of freedom (between-seed spread plus the query part the seeds "
            f"share); zero-shot with a {level} percentile bootstrap CI ({settings['n_boot']:,} resamples).",
            "tab:correlation",
        ),
        "by_size": (
            present_by_size,
            f"Mean of each metric over seeds per training-set size N, and the gain over N = 0; {level} percentile "
            f"bootstrap CIs ({settings['n_boot']:,} resamples of {resampled}; the gain's CI is paired). Flag: a size "
            "where a run reached its update cap (cap-bound), with fewer seeds than the others, or a zero-width CI.",
            "tab:by-size",
        ),
        "curves": (
            present_curves,
            "Learning curves of Recall@50: a flat line, a line in log N and the saturating curve "
            "R(N) = R∞ − (R∞ − R0)(1 + N/N0)^(−α) (R0 fixed at N = 0) compared by AICc; the plateau only where "
            f"the saturating curve is preferred, with {level} percentile CIs from {settings['n_boot_fit']:,} "
            "bootstrap refits.",
            "tab:learning-curves",
        ),
        "slopes": (
            present_slopes,
            "Change of Recall@50 per doubling of N: per language (per-seed slopes, t(S − 1)); across languages per tier and "
            f"over all languages on common ground (one benchmark family, one N range; language fixed effects, CR2 "
            f"by language, {level} CI with Bell–McCaffrey df); Welch's F test of a difference between tiers.",
            "tab:slopes",
        ),
        "literature": (
            present_literature,
            "Published points on training-data volume and retrieval quality (values as published), with each "
            "series' gain over its own N = 0 where the source has one; not directly comparable with this study.",
            "tab:literature",
        ),
    }
