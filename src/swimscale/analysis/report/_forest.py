"""The slope forest and the published curves beside ours, as figures (saved by the ``plot_*`` functions).

The forest draws every slope that could be estimated; a row of the slopes table that could not (too few
languages in a tier, too few sizes on common ground) is not drawn as an empty row but named in one note
under the plot, with the slopes table's reason. Language rows name the language
(:func:`swimscale.analysis.report._labels.language_words`) and its benchmark; the x label names the metric.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from swimscale._types import StrPath
from swimscale.analysis._literature import series_of
from swimscale.analysis._schema import CAP_BOUND, GROUP_COLUMNS, MAIN_METRIC, METRIC_LABELS, flags_of, level_words, series
from swimscale.analysis.report._labels import DOCUMENTS, language_words
from swimscale.analysis.report._plots import flag_legend, flag_marks, save

FOREST_STYLE = {"language": ("o", "C0", 5), "tier": ("D", "C3", 7), "all": ("D", "black", 8)}
NOT_ESTIMABLE = "Not drawn, not estimable"
NOTE_WIDTH = 110  # characters per line of the note under the forest


def _forest_rows(slopes: pd.DataFrame, names: Mapping[str, str] | None) -> tuple[list[tuple], list[str]]:
    """(label, slope, lo, hi, kind, note) of every row in drawing order, and the tier-difference lines."""
    rows, footnotes = [], []
    for method, data in slopes.groupby("method", sort=True):
        for tier in sorted(data.loc[data["scope"] == "tier", "tier"].astype(str)):
            for r in data[(data["scope"] == "language") & (data["tier"].astype(str) == tier)].itertuples():
                label = f"{method} · {language_words(r.language, names)} · {r.benchmark}"
                rows.append((label, r.slope, r.ci_low, r.ci_high, "language", r.note))
            t = data[(data["scope"] == "tier") & (data["tier"].astype(str) == tier)].iloc[0]
            rows.append((f"{method} · tier {tier} (across {t.n_languages} lang.)", t.slope, t.ci_low, t.ci_high, "tier", t.note))
        for r in data[data["scope"] == "all"].itertuples():
            rows.append((f"{method} · all languages ({r.n_languages})", r.slope, r.ci_low, r.ci_high, "all", r.note))
        for r in data[data["scope"] == "tier_difference"].itertuples():
            if np.isfinite(r.stat):
                footnotes.append(
                    f"{method}: tier difference, Welch F({r.df_num:.0f}, {r.df_den:.1f}) = {r.stat:.2f}, p = {r.p_value:.2g}"
                )
            else:
                footnotes.append(f"{method}: tier difference not tested ({r.note})")
    return rows, footnotes


def _dropped_note(dropped: list[tuple[str, str]]) -> str:
    """One note for the rows not drawn: the rows that share a reason (the slopes table's note) together."""
    by_reason: dict[str, list[str]] = {}
    for label, note in dropped:
        by_reason.setdefault(note if isinstance(note, str) else "", []).append(label)
    parts = [series(labels) + (f" ({reason})" if reason else "") for reason, labels in by_reason.items()]
    return f"{NOT_ESTIMABLE}: {'; '.join(parts)}."


def slope_forest_figure(slopes: pd.DataFrame, level: float, names: Mapping[str, str] | None = None) -> Figure:
    """Forest plot: slope per doubling of N with its CI per language, per tier and for all languages;
    the rows without a slope are named in the note under the plot (:data:`NOT_ESTIMABLE`)."""
    rows, footnotes = _forest_rows(slopes, names)
    drawn = [r for r in rows if np.isfinite(r[1])]
    dropped = [(r[0], r[5]) for r in rows if not np.isfinite(r[1])]
    note = "\n".join(textwrap.wrap(_dropped_note(dropped), NOTE_WIDTH)) if dropped else ""
    note_inches = 0.18 * (note.count("\n") + 1) + 0.05 if note else 0.0
    height = 0.42 * max(len(drawn), 1) + 2.0 + note_inches
    fig = Figure(figsize=(8, height))
    ax = fig.add_subplot()
    labels = []
    for i, (label, slope, lo, hi, kind, _) in enumerate(drawn):
        y = len(drawn) - 1 - i
        marker, color, size = FOREST_STYLE[kind]
        if np.isfinite(lo) and np.isfinite(hi):
            ax.hlines(y, lo, hi, color=color, linewidth=1.6)
        else:
            label += "  (no CI)"
        ax.plot([slope], [y], marker=marker, color=color, markersize=size, linestyle="none")
        labels.append((y, label))
    ax.axvline(0, color="grey", linewidth=0.8, linestyle="--", label="no change")
    if labels:
        ax.set_yticks([y for y, _ in labels], [lab for _, lab in labels], fontsize="small")
        ax.set_ylim(-0.8, len(drawn) - 0.2)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no slope could be estimated", ha="center", va="center", transform=ax.transAxes)
    metric = METRIC_LABELS.get(str(slopes["metric"].iloc[0]), "") if len(slopes) else "the metric"
    ax.set_xlabel(f"change in {metric} per doubling of N ({level_words(level)} CI; dashed: no change)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title("\n".join([f"{metric} per doubling of N: per language, per tier and across languages", *footnotes]),
                 fontsize="small", loc="left")
    if note:
        fig.text(0.01, 0.02 / height, note, ha="left", va="bottom", fontsize="small", gid="not-estimable")
    fig.tight_layout(rect=(0, note_inches / height, 1, 1))
    return fig


def plot_slope_forest(slopes: pd.DataFrame, paths: Sequence[StrPath], level: float,
                      names: Mapping[str, str] | None = None) -> None:
    """:func:`slope_forest_figure`, saved to each of ``paths``."""
    save(slope_forest_figure(slopes, level, names), paths)


def _our_gains(ax, by_size: pd.DataFrame, names: Mapping[str, str] | None) -> set[str]:
    """This run's gain over N = 0 (× 100) per language × benchmark × method, with its paired CI band and
    the by-size table's flags marked; returns the flags drawn."""
    main = by_size[(by_size["metric"] == MAIN_METRIC) & (by_size["size"] > 0) & by_size["gain"].notna()]
    label = METRIC_LABELS[MAIN_METRIC]
    drawn = set()
    for i, ((language, benchmark, method), rows) in enumerate(main.groupby(GROUP_COLUMNS, sort=True)):
        rows = rows.sort_values("size").assign(gain_points=lambda r: r["gain"] * 100)
        color = f"C{i % 10}"
        where = f"{language_words(language, names)} → {DOCUMENTS}, {benchmark}"
        filled = [i for i, cell in enumerate(rows.get("flag", [""] * len(rows))) if CAP_BOUND not in flags_of(cell)]
        ax.plot(rows["size"], rows["gain_points"], "-o", markevery=filled, color=color,
                label=f"this run: {where} ({method}), {label}")
        ok = rows["gain_ci_low"].notna() & rows["gain_ci_high"].notna()
        if ok.any():
            ax.fill_between(rows.loc[ok, "size"], rows.loc[ok, "gain_ci_low"] * 100, rows.loc[ok, "gain_ci_high"] * 100,
                            color=color, alpha=0.15, linewidth=0)
        drawn |= flag_marks(ax, rows, "gain_points", "o", color)
    return drawn


def _published(ax, table: pd.DataFrame, with_zero: bool) -> int:
    """The literature series that have (gains) or lack (values) an N = 0; returns how many were drawn."""
    drawn, per_language_labelled = 0, set()
    for (source, setting, language), rows in series_of(table, with_zero):
        points = rows[rows["n"] > 0]
        y = points["gain_over_n0"] if with_zero else points["value"]
        name = f"{source.split(' (')[0]}: {setting}, {points['metric'].iloc[0] if len(points) else ''}"
        if len(language) <= 3:  # one line per language: thin, one legend entry for them all
            label = None if (source, setting) in per_language_labelled else f"{name}, per language"
            per_language_labelled.add((source, setting))
            ax.plot(points["n"], y, "x", color="grey", alpha=0.6, label=label)
        else:  # colours after this run's (C0, C1, ...), so that no published curve looks like ours
            color = f"C{(9 - drawn) % 10}"
            ax.plot(points["n"], y, "-s" if len(points) > 1 else "D", color=color, markersize=6, label=f"{name} ({language})")
        drawn += 1
    return drawn


def literature_figure(literature: pd.DataFrame, by_size: pd.DataFrame, level: float,
                      names: Mapping[str, str] | None = None) -> Figure:
    """The published curves beside ours. Left: gain over each curve's own N = 0 (points; this run's
    Recall@50 × 100 with its paired CI band at ``level``, flagged points marked); right: published series
    without an N = 0, values on their own axis. N on a log axis; a point at N = 0 has gain 0 by definition
    and is not drawn."""
    fig = Figure(figsize=(13, 5.2))
    ax_gain, ax_value = fig.subplots(1, 2)
    flags = _our_gains(ax_gain, by_size, names)
    _published(ax_gain, literature, with_zero=True)
    ax_gain.axhline(0, color="grey", linewidth=0.8, linestyle="--", label="no gain over the untrained student (N = 0)")
    ax_gain.set_title(f"gain over its own N = 0 (this run: paired {level_words(level)} CI)", fontsize="medium")
    ax_gain.set_ylabel("gain over N = 0 (percentage points)")
    if not _published(ax_value, literature, with_zero=False):
        ax_value.text(0.5, 0.5, "no published series without N = 0", ha="center", va="center", transform=ax_value.transAxes)
    ax_value.set_title("published values without an N = 0 (own axis)", fontsize="medium")
    ax_value.set_ylabel("value as published (%)")
    for ax, extra in ((ax_gain, flag_legend(flags)), (ax_value, {})):
        ax.set_xscale("log")
        ax.set_xlabel("training pairs N (log scale)")
        ax.grid(True, which="both", alpha=0.3)
        handles, texts = ax.get_legend_handles_labels()
        handles, texts = handles + list(extra.values()), texts + list(extra)
        if handles:
            ax.legend(handles, texts, fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    fig.suptitle("Not directly comparable: different metrics, models, N summed over languages, compute (see summary.md)",
                 fontsize="small")
    fig.tight_layout()
    return fig


def plot_literature(literature: pd.DataFrame, by_size: pd.DataFrame, paths: Sequence[StrPath], level: float,
                    names: Mapping[str, str] | None = None) -> None:
    """:func:`literature_figure`, saved to each of ``paths``."""
    save(literature_figure(literature, by_size, level, names), paths)
