"""``summary.md``: the answer to the research question in plain words, generated from the tables.

Every claim (a gain over zero-shot, a trend, a plateau) comes from :mod:`swimscale.analysis.report._claims`,
i.e. from an interval or a model comparison; every number is a table's, formatted as in the Markdown
tables. What the recall table records about how the runs were made (warnings first, the data checks,
the training budget and where its cap bound) comes from :mod:`swimscale.analysis.report._notes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from swimscale.analysis._schema import (
    DEGENERATE_CI,
    FEWER_SEEDS,
    LOWER_IS_BETTER,
    MAIN_METRIC,
    MIN_TRAINED_SIZES,
    level_words,
    series,
)
from swimscale.analysis._statistics import STATISTICS, TREND
from swimscale.analysis.report._beside import literature_section
from swimscale.analysis.report._claims import gain_claim, plateau_claim, trend_claim
from swimscale.analysis.report._format import finite, fmt_corr, fmt_metric, fmt_slope, metric_label, p_text, with_ci
from swimscale.analysis.report._headline import contrast_lines, headline_lines, moderator_lines
from swimscale.analysis.report._labels import flagged_sizes
from swimscale.analysis.report._notes import budget_bullet, data_lines, degenerate_lines, warning_lines


def _levels_bullet(key: tuple[str, str, str], sizes: pd.DataFrame, main: Any, label: str, level: str) -> str:
    """The metric at every size with its CI (or "" without any size)."""
    language, benchmark, method = key
    levels = [f"{with_ci(r.mean, r.ci_low, r.ci_high, fmt_metric)} at N = {int(r.size):,}" for r in sizes.itertuples()]
    if not levels:
        return ""
    trained = [lvl for lvl, s in zip(levels, sizes["size"]) if s > 0]
    if (sizes["size"] == 0).any() and trained:
        text = f"{label} went from {levels[0]} to {series(trained)}"
    elif trained:
        text = f"{label} was {series(trained)} (no N = 0 run)"
    else:
        text = f"{label} was {levels[0]}; there is no run with N > 0"
    queries = f"{int(main.n_queries)} queries" if main is not None and main.n_queries else "queries unknown"
    seeds = int(sizes.loc[sizes["size"] > 0, "n_seeds"].max()) if trained else int(sizes["n_seeds"].max())
    return f"For {language} ({benchmark}, {method}), {text} (mean over {seeds} seed(s) × {queries}; {level} CIs in brackets)."


def _flags_bullet(sizes: pd.DataFrame) -> str:
    """The sizes the by-size table flags for fewer seeds or a zero-width CI, as the plot marks them ("" for
    none; a cap-bound size is said with the training budget)."""
    said = []
    fewer = flagged_sizes(sizes, FEWER_SEEDS)
    if fewer:
        counts = sizes.set_index("size")["n_seeds"]
        most = int(counts[counts.index > 0].max())
        listed = series([f"{n:,} ({int(counts[n])})" for n in fewer])
        said.append(f"N = {listed} rest{'s' if len(fewer) == 1 else ''} on fewer seeds than the other sizes ({most})")
    degenerate = flagged_sizes(sizes, DEGENERATE_CI)
    if degenerate:
        said.append(f"the CI at N = {series([f'{n:,}' for n in degenerate])} has zero width (every resample gave the "
                    "same mean: no spread to show, not certainty)")
    if not said:
        return ""
    text = "; ".join(said)
    return f"Read with care (marked in the plot): {text}."


def _statistics_bullet(r: Any, label: str) -> str:
    """Every statistic against log N with its interval, or why there are none."""
    if r.n_sizes < MIN_TRAINED_SIZES:
        return ""
    stated = [
        f"{s.label} = {with_ci(*(getattr(r, c) for c in (s.column, *s.ci_columns)), fmt_corr)}"
        for s in STATISTICS
        if s.correlation and finite(getattr(r, s.column))
    ]
    slope = [getattr(r, c) for c in (TREND.column, *TREND.ci_columns)]
    if finite(slope[0]):
        stated.append(f"change per doubling of N = {with_ci(*slope, fmt_slope)} ({p_text(r.slope_p)})")
    if not stated:
        return ""
    return (
        f"Against log N, within each of the {int(r.n_seeds)} seed(s) over its {int(r.n_sizes)} sizes and averaged: "
        + "; ".join(stated) + "."
    )


def _secondary_bullet(others: pd.DataFrame) -> str:
    items = []
    for o in others.itertuples():
        if finite(o.spearman_rho):
            lower = " (lower is better)" if o.metric in LOWER_IS_BETTER else ""
            items.append(f"{metric_label(o.metric)}{lower} {with_ci(o.spearman_rho, o.spearman_ci_low, o.spearman_ci_high, fmt_corr)}")
    if items:
        return "Spearman ρ of the secondary metrics with log N: " + "; ".join(items) + "."
    return "No trend of the secondary metrics is reported either." if len(others) else ""


def _group_paragraph(key: tuple[str, str, str], tables: Mapping[str, pd.DataFrame], level: str,
                     recall: pd.DataFrame | None) -> str:
    """A heading and bullets: the answer first, then the numbers behind it, then how the students were trained."""
    language, benchmark, method = key

    def own(table: pd.DataFrame) -> pd.DataFrame:
        return table[(table["language"] == language) & (table["benchmark"] == benchmark) & (table["method"] == method)]

    corr = own(tables["correlation"])
    main = corr[corr["metric"] == MAIN_METRIC]
    main_row = main.iloc[0] if len(main) else None
    sizes = own(tables["by_size"])
    sizes = sizes[sizes["metric"] == MAIN_METRIC].sort_values("size")
    fit = own(tables["curves"])
    label = metric_label(MAIN_METRIC)
    answer = [gain_claim(sizes, label, level)]
    if main_row is not None:
        answer.append(trend_claim(main_row, label, level))
    if len(fit):
        answer.append(plateau_claim(fit.iloc[0], label))
    bullets = ["**Answer:** " + " ".join(a for a in answer if a), _levels_bullet(key, sizes, main_row, label, level)]
    bullets.append(_flags_bullet(sizes))
    if recall is not None:
        bullets.append(budget_bullet(own(recall), sizes))
    if main_row is not None:
        bullets.append(_statistics_bullet(main_row, label))
    bullets.append(_secondary_bullet(corr[corr["metric"] != MAIN_METRIC]))
    if main_row is not None and isinstance(main_row.note, str) and main_row.note:
        bullets.append(f"Caveats: {main_row.note}.")
    return f"### {language} ({benchmark}, {method})\n\n" + "\n".join(f"- {b}" for b in bullets if b)


def _ci_words(lo: Any, hi: Any) -> str:
    if not (finite(lo) and finite(hi)):
        return "no CI"
    return "CI above 0" if lo > 0 else "CI below 0" if hi < 0 else "CI includes 0"


def _tier_slope_line(r: Any) -> str:
    what = {"all": "all languages", "tier": f"tier {r.tier}"}.get(r.scope, "")
    if r.scope == "tier_difference":
        if finite(r.stat):
            return f"- slopes differ between tiers? Welch F({r.df_num:.0f}, {r.df_den:.1f}) = {r.stat:.2f}, {p_text(r.p_value)}."
        return f"- slopes differ between tiers? Not testable: {r.note}."
    if not finite(r.slope):
        return f"- {what}: not estimable ({r.note})."
    text = (
        f"- {what} ({r.n_languages} language(s), {r.n_points} runs, {r.n_sizes} sizes): "
        f"{with_ci(r.slope, r.ci_low, r.ci_high, fmt_slope)}, {_ci_words(r.ci_low, r.ci_high)}"
    )
    if isinstance(r.note, str) and r.note:
        text += f" ({r.note})"
    return text + "."


def _tier_slopes_paragraph(method: str, slopes: pd.DataFrame) -> str:
    rows = slopes[slopes["method"] == method]
    across = rows[rows["scope"] != "language"]
    label = metric_label(str(rows["metric"].iloc[0])) if len(rows) else "the metric"
    ground = ""
    if len(across) and finite(across["max_size"].iloc[0]):
        family = across["benchmark"].iloc[0] or "all benchmark families"
        ground = f", compared on {family} and N ≤ {across['max_size'].iloc[0]:,.0f}"
    head = (
        f"**{method}**, {label} per doubling of N with language fixed effects, CR2 errors by language "
        f"(Bell–McCaffrey df){ground}:"
    )
    return "\n".join([head, "", *(_tier_slope_line(r) for r in across.itertuples())])


def _introduction(settings: Mapping[str, Any], level: str) -> list[str]:
    label = metric_label(MAIN_METRIC)
    if settings.get("run_files", True):
        source = "from `tables/recall.tsv` and the run files it names"
        boot = "queries (one draw shared by every size of a language) and of seeds (a seed brings all its nested samples)"
    else:
        source = "from a recall table without run files: the bootstrap resamples seeds only, and N = 0 has no CI"
        boot = "seeds only (a seed brings all its nested samples)"
    return [
        f"# How does zero-shot {label} grow with the number N of training samples?",
        "",
        f"Generated by `swimscale correlate` {source}. Means and gains over zero-shot carry {level} percentile "
        f"bootstrap CIs over {settings.get('n_boot', 0):,} resamples of {boot}. Trends (ρ, r, τ, the change per "
        "doubling of N) are computed within each seed over its sizes and averaged over the seeds, with t intervals "
        "on S − 1 degrees of freedom (the seeds' spread plus the query part all seeds share): no interval or "
        f"p-value treats the size × seed runs as independent. A trend or a learning curve needs ≥ {MIN_TRAINED_SIZES} "
        "distinct sizes N > 0. A plateau is named only when a saturating curve beats a flat line and a line in "
        f"log N by AICc (CIs from {settings.get('n_boot_fit', 0):,} bootstrap refits). Resource tiers: "
        f"{settings.get('tiers_source', 'none')}. A value shown as – was not computed; the note says why.",
        "",
    ]


def _methods_lines(keys: list[tuple[str, str, str]], by_size: pd.DataFrame) -> list[str]:
    """With several methods: that each has its own section, and whether they share N = 0."""
    methods = list(dict.fromkeys(key[2] for key in keys))
    if len(methods) < 2:
        return []
    zero = by_size[(by_size["size"] == 0) & (by_size["metric"] == MAIN_METRIC)]
    shared = zero.groupby(["language", "benchmark"])["mean"].nunique(dropna=False).le(1).all() if len(zero) else False
    if shared:
        zero_words = ("N = 0 is the same untrained student for every method, so their zero-shot levels are the same; "
                      "each section compares its method with it, not the methods with each other.")
    else:
        zero_words = "Each method has its own N = 0 level; each section compares its method with its own."
    return [f"{len(methods)} methods, one section each: {series(methods)}. {zero_words}", ""]


FILES = [
    "## Files",
    "",
    "- `tables/recall.tsv`: one row per run: its metrics, training budget (`steps`, `steps_at_best`, `cap_bound`, …) "
    "and data checks (`overlap_*`, `corpus_documents`, `data_warnings`) where recorded",
    "- `tables/correlation.{tsv,md,tex}`: ρ, r, τ and slope per doubling with intervals, per language × metric",
    "- `tables/recall_by_size.{tsv,md,tex}`: mean per N with CIs, gain over N = 0 with paired CIs, and the `flag` of "
    "a size to read with care (cap-bound, fewer seeds, zero-width CI), which the plots mark",
    "- `tables/learning_curves.{tsv,md,tex}`: model comparison; R∞, N90, N(target) with CIs",
    "- `tables/slopes.{tsv,md,tex}`: slopes across languages per tier on common ground and the tier-difference test",
    "- `tables/literature.{tsv,md,tex}`: the published points (with `--literature`)",
    "- `tables/across_languages.tsv`: per tier × method, the random-slope model (mean slope, τ, prediction "
    "interval), the meta-analysis cross-check (τ², I², Q) and the repeated-measures correlation",
    "- `tables/moderators.tsv`, `tables/method_contrasts.tsv`: meta-regressions on the language moderators; "
    "paired method contrasts with Holm's correction (the command line writes these three tables directly in OUT_DIR)",
    "- `plots/recall_vs_n.{png,svg}`, `plots/slope_forest.{png,svg}`, `plots/literature.{png,svg}`, "
    "`plots/across_languages.{png,svg}`",
    "",
]


def summary_markdown(results: Mapping[str, pd.DataFrame], settings: Mapping[str, Any],
                     recall: pd.DataFrame | None = None) -> str:
    """The whole ``summary.md`` from the tables of :func:`swimscale.analysis.analyse`, the quoted
    settings of :func:`swimscale.analysis._pipeline.write_outputs` and the recall table (its warnings
    first, its data checks and training budgets: :mod:`swimscale.analysis.report._notes`)."""
    level = level_words(settings["level"])
    correlation, by_size, slopes = results["correlation"], results["by_size"], results["slopes"]
    notes = recall if recall is not None else pd.DataFrame(columns=["language", "benchmark", "method", "size", "seed"])
    intro = _introduction(settings, level)
    source = correlation if len(correlation) else by_size
    opening = []
    if "across" in results:  # the answer across languages opens the summary, after any warnings
        opening = headline_lines(results["across"], level, sorted({str(lang) for lang in source["language"]}))
    lines = [*intro[:2], *warning_lines(notes), *opening, *intro[2:], *data_lines(notes), *degenerate_lines(correlation),
             "## Per language", ""]
    keys = list(dict.fromkeys((r.language, r.benchmark, r.method) for r in source.itertuples()))
    if not keys:
        lines += ["The recall table has no runs.", ""]
    lines += _methods_lines(keys, by_size)
    for key in keys:
        lines += [_group_paragraph(key, results, level, recall), ""]
    lines += ["## Slopes across languages, per tier", ""]
    slope_methods = list(dict.fromkeys(slopes["method"])) if len(slopes) else []
    if not slope_methods:
        lines += ["No slope across languages: no runs.", ""]
    for method in slope_methods:
        lines += [_tier_slopes_paragraph(method, slopes), ""]
    if "moderators" in results:
        lines += moderator_lines(results["moderators"], level)
    if "contrasts" in results:
        lines += contrast_lines(results["contrasts"], level)
    if "literature" in results:
        lines += literature_section(results["literature"], by_size, settings, level)
    return "\n".join(lines + FILES)
