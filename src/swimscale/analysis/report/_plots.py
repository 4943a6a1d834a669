"""The learning-curve plot of the correlate stage: a metric against N, one panel per language.

Each figure function returns a bare :class:`matplotlib.figure.Figure` (rendered with Agg, leaving
pyplot's global state alone), so that tests read its titles, legend and markers; the ``plot_*``
functions save it once per path given, in the format of the path's suffix (PNG, SVG, ...). The slope
forest and the literature plot are in :mod:`swimscale.analysis.report._forest`.

Every panel names its language, benchmark and metric (:func:`swimscale.analysis.report._labels.panel_title`);
every reference line is said in words. The points the by-size table flags (its ``flag`` column: a
cap-bound size, fewer seeds, a zero-width CI) are marked as :data:`~swimscale.analysis.report._labels.FLAG_LEGEND`
says, and the legend says so: the summary's words about those points read the same column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullLocator

from swimscale._types import StrPath
from swimscale.analysis._curve_model import curve
from swimscale.analysis._schema import (
    CAP_BOUND,
    DEGENERATE_CI,
    FEWER_SEEDS,
    FLAGS,
    GROUP_COLUMNS,
    MAIN_METRIC,
    METRIC_LABELS,
    flags_of,
    level_words,
)
from swimscale.analysis.report._labels import FLAG_LEGEND, panel_title

METHOD_MARKERS = ("o", "s", "^", "D", "v", "P")
UNTRAINED = "untrained student, N = 0"
FLAG_GREY = "0.3"


def save(fig: Figure, paths: Sequence[StrPath]) -> None:
    """Save ``fig`` to each path, in the format of its suffix, with the same bytes for the same figure."""
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


def flag_marks(ax, points: pd.DataFrame, y: str, marker: str, color: str) -> set[str]:
    """Mark the flagged ``points`` (rows with ``size``, ``y``, ``n_seeds`` and ``flag``) as
    :data:`FLAG_LEGEND` says; returns the flags drawn. Each mark's artist has the gid ``flag:<name>``."""
    if "flag" not in points.columns or not len(points):
        return set()
    flags = [flags_of(cell) for cell in points["flag"]]
    drawn = set()
    for flag in FLAGS:
        rows = points[[flag in f for f in flags]]
        if not len(rows):
            continue
        drawn.add(flag)
        x, v = rows["size"], rows[y]
        if flag == CAP_BOUND:
            ax.plot(x, v, marker, linestyle="none", markerfacecolor="none", markeredgecolor=color,
                    markeredgewidth=1.5, markersize=7, zorder=3, gid=f"flag:{flag}")
        elif flag == FEWER_SEEDS:
            ax.plot(x, v, "s", linestyle="none", markerfacecolor="none", markeredgecolor=FLAG_GREY,
                    markeredgewidth=0.8, markersize=14, zorder=3, gid=f"flag:{flag}")
            for r in rows.itertuples():
                ax.annotate(f"{int(r.n_seeds)} seed{'s' if r.n_seeds != 1 else ''}", (r.size, getattr(r, y)),
                            xytext=(9, -11), textcoords="offset points", fontsize="x-small", color=FLAG_GREY)
        else:
            ax.plot(x, v, "x", linestyle="none", color="black", markersize=9, zorder=4, gid=f"flag:{flag}")
    return drawn


def flag_legend(flags: set[str]) -> dict[str, Line2D]:
    """Legend entries (text → a neutral proxy of the mark) for the flags drawn, in :data:`FLAGS`' order."""
    proxies = {
        CAP_BOUND: Line2D([], [], marker="o", linestyle="none", markerfacecolor="none", markeredgecolor=FLAG_GREY,
                          markeredgewidth=1.5, markersize=7),
        FEWER_SEEDS: Line2D([], [], marker="s", linestyle="none", markerfacecolor="none", markeredgecolor=FLAG_GREY,
                            markeredgewidth=0.8, markersize=12),
        DEGENERATE_CI: Line2D([], [], marker="x", linestyle="none", color="black", markersize=8),
    }
    return {FLAG_LEGEND[f]: proxies[f] for f in FLAGS if f in flags}


def _zero_line(ax, zero: pd.DataFrame, color: str, label: str, with_ci: bool, level: float) -> None:
    """The untrained student's level (N = 0): a dashed line, with its CI as a shaded strip."""
    if not len(zero) or math.isnan(zero["mean"].iloc[0]):
        return
    lo, hi = zero["ci_low"].iloc[0], zero["ci_high"].iloc[0]
    strip = with_ci and not (math.isnan(lo) or math.isnan(hi))
    if "flag" in zero.columns and DEGENERATE_CI in flags_of(zero["flag"].iloc[0]):
        label += "; its CI has zero width"
    elif strip:
        label += f"; shaded: its {level_words(level)} CI"
    ax.axhline(zero["mean"].iloc[0], color=color, linestyle="--", linewidth=1, label=label)
    if strip:
        ax.axhspan(lo, hi, color=color, alpha=0.08, linewidth=0)


def _mean_line(ax, line: pd.DataFrame, style: dict[str, Any]) -> set[str]:
    """The mean over seeds per size N > 0 with its band; a cap-bound size's marker is left to its hollow mark."""
    color, name, marker = style["color"], style["name"], style["marker"]
    flags = [flags_of(c) for c in line["flag"]] if "flag" in line.columns else [set()] * len(line)
    filled = [i for i, f in enumerate(flags) if CAP_BOUND not in f]
    ax.plot(line["size"], line["mean"], "-", marker=marker, markevery=filled, color=color, label=f"{name}: mean over seeds")
    ok = line["ci_low"].notna() & line["ci_high"].notna()
    if ok.any():
        ax.fill_between(line.loc[ok, "size"], line.loc[ok, "ci_low"], line.loc[ok, "ci_high"],
                        color=color, alpha=0.18, linewidth=0, label=f"{name}: {style['band']}")
    return flag_marks(ax, line[line["mean"].notna()], "mean", marker, color)


def _panel_group(ax, recall_group, own: pd.DataFrame, fit: pd.DataFrame | None, style: dict[str, Any]) -> set[str]:
    """One benchmark × method in a language's panel: runs, mean with band, N = 0 line, fitted curve;
    returns the flags drawn."""
    color, name, metric, marker = style["color"], style["name"], style["metric"], style["marker"]
    trained = recall_group[recall_group["size"] > 0]
    if len(trained):
        ax.plot(trained["size"], trained[metric], marker, linestyle="none", color=color, alpha=0.35, markersize=3.5,
                label=f"{name}: one run per seed")
    line = own[own["size"] > 0]
    drawn = _mean_line(ax, line, style) if len(line) else set()
    if style["own_zero"]:
        zero_label = f"{name}: {UNTRAINED}" if style["several_methods"] else UNTRAINED
        _zero_line(ax, own[own["size"] == 0], color, zero_label, style["with_ci"], style["level"])
    sizes = style["sizes"]
    if fit is not None and sizes and len(fit) and np.isfinite(fit[["r0", "r_inf", "n0", "alpha"]].to_numpy(dtype=float)).all():
        f = fit.iloc[0]
        grid = np.geomspace(min(sizes) / 1.5, max(sizes) * 1.5, 200)
        ax.plot(grid, curve(grid, f.r0, f.r_inf, f.n0, f.alpha), ":", color=color, label=f"{name}: fitted saturating curve")
    return drawn


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


def _size_axis(ax, sizes: list, title: str, ylabel: str) -> None:
    ax.set_xscale("log")
    if sizes:
        ax.set_xticks(sizes, [f"{int(n):,}" for n in sizes])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlim(min(sizes) / 1.6, max(sizes) * 1.6)
    else:
        ax.set_xlim(1, 1e4)  # no N > 0 data to set the range; show a plausible one
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel("training samples N (log scale)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)


def _shared_legend(axes: np.ndarray, ncols: int, extra: Mapping[str, Line2D]) -> None:
    legend: dict[str, object] = {}  # one entry per label over all panels
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(text, handle)
    legend.update(extra)
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
    names: Mapping[str, str] | None = None,
) -> None:
    """:func:`recall_vs_n_figure`, saved to each of ``paths``."""
    save(recall_vs_n_figure(recall, level, metric, by_size, curves, names), paths)


def _language_panel(ax, data: pd.DataFrame, summary: pd.DataFrame, curves, style: dict[str, Any]) -> set[str]:
    """Every benchmark × method of one language in its panel; returns the flags drawn."""
    language = str(data["language"].iloc[0])
    # Name the benchmark only where a language has several, and the method where a benchmark has several.
    several_benchmarks = data["benchmark"].nunique() > 1
    shared, drawn = {}, set()
    for benchmark, rows in data.groupby("benchmark", sort=True):
        shared[benchmark] = _shared_zero(summary, language, benchmark, sorted(rows["method"].unique()))
        if shared[benchmark] is not None:
            label = f"{benchmark}: {UNTRAINED} (every method)" if several_benchmarks else f"{UNTRAINED} (every method)"
            _zero_line(ax, shared[benchmark], "0.35", label, style["with_ci"], style["level"])
    for i, ((_, benchmark, method), group) in enumerate(data.groupby(GROUP_COLUMNS, sort=True)):
        own = _own(summary, language, benchmark, method).sort_values("size")
        fit = None if curves is None else _own(curves, language, benchmark, method)
        fit = fit[fit["metric"] == style["metric"]] if fit is not None else None
        group_style = {
            **style, "color": f"C{i % 10}", "name": f"{benchmark}/{method}" if several_benchmarks else method,
            "marker": style["markers"][method], "own_zero": shared[benchmark] is None,
            "several_methods": several_benchmarks or data.loc[data["benchmark"] == benchmark, "method"].nunique() > 1,
        }
        drawn |= _panel_group(ax, group, own, fit, group_style)
    return drawn


def recall_vs_n_figure(
    recall: pd.DataFrame,
    level: float,
    metric: str = MAIN_METRIC,
    by_size: pd.DataFrame | None = None,
    curves: pd.DataFrame | None = None,
    names: Mapping[str, str] | None = None,
) -> Figure:
    """``metric`` against N (log x), one panel per language, one line per benchmark × method (its own
    colour; each method its own marker in every panel). ``names``: language code → name for the panel
    titles (:func:`swimscale.analysis.report._labels.read_language_names`; codes alone without it).

    Each run is a small dot; the line is the mean over seeds with its band: the bootstrap CI at
    ``level`` from ``by_size`` (see :func:`swimscale.analysis._by_size.by_size_table`), or mean ± SD
    over seeds without it. The untrained student (N = 0) is the dashed horizontal line with its CI as a
    shaded strip, drawn once in grey where every method of a benchmark has the same one. A reliable
    learning curve from ``curves`` (:func:`swimscale.analysis._curves.learning_curves`) is drawn
    dotted. The points ``by_size`` flags are marked (:func:`flag_marks`) and the legend says how.
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
    style = {"metric": metric, "band": band, "with_ci": by_size is not None, "sizes": sizes, "markers": markers,
             "level": level}
    drawn: set[str] = set()
    for ax, language in zip(axes, languages):
        data = recall[recall["language"].astype(str) == language]
        if len(data):
            drawn |= _language_panel(ax, data, summary, curves, style)
        benchmarks = sorted(data["benchmark"].astype(str).unique())
        _size_axis(ax, sizes, panel_title(language, benchmarks, metric, names), METRIC_LABELS.get(metric, metric))
    for ax in axes[len(languages) :]:
        ax.set_visible(False)
    _shared_legend(axes, ncols, flag_legend(drawn))
    fig.tight_layout()
    return fig
