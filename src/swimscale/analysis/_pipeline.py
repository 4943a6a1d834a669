"""The correlate analysis end to end: recall table + run files -> tables, plots and summary.md.

Used by the Snakemake rule ``correlate`` (workflow/scripts/correlate.py) and by
``python -m swimscale correlate`` alike, so both write the same files (:data:`OUTPUTS`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from swimscale._types import StrPath
from swimscale.analysis import _curves as curves_mod
from swimscale.analysis import _pooled as pooled
from swimscale.analysis._stats import (
    KEY_COLUMNS,
    LEVEL,
    METRICS,
    RECALL_COLUMNS,
    bootstrap_group,
    by_size_table,
    correlation_tables,
    groups_of,
    write_tsv,
)
from swimscale.analysis.report import _plots as plots
from swimscale.analysis.report import _summary as summary
from swimscale.analysis.report import _tables as tables
from swimscale.errors import InputError
from swimscale.retrieval import evaluate, read_qrels, read_run

# Output name -> path under the output directory (results/ in the workflow).
OUTPUTS = {
    "recall": "tables/recall.tsv",
    "correlation": "tables/correlation.tsv",
    "correlation_md": "tables/correlation.md",
    "correlation_tex": "tables/correlation.tex",
    "by_size": "tables/recall_by_size.tsv",
    "by_size_md": "tables/recall_by_size.md",
    "by_size_tex": "tables/recall_by_size.tex",
    "curves": "tables/learning_curves.tsv",
    "curves_md": "tables/learning_curves.md",
    "curves_tex": "tables/learning_curves.tex",
    "slopes": "tables/slopes.tsv",
    "slopes_md": "tables/slopes.md",
    "slopes_tex": "tables/slopes.tex",
    "plot": "plots/recall_vs_n.png",
    "plot_svg": "plots/recall_vs_n.svg",
    "forest": "plots/slope_forest.png",
    "forest_svg": "plots/slope_forest.svg",
    "summary": "summary.md",
}
DEFAULTS = {"target_recall": 0.1, "n_boot": 10_000, "n_boot_fit": 200, "seed": 0}
# A table value and the mean of its run file may differ by the TSV's rounding (6 significant digits).
MEAN_TOLERANCE = 1e-5



def output_paths(out_dir: StrPath) -> dict[str, Path]:
    return {name: Path(out_dir) / rel for name, rel in OUTPUTS.items()}


def read_recall_table(path: StrPath) -> pd.DataFrame:
    """Read a recall table in the schema of ``results/tables/recall.tsv``, checking its columns."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"recall table {path} not found")
    text_columns = ["language", "benchmark", "method", "run_file", "qrels_file"]
    table = pd.read_csv(path, sep="\t", dtype={c: str for c in text_columns}, keep_default_na=False, na_values=["nan", "NaN", ""])
    missing = [c for c in RECALL_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (see swimscale.stats.RECALL_COLUMNS)")
    if table.empty:
        raise InputError(f"{path}: the table has no rows")
    for column in ("size", "seed"):
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any() or (values != values.round()).any() or (values < 0).any():
            raise InputError(f"{path}: column {column} must hold non-negative integers")
        table[column] = values.astype(np.int64)
    for column in METRICS:
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any():
            raise InputError(f"{path}: column {column} has a missing or non-numeric value")
        table[column] = values.astype(float)
    duplicated = table.duplicated(KEY_COLUMNS)
    if duplicated.any():
        key = table.loc[duplicated, KEY_COLUMNS].iloc[0].to_dict()
        raise InputError(f"{path}: more than one row for {key}")
    return table.sort_values(KEY_COLUMNS, ignore_index=True)


def resolve(name: str, table_dir: StrPath | None) -> Path | None:
    """A path from the table: absolute, else relative to the current directory, else to the table's."""
    path = Path(name)
    if path.is_absolute():
        return path if path.exists() else None
    for base in (Path.cwd(), *([Path(table_dir)] if table_dir is not None else [])):
        if (base / path).exists():
            return base / path
    return None


def load_per_query(recall: pd.DataFrame, table_dir: StrPath | None = None) -> dict[Any, pd.DataFrame]:
    """Per-query metrics of every row's run (``swimscale.metrics.evaluate``), keyed by row label.

    Each run is checked against its row: the means must equal the table's values.
    """
    cache: dict[tuple[Path, Path], pd.DataFrame] = {}
    qrels_cache: dict[Path, Any] = {}
    out = {}
    where = "the current directory" + (f" or {table_dir}" if table_dir is not None else "")
    for label, row in recall.iterrows():
        named = ", ".join(f"{c}={row[c]}" for c in KEY_COLUMNS)
        paths = []
        for column in ("run_file", "qrels_file"):
            found = resolve(str(row[column]), table_dir)
            if found is None:
                raise InputError(f"{column} {row[column]!r} not found (row {named}; looked in {where})")
            paths.append(found)
        run_path, qrels_path = paths
        key = (run_path.resolve(), qrels_path.resolve())
        if key not in cache:
            try:
                if key[1] not in qrels_cache:
                    qrels_cache[key[1]] = read_qrels(qrels_path)
                cache[key] = evaluate(read_run(run_path), qrels_cache[key[1]])
            except (OSError, ValueError) as error:
                raise InputError(str(error).splitlines()[0]) from error
            if cache[key].empty:
                raise InputError(f"qrels_file {row['qrels_file']!r} judges no query relevant (row {named})")
        frame = cache[key]
        for metric in METRICS:
            mean = float(frame[metric].mean())
            if abs(mean - float(row[metric])) > MEAN_TOLERANCE:
                raise InputError(
                    f"row {named}: {metric} = {row[metric]:.6g} in the table but {mean:.6g} from "
                    f"run_file {row['run_file']!r}: the table and the run files disagree"
                )
        out[label] = frame
    return out


def analyse(
    recall: pd.DataFrame,
    per_query: Mapping[Any, pd.DataFrame] | None,
    tiers: Mapping[str, str] | None = None,
    target_recall: float = DEFAULTS["target_recall"],
    n_boot: int = DEFAULTS["n_boot"],
    n_boot_fit: int = DEFAULTS["n_boot_fit"],
    seed: int = DEFAULTS["seed"],
    level: float = LEVEL,
) -> dict[str, pd.DataFrame]:
    """Every table of the analysis (no files written)."""
    metrics = [m for m in METRICS if m in recall.columns]
    groups = groups_of(recall, per_query)
    reps = [bootstrap_group(g, metrics, n_boot, seed, n_keep=min(n_boot_fit, n_boot)) for g in groups]
    correlation = correlation_tables(groups, reps, metrics, level)
    return {
        "correlation": correlation,
        "by_size": by_size_table(groups, reps, metrics, level),
        "curves": curves_mod.learning_curves(groups, reps, target_recall, "recall_at_50", level),
        "slopes": pooled.slopes_table(recall, correlation, tiers or {}, "recall_at_50", level),
    }


def write_outputs(
    recall: pd.DataFrame,
    results: Mapping[str, pd.DataFrame],
    paths: Mapping[str, StrPath],
    settings: Mapping[str, Any],
) -> None:
    """Write every file of :data:`OUTPUTS` that ``paths`` names (``recall`` only if it is named)."""
    for path in paths.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if "recall" in paths:
        write_tsv(recall, paths["recall"])
    level = f"{settings.get('level', LEVEL) * 100:g} %"
    boot = (
        f"{level} percentile bootstrap CIs ({settings.get('n_boot', 0):,} resamples of queries and seeds)"
    )
    described = {
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
            f"{level} percentile CIs from {settings.get('n_boot_fit', 0):,} bootstrap refits.",
            "tab:learning-curves",
        ),
        "slopes": (
            tables.present_slopes,
            "Change of Recall@50 per doubling of N: per language (bootstrap CI), and pooled with language "
            f"fixed effects (cluster-robust by language, {level} CI with t(G − 1)).",
            "tab:slopes",
        ),
    }
    for name, (present, caption, label) in described.items():
        write_tsv(results[name], paths[name])
        tables.write_table(present(results[name]), paths[f"{name}_md"], paths[f"{name}_tex"], caption, label)
    plots.plot_recall_vs_n(
        recall, [paths["plot"], paths["plot_svg"]], by_size=results["by_size"], curves=results["curves"]
    )
    plots.plot_slope_forest(results["slopes"], [paths["forest"], paths["forest_svg"]])
    text = summary.summary_markdown(results["correlation"], results["by_size"], results["curves"], results["slopes"], settings)
    Path(paths["summary"]).write_text(text, encoding="utf-8")


def run(
    recall: pd.DataFrame,
    paths: Mapping[str, StrPath],
    table_dir: StrPath | None = None,
    tiers_path: StrPath | None = None,
    target_recall: float = DEFAULTS["target_recall"],
    n_boot: int = DEFAULTS["n_boot"],
    n_boot_fit: int = DEFAULTS["n_boot_fit"],
    seed: int = DEFAULTS["seed"],
) -> dict[str, pd.DataFrame]:
    """Load the per-query values, analyse, write every output; returns the tables."""
    if not (0 < target_recall <= 1) or math.isnan(target_recall):
        raise InputError(f"target recall must be in (0, 1], got {target_recall}")
    if n_boot < 0 or n_boot_fit < 0:
        raise InputError("resample counts must be ≥ 0")
    try:
        tiers = pooled.read_tiers(tiers_path)
    except ValueError as error:
        raise InputError(str(error)) from error
    started = time.perf_counter()
    per_query = load_per_query(recall, table_dir)
    loaded = time.perf_counter()
    results = analyse(recall, per_query, tiers, target_recall, n_boot, n_boot_fit, seed)
    analysed = time.perf_counter()
    if tiers_path is None:
        tiers_source = "no tiers file: every language in tier unknown"
    elif not Path(tiers_path).exists():
        tiers_source = f"{tiers_path} not found: every language in tier unknown"
    else:
        tiers_source = f"from {tiers_path}"
    settings = {
        "n_boot": n_boot,
        "n_boot_fit": min(n_boot_fit, n_boot),
        "seed": seed,
        "target_recall": target_recall,
        "tiers_source": tiers_source,
        "level": LEVEL,
    }
    write_outputs(recall, results, paths, settings)
    print(
        f"swimscale correlate: {len(recall)} runs; read runs {loaded - started:.1f} s, "
        f"bootstrap and fits {analysed - loaded:.1f} s, outputs {time.perf_counter() - analysed:.1f} s"
    )
    return results
