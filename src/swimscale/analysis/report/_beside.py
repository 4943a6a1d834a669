"""The literature section of ``summary.md``: what the published curves report, what this run measured,
and why the two are not directly comparable (metric, model, N summed over languages, compute).

Generated from the literature table (:mod:`swimscale.analysis._literature`) and this run's tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from swimscale.analysis._schema import MAIN_METRIC, series
from swimscale.analysis.report._format import finite, fmt_n, metric_label
from swimscale.formats import LANGUAGE_CODE

def _points(rows: pd.DataFrame) -> str:
    return series([f"{v:g} at N = {n:,.0f}" for n, v in zip(rows["n"], rows["value"])])


def _per_language(setting: tuple[str, str], rows: pd.DataFrame, ours: set[str]) -> str:
    """One line for a setting reported language by language: the range of gains, and our languages."""
    gains = rows[rows["gain_over_n0"].notna() & (rows["n"] > 0)]
    metric = rows["metric"].iloc[0]
    text = f"- {setting[0]}, {setting[1]}, {rows['language'].nunique()} languages, {metric}"
    if len(gains):
        low, high = gains.loc[gains["gain_over_n0"].idxmin()], gains.loc[gains["gain_over_n0"].idxmax()]
        text += (
            f": gain over N = 0 from {low.gain_over_n0:+.1f} ({low.language}) to {high.gain_over_n0:+.1f} "
            f"({high.language}) points at N = {fmt_n(gains['n'].max())}"
        )
    shared = sorted(ours & set(rows["language"]))
    for code in shared:
        text += f"; {code}: {_points(rows[rows['language'] == code].sort_values('n'))}"
    return text + "."


def _reported(literature: pd.DataFrame, ours: set[str]) -> list[str]:
    lines = ["**What the literature reports** (values as published, percent):", ""]
    for setting, rows in literature.groupby(["source", "setting"], sort=False):
        if rows["n"].isna().all():
            values = ", ".join(f"{r.metric} = {r.value:g}" for r in rows.itertuples())
            lines.append(f"- {setting[0]}, {setting[1]}: {values} (not a point on an N axis).")
        elif rows["language"].nunique() > 1:
            lines.append(_per_language(setting, rows, ours))
        else:
            rows = rows.sort_values("n")
            gain = rows["gain_over_n0"].dropna()
            tail = f", a gain of {gain.iloc[-1]:+.1f} over its N = 0" if len(gain) else ""
            lines.append(f"- {setting[0]}, {setting[1]}, {rows['metric'].iloc[0]}: {_points(rows)}{tail}.")
    return lines + [""]


def _measured(by_size: pd.DataFrame, level: str) -> list[str]:
    main = by_size[(by_size["metric"] == MAIN_METRIC) & (by_size["size"] > 0) & by_size["gain"].notna()]
    label = metric_label(MAIN_METRIC)
    lines = [f"**What this run measured** ({label} × 100, the literature's scale; paired {level} CIs of the gain):", ""]
    if not len(main):
        return lines + [f"- no {label} gain over N = 0 (no N = 0 run, or no trained run).", ""]
    for key, rows in main.groupby(["language", "benchmark", "method"], sort=True):
        last = rows.sort_values("size").iloc[-1]
        zero = by_size[(by_size["metric"] == MAIN_METRIC) & (by_size["size"] == 0)
                       & (by_size["language"] == key[0]) & (by_size["benchmark"] == key[1]) & (by_size["method"] == key[2])]
        ci = f" [{last.gain_ci_low * 100:+.1f}, {last.gain_ci_high * 100:+.1f}]" if finite(last.gain_ci_low) else ""
        lines.append(
            f"- {key[0]} ({key[1]}, {key[2]}): {zero['mean'].iloc[0] * 100:.1f} at N = 0 and a gain of "
            f"{last.gain * 100:+.1f}{ci} points at N = {int(last['size']):,}, the largest N of the sweep."
        )
    return lines + [""]


def _not_comparable(literature: pd.DataFrame, settings: Mapping[str, Any]) -> list[str]:
    points = literature[literature["n"].notna()]
    summed = sorted({s for s, lang in zip(points["setting"], points["language"]) if not LANGUAGE_CODE.match(str(lang))})
    joint = sorted({s for s, note in zip(points["setting"], points["note"]) if "together" in str(note)})
    compute = sorted({part.strip() for note in literature["note"] for part in str(note).split(";") if "steps" in part})
    steps = settings.get("steps")
    if not steps:
        ours = "steps not in the table"
    elif steps[0] == steps[1]:
        ours = f"{steps[0]:,} training steps at every N (`steps` column): more data, same compute"
    else:
        ours = f"{steps[0]:,} to {steps[1]:,} training steps across N (`steps` column)"
    n_text = f"the published N sums the languages of {series(summed)}" if summed else "the published N is per language"
    if joint:
        n_text += f", and in {series(joint)} one model was trained on all languages together"
    return [
        "**Why the two are not directly comparable:**",
        "",
        f"- Metric: the literature reports {series(sorted(set(literature['metric'])))}; this run reports "
        f"{metric_label(MAIN_METRIC)} (share of the relevant documents in the top 50). A gain on one metric is "
        "not a gain on another, so the plot shows each on its own axis or as a gain over its own N = 0.",
        f"- Model: {'; '.join(sorted(set(points['model'])))} in the literature; this run trains its own student, "
        "and some published N = 0 points are a different model from the trained ones.",
        f"- N: {n_text}; this run's N is the sample of one language for one student.",
        f"- Compute: {'; '.join(compute) if compute else 'not stated'} in the literature; this run: {ours}.",
        "",
    ]


def literature_section(
    literature: pd.DataFrame, by_size: pd.DataFrame, settings: Mapping[str, Any], level: str
) -> list[str]:
    """The lines of the section "Beside the literature" (``level`` names this run's CIs)."""
    lines = ["## Beside the literature", ""]
    if literature.empty:
        return lines + [f"No literature table was given ({settings.get('literature_source', 'none')}).", ""]
    ours = set(by_size["language"].astype(str))
    return lines + _reported(literature, ours) + _measured(by_size, level) + _not_comparable(literature, settings)
