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
from swimscale.analysis._across_languages import across_tables, language_tiers
from swimscale.analysis._bootstrap import bootstrap_group
from swimscale.analysis._contrasts import contrasts_table
from swimscale.analysis._by_size import by_size_table
from swimscale.analysis._correlation import correlation_tables
from swimscale.analysis._curves import learning_curves
from swimscale.analysis._groups import groups_of
from swimscale.analysis._literature import LITERATURE_COLUMNS, literature_table, read_literature
from swimscale.analysis._moderator_values import with_moderator_values
from swimscale.analysis._moderators import moderators_table
from swimscale.analysis._tier_slopes import read_tiers, slopes_table
from swimscale.analysis._schema import ACROSS_TABLES, LITERATURE_OUTPUTS, METRICS, OUTPUTS
from swimscale.analysis._settings import Settings
from swimscale.analysis._table import load_per_query, with_rank_metric, write_tsv
from swimscale.analysis.report import _across_plot as across_plot
from swimscale.analysis.report import _forest as forest
from swimscale.analysis.report import _plots as plots
from swimscale.analysis.report import _present as present
from swimscale.analysis.report import _summary as summary
from swimscale.analysis.report import _tables as tables
from swimscale.analysis.report._notes import degenerate_lines
from swimscale.analysis.report._labels import read_language_names
from swimscale.errors import InputError


def output_paths(out_dir: StrPath, literature: bool = True, flat: bool = False) -> dict[str, Path]:
    """Every output under ``out_dir``; without ``literature``, none of the literature outputs.

    ``flat`` (the command line): the across-language tables (:data:`ACROSS_TABLES`) directly under
    ``out_dir`` (``OUT_DIR/across_languages.tsv``) rather than in its ``tables/``.
    """
    return {
        name: Path(out_dir) / (Path(rel).name if flat and name in ACROSS_TABLES else rel)
        for name, rel in OUTPUTS.items()
        if literature or name not in LITERATURE_OUTPUTS
    }


def analyse(
    recall: pd.DataFrame,
    per_query: Mapping[Any, pd.DataFrame] | None,
    tiers: Mapping[str, str] | None = None,
    settings: Settings | Mapping[str, Any] | None = None,
    literature: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of the analysis (no files written); ``settings`` default to the config schema's.

    ``per_query`` None: a table without run files (seeds resampled, queries not).
    """
    settings = settings if isinstance(settings, Settings) else Settings.of(settings)
    level = settings.level
    metrics = [m for m in METRICS if m in recall.columns]
    groups = groups_of(recall, per_query)
    reps = [bootstrap_group(g, metrics, settings.n_boot, settings.seed, n_keep=settings.n_refits) for g in groups]
    correlation = correlation_tables(groups, reps, metrics, level)
    results = {
        "correlation": correlation,
        "by_size": by_size_table(groups, reps, metrics, level),
        "curves": learning_curves(groups, reps, settings.target_recall, level),
    }
    tier_of = language_tiers(recall, tiers or {})  # the tiers file's, or the table's own tier column
    results["slopes"] = slopes_table(recall, correlation, tier_of, level)
    results["across"], results["across_units"] = across_tables(recall, tiers or {}, level, correlation)
    results["moderators"] = moderators_table(recall, results["across_units"], tier_of, level)
    results["contrasts"] = contrasts_table(recall, tier_of, level)
    if literature is not None:
        results["literature"] = literature_table(literature)
    return results


def write_outputs(
    recall: pd.DataFrame,
    results: Mapping[str, pd.DataFrame],
    paths: Mapping[str, StrPath],
    settings: Mapping[str, Any],
) -> None:
    """Write every file of :data:`OUTPUTS` that ``paths`` names (``recall`` only if it is named).

    ``settings``: the analysis settings as a dict, with ``n_boot_fit`` the refits done,
    ``tiers_source`` / ``literature_source`` saying where the tiers and the literature came from, and
    ``language_names`` (optional) the languages' names by code for the figures.
    """
    for path in paths.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if "recall" in paths:
        write_tsv(recall, paths["recall"])
    level = settings["level"]
    for name, (presenter, caption, label) in present.described(settings).items():
        if name in results and name in paths:
            write_tsv(results[name], paths[name])
            tables.write_table(presenter(results[name], level), paths[f"{name}_md"], paths[f"{name}_tex"], caption, label)
    names = settings.get("language_names")  # code -> name, for the figures' titles
    plots.plot_recall_vs_n(
        recall, [paths["plot"], paths["plot_svg"]], level, by_size=results["by_size"], curves=results["curves"],
        names=names,
    )
    forest.plot_slope_forest(results["slopes"], [paths["forest"], paths["forest_svg"]], level, names)
    for name in (n for n in ACROSS_TABLES if n in results and n in paths):
        write_tsv(results[name], paths[name])
    if "across" in results and "across_plot" in paths:
        across_plot.plot_across_languages(
            results["across"], results["across_units"], [paths["across_plot"], paths["across_plot_svg"]], level
        )
    if "literature" in results and "literature_plot" in paths:
        forest.plot_literature(
            results["literature"], results["by_size"], [paths["literature_plot"], paths["literature_plot_svg"]], level,
            names,
        )
    Path(paths["summary"]).write_text(summary.summary_markdown(results, settings, recall), encoding="utf-8")


def _steps(recall: pd.DataFrame) -> tuple[int, int] | None:
    """The fewest and most training steps of the trained runs, if the table says."""
    if "steps" not in recall.columns:
        return None
    steps = pd.to_numeric(recall.loc[recall["size"] > 0, "steps"], errors="coerce").dropna()
    return (int(steps.min()), int(steps.max())) if len(steps) else None


def _tier_words(tiers: Mapping[str, str], recall: pd.DataFrame) -> str:
    """What the summary adds to the tiers' source: the table's own tier column, or that there are none."""
    if "tier" in recall.columns:
        return "; the table's tier column where it has one"
    return "" if tiers else ": every language in tier unknown"


def _source(path: StrPath | None, what: str) -> str:
    if path is None:
        return f"no {what} file"
    if not Path(path).exists():
        return f"{path} not found"
    return f"from {path}"


def run(
    recall: pd.DataFrame,
    paths: Mapping[str, StrPath],
    table_dir: StrPath | None = None,
    tiers_path: StrPath | None = None,
    settings: Mapping[str, Any] | None = None,
    literature_path: StrPath | None = None,
    moderator_values_path: StrPath | None = None,
) -> dict[str, pd.DataFrame]:
    """Load the per-query values (if the table names run files), analyse, write every output in ``paths``.

    The moderators' values (``joshi_class``, ``mbert_pretraining`` from the tiers file; tokenizer fertility
    and [UNK] rate from ``moderator_values_path``) join the analysed table, not the written recall table.

    ``settings``: keys of the config's ``analysis`` section; missing ones take the schema's defaults.
    With literature outputs in ``paths`` but no ``literature_path``, they say that no table was given.
    """
    resolved = Settings.of(settings)
    try:
        tiers = read_tiers(tiers_path)
    except ValueError as error:
        raise InputError(str(error)) from error
    literature = read_literature(literature_path) if literature_path is not None else None
    if literature is None and any(name in paths for name in LITERATURE_OUTPUTS):
        literature = pd.DataFrame(columns=LITERATURE_COLUMNS)
    started = time.perf_counter()
    per_query = load_per_query(recall, table_dir)
    analysed_table = with_moderator_values(with_rank_metric(recall, per_query), tiers_path, moderator_values_path)
    loaded = time.perf_counter()
    results = analyse(analysed_table, per_query, tiers, resolved, literature)
    analysed = time.perf_counter()
    quoted = {
        **resolved.as_dict(),
        "n_boot_fit": resolved.n_refits,
        "tiers_source": _source(tiers_path, "tiers") + _tier_words(tiers, recall),
        "literature_source": _source(literature_path, "literature"),
        "language_names": read_language_names(tiers_path),  # the tiers file's `name` column, if it has one
        "run_files": per_query is not None,
        "steps": _steps(recall),
    }
    write_outputs(recall, results, paths, quoted)
    for line in degenerate_lines(results["correlation"]):  # said on the terminal too, not only in summary.md
        if line:
            print(f"swimscale correlate: {line}")
    print(
        f"swimscale correlate: {len(recall)} runs; read runs {loaded - started:.1f} s, "
        f"bootstrap and fits {analysed - loaded:.1f} s, outputs {time.perf_counter() - analysed:.1f} s"
    )
    return results
