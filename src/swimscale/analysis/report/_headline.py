"""The opening of ``summary.md``: one short paragraph and one table that answer the research question
across languages, per tier and method (``tables/across_languages.tsv``), and the method contrasts
(``tables/method_contrasts.tsv``) in words.

Every claim comes from an interval: "rises" only where the mean slope's interval lies above 0, "one
arm beats another" only where the contrast's Holm-adjusted interval excludes 0 (and p_holm < α).
Without a random-slope estimate anywhere (fewer than 3 languages) the opening says plainly that there
is no across-language answer yet, and gives neither a between-language SD nor a table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from swimscale.analysis._schema import MAIN_METRIC, series
from swimscale.analysis.report._format import fmt_corr, fmt_n, fmt_p, fmt_slope, metric_label, with_ci

HEADER = ("| Tier | Method | Change per doubling [CI] | New language [PI] | τ | I² | r_rm with log10 N [CI] "
          "| Languages | Seeds | Sizes (N ≤) |")


def _where(row: Any) -> str:
    return f"all tiers ({row.method})" if row.tier == "all" else f"tier {row.tier} ({row.method})"


def _trend_words(estimated: pd.DataFrame) -> str:
    up = [_where(r) for r in estimated.itertuples() if r.slope_low > 0]
    if len(up) == len(estimated) > 1:
        return "rises with N in every tier and method of the table (each interval above 0)"
    down = [_where(r) for r in estimated.itertuples() if r.slope_high < 0]
    flat = [_where(r) for r in estimated.itertuples() if r.slope_low <= 0 <= r.slope_high]
    parts = [f"rises with N in {series(up)}" if up else "", f"falls as N grows in {series(down)}" if down else "",
             f"shows no change with N in {series(flat)} (interval includes 0)" if flat else ""]
    return "; ".join(p for p in parts if p)


def _unsigned(v: Any) -> str:
    return fmt_slope(v).lstrip("+")


def _table_row(r: Any) -> str:
    cells = [
        str(r.tier), str(r.method), with_ci(r.slope, r.slope_low, r.slope_high, fmt_slope),
        f"[{fmt_slope(r.pi_low)}, {fmt_slope(r.pi_high)}]", _unsigned(r.tau), fmt_corr(r.i2),
        with_ci(r.rmcorr, r.rmcorr_low, r.rmcorr_high, fmt_corr), str(int(r.n_languages)), str(int(r.n_seeds)),
        f"{int(r.n_sizes)} ({fmt_n(r.max_size)})",
    ]
    return "| " + " | ".join(cells) + " |"


def _no_answer(across: pd.DataFrame, languages: list[str]) -> list[str]:
    named = series(languages) if len(languages) <= 5 else f"{len(languages)} languages"
    per_tier = across[across["tier"] != "all"].groupby("tier", sort=True)["n_languages"].max()
    counts = ", ".join(f"{int(n)} in tier {tier}" for tier, n in per_tier.items())
    return [
        f"**Across languages: no answer yet.** This run has {len(languages)} language(s) ({named}; {counts}). "
        "A mean change per doubling of N across languages, how much languages differ in it and what a new "
        "language should expect all need at least 3 languages in a tier; the per-language answers follow.",
        "",
    ]


def headline_lines(across: pd.DataFrame, level: str, languages: list[str]) -> list[str]:
    """The opening paragraph and table (module docstring); ``level`` in words ("95 %")."""
    if not len(across):
        return ["**Across languages: no answer yet.** The table has no runs with N > 0.", ""]
    estimated = across[across["slope"].notna()]
    if not len(estimated):
        return _no_answer(across, languages)
    label = metric_label(str(across["metric"].iloc[0]) if "metric" in across else MAIN_METRIC)
    paragraph = (
        f"**Across languages.** Over the languages of each tier (random intercept and slope per language, REML; "
        f"on the common ground: one benchmark family, N up to the smallest largest N of the tiers), {label} "
        f"{_trend_words(estimated)}. The table gives the mean change per doubling of N with its {level} CI, "
        f"the {level} prediction interval for a new language's change, the between-language SD τ and I² of the "
        "languages' own slopes, and the repeated-measures correlation r_rm with log10 N (seeds averaged per size)."
    )
    disagree = [_where(r) for r in estimated.itertuples() if "disagree" in str(getattr(r, "note", ""))]
    if disagree:
        paragraph += (f" In {series(disagree)} the mixed model and the meta-analysis of the languages' own slopes "
                      "disagree beyond their intervals (`tables/across_languages.tsv`, note).")
    return [paragraph, "", HEADER, "|" + " --- |" * 10, *(_table_row(r) for r in estimated.itertuples()), ""]


def moderator_lines(moderators: pd.DataFrame, level: str) -> list[str]:
    """The moderators whose coefficient's interval excludes 0, in words (or that none does / none was fitted)."""
    lines = ["## Why languages differ", ""]
    fitted = moderators[moderators["coefficient"].notna()] if len(moderators) else moderators
    if not len(fitted):
        return lines + ["No moderator could be related to the languages' slopes or N = 0 levels (fewer than 5 "
                        "languages with it, or it does not vary: `tables/moderators.tsv`).", ""]
    shown = fitted[(fitted["ci_low"] > 0) | (fitted["ci_high"] < 0)]
    said = [
        f"- {r.method}, {'slope per doubling' if r.outcome == 'slope' else 'N = 0 level'} ~ {r.moderator}: "
        f"{r.coefficient:+.4g} [{r.ci_low:+.4g}, {r.ci_high:+.4g}] per unit, "
        f"{'' if r.share_explained != r.share_explained else f'{r.share_explained:.0%} of τ² explained, '}"
        f"{r.n_languages} languages."
        for r in shown.itertuples()
    ]
    head = (f"Meta-regressions, one moderator at a time ({len(fitted)} fitted; {level} intervals, not corrected for "
            "their number): a moderator is named only where its interval excludes 0.")
    return lines + [head, "", *(said or ["- None."]), ""]


def contrast_lines(contrasts: pd.DataFrame, level: str) -> list[str]:
    """The method contrasts in words: an arm is named better only where its Holm-adjusted interval excludes 0."""
    lines = ["## Method contrasts", ""]
    if not len(contrasts):
        return lines + ["One method: no contrast between arms.", ""]
    named = contrasts[contrasts["better"].fillna("") != ""]
    tested = int(contrasts["p_value"].notna().sum())
    head = (f"Paired differences over common sizes and seeds, per tier, Holm's correction over the {tested} contrasts "
            f"with a p-value (`tables/method_contrasts.tsv`).")
    said = [
        f"- tier {r.tier}: **{r.better}** beats {r.method_b if r.better == r.method_a else r.method_a} by "
        f"{abs(r.difference):.4f} (Holm-adjusted interval [{r.ci_low_holm:+.4f}, {r.ci_high_holm:+.4f}] for "
        f"{r.method_a} − {r.method_b}, p_holm = {fmt_p(r.p_holm)})."
        for r in named.itertuples()
    ]
    if not said:
        said = ["- No arm is shown better than another after Holm's correction (every adjusted interval includes 0 "
                "or there is none)."]
    return lines + [head, "", *said, ""]
