"""The recall table and the run files behind it: building, reading, checking, writing.

``results/tables/recall.tsv`` has one row per run (columns :data:`RECALL_COLUMNS`); each row names
its TREC run file and qrels file, from which :func:`load_per_query` gets the per-query values that
the bootstrap resamples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from swimscale._types import StrPath
from swimscale.analysis._schema import KEY_COLUMNS, METRICS, RECALL_COLUMNS
from swimscale.errors import InputError
from swimscale.retrieval import evaluate, read_qrels, read_run

# A table value and the mean of its run file may differ by the TSV's rounding (6 significant digits).
MEAN_TOLERANCE = 1e-5


def build_recall_table(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per evaluate-stage record, columns :data:`RECALL_COLUMNS`, sorted by key."""
    seen: dict[tuple[Any, ...], int] = {}
    for i, record in enumerate(records):
        missing = [c for c in RECALL_COLUMNS if c not in record]
        if missing:
            raise ValueError(f"record {i} lacks key(s) {', '.join(missing)}")
        key = tuple(record[c] for c in KEY_COLUMNS)
        if key in seen:
            named = ", ".join(f"{c}={v!r}" for c, v in zip(KEY_COLUMNS, key))
            raise ValueError(f"records {seen[key]} and {i} share the key ({named})")
        seen[key] = i
    table = pd.DataFrame([{c: r[c] for c in RECALL_COLUMNS} for r in records], columns=RECALL_COLUMNS)
    return table.sort_values(KEY_COLUMNS, ignore_index=True)


def write_tsv(df: pd.DataFrame, path: StrPath) -> None:
    """Tab-separated, no index, floats to 6 significant digits, NaN as ``nan``."""
    df.to_csv(path, sep="\t", index=False, float_format="%.6g", na_rep="nan")


def read_recall_table(path: StrPath) -> pd.DataFrame:
    """Read a recall table in the schema of ``results/tables/recall.tsv``, checking its columns."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"recall table {path} not found")
    text_columns = ["language", "benchmark", "method", "run_file", "qrels_file"]
    table = pd.read_csv(path, sep="\t", dtype={c: str for c in text_columns}, keep_default_na=False, na_values=["nan", "NaN", ""])
    missing = [c for c in RECALL_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (see swimscale.analysis.RECALL_COLUMNS)")
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


def _run_paths(row: pd.Series, named: str, table_dir: StrPath | None) -> tuple[Path, Path]:
    where = "the current directory" + (f" or {table_dir}" if table_dir is not None else "")
    paths = []
    for column in ("run_file", "qrels_file"):
        found = resolve(str(row[column]), table_dir)
        if found is None:
            raise InputError(f"{column} {row[column]!r} not found (row {named}; looked in {where})")
        paths.append(found)
    return paths[0], paths[1]


def _check_means(frame: pd.DataFrame, row: pd.Series, named: str) -> None:
    for metric in METRICS:
        mean = float(frame[metric].mean())
        if abs(mean - float(row[metric])) > MEAN_TOLERANCE:
            raise InputError(
                f"row {named}: {metric} = {row[metric]:.6g} in the table but {mean:.6g} from "
                f"run_file {row['run_file']!r}: the table and the run files disagree"
            )


def load_per_query(recall: pd.DataFrame, table_dir: StrPath | None = None) -> dict[Any, pd.DataFrame]:
    """Per-query metrics of every row's run (:func:`swimscale.retrieval.evaluate`), keyed by row label.

    Each run is checked against its row: the means must equal the table's values.
    """
    cache: dict[tuple[Path, Path], pd.DataFrame] = {}
    qrels_cache: dict[Path, Any] = {}
    out = {}
    for label, row in recall.iterrows():
        named = ", ".join(f"{c}={row[c]}" for c in KEY_COLUMNS)
        run_path, qrels_path = _run_paths(row, named, table_dir)
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
        _check_means(cache[key], row, named)
        out[label] = cache[key]
    return out
