"""Plots of the correlate stage: a metric against N per language, a forest plot of slopes, and the
published curves beside ours.

Bare :class:`matplotlib.figure.Figure` objects render with Agg and leave pyplot's global state alone.
Each figure is saved once per path given, in the format of the path's suffix (PNG, SVG, ...).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from swimscale._types import StrPath
from swimscale.analysis._curve_model import curve
from swimscale.analysis._literature import series_of
from swimscale.analysis._schema import GROUP_COLUMNS, MAIN_METRIC, METRIC_LABELS, level_words

METHOD_MARKERS = ("o", "s", "^", "D", "v", "P")


def _save(fig: Figure, paths: Sequence[StrPath]) -> None:
    for path in paths:
        fmt = Path(path).suffix.lstrip(".").lower() or "png"
        # No creation date and fixed SVG element ids: the same results give the same bytes.
        metadata = {"Date": None} if fmt in ("svg", "pdf") else {}
        with matplotlib.rc_context({"svg.hashsalt": "swimscale"}):
            fig.savefig(path, dpi=150, format=fmt, bbox_inches="tight", metadata=metadata)


def _means_without_ci(recall: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean per group × size over seeds, with mean ± SD as the band (when no bootstrap CI is given)."""
    stats = recall.groupby([*GROUP_COLUMNS, "size"], sort=True)[metric].agg(["mean", "std", "count"]).reset_index()
    stats["std"] = stats["std"].fillna(0.0)
    stats["ci_low"] = stats["mean"] - stats["std"]
    stats["ci_high"] = stats["mean"] + stats["std"]
    stats["metric"] = metric
    return stats


def _zero_line(ax, zero: pd.DataFrame, color: str, label: str, with_ci: bool) -> None:
    """The untrained student's level (N = 0): a dashed line, with its CI as a shaded strip."""
    if not len(zero) or math.isnan(zero["mean"].iloc[0]):
        return
    ax.axhline(zero["mean"].iloc[0], color=color, linestyle="--", linewidth=1, label=label)
    lo, hi = zero["ci_low"].iloc[0], zero["ci_high"].iloc[0]
    if with_ci and not (math.isnan(lo) or math.isnan(hi)):
        ax.axhspan(lo, hi, color=color, alpha=0.08, linewidth=0)


def _panel_group(ax, recall_group, own: pd.DataFrame, fit: pd.DataFrame | None, style: dict[str, Any]) -> None:
    """One benchmark × method in a language's panel: runs, mean with band, N = 0 line, fitted curve."""
    color, name, metric, marker = style["color"], style["name"], style["metric"], style["marker"]
    trained = recall_group[recall_group["size"] > 0]
    if len(trained):
        ax.plot(trained["size"], trained[metric], marker, linestyle="none", color=color, alpha=0.35, markersize=3.5)
    line = own[own["size"] > 0]
    if len(line):
        ax.plot(line["size"], line["mean"], "-", marker=marker, color=color, label=f"{name}: mean over seeds")
        ok = line["ci_low"].notna() & line["ci_high"].notna()
        if ok.any():
            ax.fill_between(
                line.loc[ok, "size"], line.loc[ok, "ci_low"], line.loc[ok, "ci_high"],
                color=color, alpha=0.18, linewidth=0, label=f"{name}: {style['band']}",
            )
    if style["own_zero"]:
        _zero_line(ax, own[own["size"] == 0], color, f"{name}: N = 0", style["with_ci"])
    sizes = style["sizes"]
    if fit is not None and sizes and len(fit) and np.isfinite(fit[["r0", "r_inf", "n0", "alpha"]].to_numpy(dtype=float)).all():
        f = fit.iloc[0]
        grid = np.geomspace(min(sizes) / 1.5, max(sizes) * 1.5, 200)
        ax.plot(grid, curve(grid, f.r0, f.r_inf, f.n0, f.alpha), ":", color=color, label=f"{name}: fitted curve")


def _shared_zero(summary: pd.DataFrame, language: str, benchmark: str, methods: Sequence[str]) -> pd.DataFrame | None:
    """The N = 0 row that several methods of a benchmark share (the same untrained student), else None."""
    zero = summary[(summary["language"].astype(str) == language) & (summary["benchmark"] == benchmark)
                   & (summary["size"] == 0) & summary["method"].isin(methods)]
    if len(methods) < 2 or len(zero) != len(methods):
        return None
    values = zero[["mean", "ci_low", "ci_high"]].to_numpy(dtype=float)
    return zero.iloc[:1] if np.allclose(values, values[0], rtol=0, atol=1e-12, equal_nan=True) else None


def _own(table: pd.DataFrame, language: str, benchmark: str, method: str) -> pd.DataFrame:
    return table[
        (table["language"].astype(str) == language) & (table["benchmark"] == benchmark) & (table["method"] == method)
    ]


def _size_axis(ax, sizes: list, language: str, ylabel: str) -> None:
    ax.set_xscale("log")
    if sizes:
        ax.set_xticks(sizes, [f"{int(n):,}" for n in sizes])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlim(min(sizes) / 1.6, max(sizes) * 1.6)
    else:
        ax.set_xlim(1, 1e4)  # no N > 0 data to set the range; show a plausible one
    ax.set_title(language)
    ax.set_xlabel("training samples N (log scale)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)


def _shared_legend(axes: np.ndarray, ncols: int) -> None:
    legend: dict[str, object] = {}  # one entry per label over all panels
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(text, handle)
    if legend:
        # Outside the axes, so the legend never hides data points.
        axes[ncols - 1].legend(
            list(legend.values()), list(legend), fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0)
        )


def plot_recall_vs_n(
    recall: pd.DataFrame,
    paths: Sequence[StrPath],
    level: float,
    metric: str = MAIN_METRIC,
    by_size: pd.DataFrame | None = None,
    curves: pd.DataFrame | None = None,
) -> None:
    """:func:`recall_vs_n_figure`, saved to each of ``paths``."""
    _save(recall_vs_n_figure(recall, level, metric, by_size, curves), paths)


def recall_vs_n_figure(
    recall: pd.DataFrame,
    level: float,
    metric: str = MAIN_METRIC,
    by_size: pd.DataFrame | None = None,
    curves: pd.DataFrame | None = None,
) -> Figure:
    """``metric`` against N (log x), one panel per language, one line per benchmark × method (its own
    colour; each method its own marker in every panel).

    Each run is a small dot; the line is the mean over seeds with its band: the bootstrap CI at
    ``level`` from ``by_size`` (see :func:`swimscale.analysis._by_size.by_size_table`), or mean ± SD
    over seeds without it. N = 0 (the untrained student) is the dashed horizontal line with its CI as a
    shaded strip, drawn once in grey where every method of a benchmark has the same one. A reliable
    learning curve from ``curves`` (:func:`swimscale.analysis._curves.learning_curves`)
    is drawn dotted.
    """
    band = f"{level_words(level)} bootstrap CI" if by_size is not None else "± SD over seeds"
    summary = _means_without_ci(recall, metric) if by_size is None else by_size[by_size["metric"] == metric]
    languages = sorted(recall["language"].astype(str).unique()) or [""]
    ncols = min(3, len(languages))
    nrows = math.ceil(len(languages) / ncols)
    fig = Figure(figsize=(4.8 * ncols + 2.2, 3.8 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    sizes = sorted(recall.loc[recall["size"] > 0, "size"].unique())
    # A method keeps its marker in every panel (told apart without colour too).
    markers = {m: METHOD_MARKERS[i % len(METHOD_MARKERS)] for i, m in enumerate(sorted(recall["method"].unique()))}
    for ax, language in zip(axes, languages):
        data = recall[recall["language"].astype(str) == language]
        # Name the benchmark only where a language has several, to keep the legend short.
        several_benchmarks = data["benchmark"].nunique() > 1
        shared = {}
        for benchmark, rows in data.groupby("benchmark", sort=True):
            shared[benchmark] = _shared_zero(summary, language, benchmark, sorted(rows["method"].unique()))
            if shared[benchmark] is not None:
                label = f"{benchmark}: N = 0 (every method)" if several_benchmarks else "N = 0 (untrained: every method)"
                _zero_line(ax, shared[benchmark], "0.35", label, by_size is not None)
        for i, ((_, benchmark, method), group) in enumerate(data.groupby(GROUP_COLUMNS, sort=True)):
            own = _own(summary, language, benchmark, method).sort_values("size")
            fit = None if curves is None else _own(curves, language, benchmark, method)
            fit = fit[fit["metric"] == metric] if fit is not None else None
            style = {
                "color": f"C{i % 10}", "name": f"{benchmark}/{method}" if several_benchmarks else method,
                "metric": metric, "band": band, "with_ci": by_size is not None, "sizes": sizes,
                "marker": markers[method], "own_zero": shared[benchmark] is None,
            }
            _panel_group(ax, group, own, fit, style)
        _size_axis(ax, sizes, language, METRIC_LABELS.get(metric, metric))
    for ax in axes[len(languages) :]:
        ax.set_visible(False)
    _shared_legend(axes, ncols)
    fig.tight_layout()
    return fig


def plot_slope_forest(slopes: pd.DataFrame, paths: Sequence[StrPath], level: float) -> None:
    """Forest plot: slope per doubling of N with its CI per language, per tier and for all languages."""
    rows = []  # (label, slope, lo, hi, kind)
    footnotes = []
    for method, data in slopes.groupby("method", sort=True):
        metric = str(data["metric"].iloc[0])
        for tier in sorted(data.loc[data["scope"] == "tier", "tier"].astype(str)):
            for r in data[(data["scope"] == "language") & (data["tier"].astype(str) == tier)].itertuples():
                rows.append((f"{method} · {r.language} ({r.benchmark})", r.slope, r.ci_low, r.ci_high, "language"))
            t = data[(data["scope"] == "tier") & (data["tier"].astype(str) == tier)].iloc[0]
            rows.append((f"{method} · tier {tier} (pooled, {t.n_languages} lang.)", t.slope, t.ci_low, t.ci_high, "tier"))
        for r in data[data["scope"] == "all"].itertuples():
            rows.append((f"{method} · all languages ({r.n_languages})", r.slope, r.ci_low, r.ci_high, "all"))
        for r in data[data["scope"] == "tier_difference"].itertuples():
            if np.isfinite(r.stat):
                footnotes.append(
                    f"{method}: tier difference, Welch F({r.df_num:.0f}, {r.df_den:.1f}) = {r.stat:.2f}, p = {r.p_value:.2g}"
                )
            else:
                footnotes.append(f"{method}: tier difference not tested ({r.note})")
    fig = Figure(figsize=(8, 0.42 * max(len(rows), 1) + 1.8))
    ax = fig.add_subplot()
    style = {"language": ("o", "C0", 5), "tier": ("D", "C3", 7), "all": ("D", "black", 8)}
    labels = []
    for i, (label, slope, lo, hi, kind) in enumerate(rows):
        y = len(rows) - 1 - i
        marker, color, size = style[kind]
        if np.isfinite(slope):
            if np.isfinite(lo) and np.isfinite(hi):
                ax.hlines(y, lo, hi, color=color, linewidth=1.6)
            else:
                label += "  (no CI)"
            ax.plot([slope], [y], marker=marker, color=color, markersize=size, linestyle="none")
        else:
            label += "  (not estimable)"
        labels.append((y, label))
    ax.axvline(0, color="grey", linewidth=0.8, linestyle="--")
    if labels:
        ax.set_yticks([y for y, _ in labels], [lab for _, lab in labels], fontsize="small")
        ax.set_ylim(-0.8, len(rows) - 0.2)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no slope could be estimated", ha="center", va="center", transform=ax.transAxes)
    metric = METRIC_LABELS.get(str(slopes["metric"].iloc[0]), "") if len(slopes) else "metric"
    ax.set_xlabel(f"change in {metric} per doubling of N ({level_words(level)} CI)")
    ax.grid(True, axis="x", alpha=0.3)
    if footnotes:
        ax.set_title("\n".join(footnotes), fontsize="small", loc="left")
    fig.tight_layout()
    _save(fig, paths)


def _our_gains(ax, by_size: pd.DataFrame, level: float) -> None:
    """This run's gain over N = 0 (× 100) per language × benchmark × method, with its paired CI band."""
    main = by_size[(by_size["metric"] == MAIN_METRIC) & (by_size["size"] > 0) & by_size["gain"].notna()]
    label = METRIC_LABELS[MAIN_METRIC]
    for i, ((language, benchmark, method), rows) in enumerate(main.groupby(GROUP_COLUMNS, sort=True)):
        rows = rows.sort_values("size")
        color = f"C{i % 10}"
        ax.plot(rows["size"], rows["gain"] * 100, "-o", color=color, label=f"this run: {language} ({method}), {label}")
        ok = rows["gain_ci_low"].notna() & rows["gain_ci_high"].notna()
        if ok.any():
            ax.fill_between(rows.loc[ok, "size"], rows.loc[ok, "gain_ci_low"] * 100, rows.loc[ok, "gain_ci_high"] * 100,
                            color=color, alpha=0.15, linewidth=0)


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


def plot_literature(literature: pd.DataFrame, by_size: pd.DataFrame, paths: Sequence[StrPath], level: float) -> None:
    """The published curves beside ours. Left: gain over each curve's own N = 0 (points; this run's
    Recall@50 × 100 with its paired CI band at ``level``); right: published series without an N = 0,
    values on their own axis. N on a log axis; a point at N = 0 has gain 0 by definition and is not drawn."""
    fig = Figure(figsize=(13, 5.2))
    ax_gain, ax_value = fig.subplots(1, 2)
    _our_gains(ax_gain, by_size, level)
    _published(ax_gain, literature, with_zero=True)
    ax_gain.axhline(0, color="grey", linewidth=0.8, linestyle="--")
    ax_gain.set_title(f"gain over its own N = 0 (this run: paired {level_words(level)} CI)", fontsize="medium")
    ax_gain.set_ylabel("gain over N = 0 (percentage points)")
    if not _published(ax_value, literature, with_zero=False):
        ax_value.text(0.5, 0.5, "no published series without N = 0", ha="center", va="center", transform=ax_value.transAxes)
    ax_value.set_title("published values without an N = 0 (own axis)", fontsize="medium")
    ax_value.set_ylabel("value as published (%)")
    for ax in (ax_gain, ax_value):
        ax.set_xscale("log")
        ax.set_xlabel("training pairs N (log scale)")
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    fig.suptitle("Not directly comparable: different metrics, models, N pooled across languages, compute (see summary.md)",
                 fontsize="small")
    fig.tight_layout()
    _save(fig, paths)
