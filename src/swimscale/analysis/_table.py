"""The recall table and the run files behind it: building, reading, checking, writing.

``results/tables/recall.tsv`` has one row per run (columns :data:`RECALL_COLUMNS`); each row names
its TREC run file and qrels file, from which :func:`load_per_query` gets the per-query values that
the bootstrap resamples. Any other table with at least :data:`REQUIRED_COLUMNS` can be analysed too
(:func:`read_recall_table`); without run files only seeds are resampled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from swimscale._types import StrPath
from swimscale.analysis._ranks import first_relevant_log2_rank
from swimscale.analysis._schema import (
    COUNT_COLUMNS,
    DETAIL_COLUMNS,
    FLAG_COLUMNS,
    KEY_COLUMNS,
    NUMBER_COLUMNS,
    RANK_METRIC,
    RECALL_COLUMNS,
    REQUIRED_COLUMNS,
    TABLE_METRICS,
    TEXT_COLUMNS,
)
from swimscale.errors import InputError
from swimscale.retrieval import evaluate, read_qrels, read_run

# A table value and the mean of its run file may differ by the TSV's rounding (6 significant digits).
MEAN_TOLERANCE = 1e-5


def recall_columns(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The table's columns: :data:`RECALL_COLUMNS`, with the :data:`DETAIL_COLUMNS` that the records
    carry (training budget, data checks) before the file columns."""
    details = [c for c in DETAIL_COLUMNS if any(c in record for record in records)]
    files = ["run_file", "qrels_file"]
    return [*(c for c in RECALL_COLUMNS if c not in files), *details, *files]


def build_recall_table(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per evaluate-stage record, sorted by key: columns :data:`RECALL_COLUMNS`, and each of
    :data:`DETAIL_COLUMNS` that the records carry (every record then needs it)."""
    columns = recall_columns(records)
    seen: dict[tuple[Any, ...], int] = {}
    for i, record in enumerate(records):
        missing = [c for c in columns if c not in record]
        if missing:
            raise ValueError(f"record {i} lacks key(s) {', '.join(missing)}")
        key = tuple(record[c] for c in KEY_COLUMNS)
        if key in seen:
            named = ", ".join(f"{c}={v!r}" for c, v in zip(KEY_COLUMNS, key))
            raise ValueError(f"records {seen[key]} and {i} share the key ({named})")
        seen[key] = i
    table = pd.DataFrame([{c: r[c] for c in columns} for r in records], columns=columns)
    return table.sort_values(KEY_COLUMNS, ignore_index=True)


def write_tsv(df: pd.DataFrame, path: StrPath) -> None:
    """Tab-separated, no index, floats to 6 significant digits, NaN as ``nan``."""
    df.to_csv(path, sep="\t", index=False, float_format="%.6g", na_rep="nan")


def _line(label: Any) -> int:
    """The file line of a row (the header is line 1; blank lines are kept, so labels map one to one)."""
    return int(label) + 2


def _bad(path: Path, label: Any, column: str, what: str) -> InputError:
    return InputError(f"{path}, line {_line(label)}, column {column}: {what}")


def _integers(table: pd.DataFrame, path: Path, column: str) -> pd.Series:
    values = pd.to_numeric(table[column], errors="coerce")
    for label in table.index[values.isna() | (values != values.round())]:
        raise _bad(path, label, column, f"{table.at[label, column]!r} is not an integer")
    for label in table.index[values < 0]:
        raise _bad(path, label, column, f"{table.at[label, column]!r} is negative")
    return values.astype(np.int64)


def _metric_values(table: pd.DataFrame, path: Path, column: str) -> pd.Series:
    values = pd.to_numeric(table[column], errors="coerce")
    for label in table.index[values.isna()]:
        raise _bad(path, label, column, f"{table.at[label, column]!r} is not a number")
    bounded = column != RANK_METRIC  # recall, nDCG and MRR are shares
    for label in table.index[bounded & ((values < 0) | (values > 1))]:
        raise _bad(path, label, column, f"{values[label]:g} is outside [0, 1]")
    return values.astype(float)


def _check_texts(table: pd.DataFrame, path: Path, columns: Sequence[str]) -> None:
    for column in columns:
        for label in table.index[table[column].str.strip() == ""]:
            raise _bad(path, label, column, "empty")


def _optional_numbers(table: pd.DataFrame, path: Path, column: str, integer: bool) -> pd.Series:
    """A column that may be empty or nan (not recorded) but otherwise holds numbers ≥ 0 (integers for counts)."""
    text = table[column].str.strip()
    values = pd.to_numeric(text, errors="coerce")
    recorded = ~text.str.lower().isin(["", "nan"])
    for label in table.index[recorded & values.isna()]:
        raise _bad(path, label, column, f"{table.at[label, column]!r} is not a number")
    for label in table.index[recorded & (values < 0)]:
        raise _bad(path, label, column, f"{table.at[label, column]!r} is negative")
    if integer:
        for label in table.index[recorded & (values != values.round())]:
            raise _bad(path, label, column, f"{table.at[label, column]!r} is not an integer")
    return values.astype(float)


def _flags(table: pd.DataFrame, path: Path, column: str) -> pd.Series:
    """A true/false column (any case); empty or nan: not recorded (False)."""
    text = table[column].str.strip().str.lower()
    for label in table.index[~text.isin(["true", "false", "", "nan"])]:
        raise _bad(path, label, column, f"{table.at[label, column]!r} is not true or false")
    return text == "true"


def _read_details(table: pd.DataFrame, path: Path) -> None:
    """The optional columns, checked by kind (:data:`COUNT_COLUMNS`, ...), converted in place."""
    for column in (c for c in COUNT_COLUMNS + NUMBER_COLUMNS if c in table.columns):
        table[column] = _optional_numbers(table, path, column, integer=column in COUNT_COLUMNS)
    for column in (c for c in FLAG_COLUMNS if c in table.columns):
        table[column] = _flags(table, path, column)
    for column in (c for c in TEXT_COLUMNS if c in table.columns):
        table[column] = table[column].str.strip().replace("nan", "")


def _check_unique(table: pd.DataFrame, path: Path) -> None:
    duplicated = table[table.duplicated(KEY_COLUMNS, keep=False)]
    if len(duplicated):
        key = duplicated.iloc[0][KEY_COLUMNS]
        lines = [_line(label) for label in duplicated.index[(duplicated[KEY_COLUMNS] == key).all(axis=1)]]
        named = ", ".join(f"{c}={key[c]}" for c in KEY_COLUMNS)
        raise InputError(f"{path}, lines {', '.join(map(str, lines))}: the same run ({named}) more than once")


def read_recall_table(path: StrPath) -> pd.DataFrame:
    """Read and check a recall table: :data:`REQUIRED_COLUMNS` at least (``benchmark`` may be left out
    when each language has one: it is then its ``benchmark_family``, or ``all``); every other known
    column is checked if present (see docs/analysis.md). Errors name the file, the line and the column."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"recall table {path} not found")
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (ValueError, pd.errors.ParserError) as error:
        raise InputError(f"{path}: not a tab-separated table ({str(error).splitlines()[0]})") from error
    if "benchmark" not in table.columns and len(table.columns):
        # A minimal table (one benchmark per language): the benchmark is named by its family, if given.
        table["benchmark"] = table["benchmark_family"] if "benchmark_family" in table.columns else "all"
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing required column(s) {', '.join(missing)} (required: {', '.join(REQUIRED_COLUMNS)})")
    files = [c for c in ("run_file", "qrels_file") if c in table.columns]
    if len(files) == 1:
        other = "qrels_file" if files == ["run_file"] else "run_file"
        raise InputError(f"{path}: column {files[0]} without column {other}: run files need their qrels")
    table = table[(table != "").any(axis=1)]  # blank lines
    if table.empty:
        raise InputError(f"{path}: the table has no rows")
    _check_texts(table, path, ["language", "benchmark", "method", *files])
    for column in ("size", "seed"):
        table[column] = _integers(table, path, column)
    for column in [*TABLE_METRICS, RANK_METRIC]:
        if column in table.columns:
            table[column] = _metric_values(table, path, column)
    _read_details(table, path)
    _check_unique(table, path)
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
    for metric in (m for m in TABLE_METRICS if m in row.index):
        mean = float(frame[metric].mean())
        if abs(mean - float(row[metric])) > MEAN_TOLERANCE:
            raise InputError(
                f"row {named}: {metric} = {row[metric]:.6g} in the table but {mean:.6g} from "
                f"run_file {row['run_file']!r}: the table and the run files disagree"
            )


def _evaluate(run_path: Path, qrels: Any) -> pd.DataFrame:
    """The per-query metrics of one run: those of :func:`swimscale.retrieval.evaluate` and the log2 rank."""
    run = read_run(run_path)
    frame = evaluate(run, qrels)
    return frame.merge(first_relevant_log2_rank(run, qrels), on="qid", how="left", validate="one_to_one")


def load_per_query(recall: pd.DataFrame, table_dir: StrPath | None = None) -> dict[Any, pd.DataFrame] | None:
    """Per-query metrics of every row's run, keyed by row label; None for a table without run files.

    Each run is checked against its row: the means must equal the table's values.
    """
    if "run_file" not in recall.columns:
        return None
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
                cache[key] = _evaluate(run_path, qrels_cache[key[1]])
            except (OSError, ValueError) as error:
                raise InputError(str(error).splitlines()[0]) from error
            if cache[key].empty:
                raise InputError(f"qrels_file {row['qrels_file']!r} judges no query relevant (row {named})")
        _check_means(cache[key], row, named)
        out[label] = cache[key]
    return out


def with_rank_metric(recall: pd.DataFrame, per_query: dict[Any, pd.DataFrame] | None) -> pd.DataFrame:
    """The table with the run files' mean log2 first-relevant rank as a column (unchanged without run files)."""
    if per_query is None:
        return recall
    out = recall.copy()
    out[RANK_METRIC] = [float(per_query[label][RANK_METRIC].mean()) for label in out.index]
    return out
