"""The correlate analysis end to end: recall table + run files -> tables, plots and summary.md.

Used by the Snakemake rule ``correlate`` (workflow/scripts/correlate.py) and by
``python -m swimscale correlate`` alike, so both write the same files (:data:`OUTPUTS`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from swimscale._types import StrPath
from swimscale.analysis._bootstrap import bootstrap_group
from swimscale.analysis._by_size import by_size_table
from swimscale.analysis._correlation import correlation_tables
from swimscale.analysis._curves import learning_curves
from swimscale.analysis._groups import groups_of
from swimscale.analysis._pooled import read_tiers, slopes_table
from swimscale.analysis._schema import METRICS, OUTPUTS, level_words
from swimscale.analysis._settings import Settings
from swimscale.analysis._table import load_per_query, write_tsv
from swimscale.analysis.report import _plots as plots
from swimscale.analysis.report import _summary as summary
from swimscale.analysis.report import _tables as tables
from swimscale.errors import InputError


def output_paths(out_dir: StrPath) -> dict[str, Path]:
    return {name: Path(out_dir) / rel for name, rel in OUTPUTS.items()}


def analyse(
    recall: pd.DataFrame,
    per_query: Mapping[Any, pd.DataFrame] | None,
    tiers: Mapping[str, str] | None = None,
    settings: Settings | Mapping[str, Any] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of the analysis (no files written); ``settings`` default to the config schema's."""
    settings = settings if isinstance(settings, Settings) else Settings.of(settings)
    level = settings.level
    metrics = [m for m in METRICS if m in recall.columns]
    groups = groups_of(recall, per_query)
    reps = [bootstrap_group(g, metrics, settings.n_boot, settings.seed, n_keep=settings.n_refits) for g in groups]
    correlation = correlation_tables(groups, reps, metrics, level)
    return {
        "correlation": correlation,
        "by_size": by_size_table(groups, reps, metrics, level),
        "curves": learning_curves(groups, reps, settings.target_recall, level),
        "slopes": slopes_table(recall, correlation, tiers or {}, level),
    }


def _captions(settings: Mapping[str, Any]) -> dict[str, tuple[Any, str, str]]:
    """Table name -> (presenter, caption, LaTeX label)."""
    level = level_words(settings["level"])
    boot = f"{level} percentile bootstrap CIs ({settings['n_boot']:,} resamples of queries and seeds)"
    return {
        "correlation": (
            tables.present_correlation,
            f"Correlation of each metric with log10 N over the runs with N > 0, per language; {boot}.",
            "tab:correlation",
        ),
        "by_size": (
            tables.present_by_size,
            f"Mean of each metric over seeds per training-set size N; {boot}.",
            "tab:by-size",
        ),
        "curves": (
            tables.present_curves,
            "Learning curves of Recall@50, R(N) = R∞ − (R∞ − R0)(1 + N/N0)^(−α) with R0 fixed at N = 0; "
            f"{level} percentile CIs from {settings['n_boot_fit']:,} bootstrap refits.",
            "tab:learning-curves",
        ),
        "slopes": (
            tables.present_slopes,
            "Change of Recall@50 per doubling of N: per language (bootstrap CI), and pooled with language "
            f"fixed effects (cluster-robust by language, {level} CI with t(G − 1)).",
            "tab:slopes",
        ),
    }


def write_outputs(
    recall: pd.DataFrame,
    results: Mapping[str, pd.DataFrame],
    paths: Mapping[str, StrPath],
    settings: Mapping[str, Any],
) -> None:
    """Write every file of :data:`OUTPUTS` that ``paths`` names (``recall`` only if it is named).

    ``settings``: the analysis settings as a dict, with ``n_boot_fit`` the refits done and
    ``tiers_source`` saying where the tiers came from (both are quoted in the outputs).
    """
    for path in paths.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if "recall" in paths:
        write_tsv(recall, paths["recall"])
    level = settings["level"]
    for name, (present, caption, label) in _captions(settings).items():
        write_tsv(results[name], paths[name])
        tables.write_table(present(results[name], level), paths[f"{name}_md"], paths[f"{name}_tex"], caption, label)
    plots.plot_recall_vs_n(
        recall, [paths["plot"], paths["plot_svg"]], level, by_size=results["by_size"], curves=results["curves"]
    )
    plots.plot_slope_forest(results["slopes"], [paths["forest"], paths["forest_svg"]], level)
    text = summary.summary_markdown(results["correlation"], results["by_size"], results["curves"], results["slopes"], settings)
    Path(paths["summary"]).write_text(text, encoding="utf-8")


def _tiers_source(tiers_path: StrPath | None) -> str:
    if tiers_path is None:
        return "no tiers file: every language in tier unknown"
    if not Path(tiers_path).exists():
        return f"{tiers_path} not found: every language in tier unknown"
    return f"from {tiers_path}"


def run(
    recall: pd.DataFrame,
    paths: Mapping[str, StrPath],
    table_dir: StrPath | None = None,
    tiers_path: StrPath | None = None,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, pd.DataFrame]:
    """Load the per-query values, analyse, write every output; returns the tables.

    ``settings``: keys of the config's ``analysis`` section; missing ones take the schema's defaults.
    """
    resolved = Settings.of(settings)
    try:
        tiers = read_tiers(tiers_path)
    except ValueError as error:
        raise InputError(str(error)) from error
    started = time.perf_counter()
    per_query = load_per_query(recall, table_dir)
    loaded = time.perf_counter()
    results = analyse(recall, per_query, tiers, resolved)
    analysed = time.perf_counter()
    quoted = {**resolved.as_dict(), "n_boot_fit": resolved.n_refits, "tiers_source": _tiers_source(tiers_path)}
    write_outputs(recall, results, paths, quoted)
    print(
        f"swimscale correlate: {len(recall)} runs; read runs {loaded - started:.1f} s, "
        f"bootstrap and fits {analysed - loaded:.1f} s, outputs {time.perf_counter() - analysed:.1f} s"
    )
    return results
