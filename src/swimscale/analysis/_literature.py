"""Published points beside our curve: ``config/literature.tsv`` read, checked, and set on a common footing.

One row per published number (columns :data:`LITERATURE_COLUMNS`): source, URL, setting, language,
the number of training pairs ``n`` (empty: not a point on an N axis, e.g. a fitted exponent), metric,
value (as published, percent for Recall and MRR), model, note. A *series* is the rows of one source,
setting and language; where a series has an N = 0 row, each of its points also gets its gain over that
row (``gain_over_n0``) -- the scale on which curves of different metrics and models can share a plot.
The comparison with this run is in the summary and the literature plot; why the two are not directly
comparable is said there (metric, model, N summed over languages, compute).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from swimscale._types import StrPath
from swimscale.errors import InputError

LITERATURE_COLUMNS = ["source", "url", "setting", "language", "n", "metric", "value", "model", "note"]
SERIES = ["source", "setting", "language"]
LITERATURE_TABLE_COLUMNS = [*LITERATURE_COLUMNS, "gain_over_n0"]


def _problem(path: Path, label: int, column: str, what: str) -> InputError:
    return InputError(f"{path}, row {label + 1} of the table, column {column}: {what}")


def read_literature(path: StrPath) -> pd.DataFrame:
    """Read and check a literature table (lines starting with # are comments)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"literature table {path} not found")
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    missing = [c for c in LITERATURE_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (needs {', '.join(LITERATURE_COLUMNS)})")
    for column in ("source", "url", "setting", "metric", "value"):
        for label in table.index[table[column].str.strip() == ""]:
            raise _problem(path, label, column, "empty")
    for label in table.index[~table["url"].str.match(r"https?://")]:
        raise _problem(path, label, "url", f"{table.at[label, 'url']!r} is not a web address")
    value = pd.to_numeric(table["value"], errors="coerce")
    for label in table.index[value.isna()]:
        raise _problem(path, label, "value", f"{table.at[label, 'value']!r} is not a number")
    n = pd.to_numeric(table["n"].replace("", np.nan), errors="coerce")
    for label in table.index[(n.isna() & (table["n"] != "")) | (n < 0)]:
        raise _problem(path, label, "n", f"{table.at[label, 'n']!r} is not a number of training pairs ≥ 0")
    return table.assign(value=value.astype(float), n=n.astype(float))[LITERATURE_COLUMNS]


def literature_table(literature: pd.DataFrame) -> pd.DataFrame:
    """The points with ``gain_over_n0``: value minus the N = 0 value of the same series (NaN without one)."""
    out = literature.copy()
    out["gain_over_n0"] = math.nan
    for _, rows in out.groupby(SERIES, sort=False):
        zero = rows[rows["n"] == 0]
        if len(zero) == 1:
            out.loc[rows.index, "gain_over_n0"] = rows["value"] - float(zero["value"].iloc[0])
    return out[LITERATURE_TABLE_COLUMNS]


def series_of(table: pd.DataFrame, with_zero: bool) -> list[tuple[tuple[str, str, str], pd.DataFrame]]:
    """The series with an N axis that have (``with_zero``) or lack an N = 0 row, points sorted by N."""
    out = []
    for key, rows in table[table["n"].notna()].groupby(SERIES, sort=False):
        if bool((rows["n"] == 0).any()) == with_zero:
            out.append((key, rows.sort_values("n")))
    return out
