"""The moderators' values joined to the recall table for the analysis (not written into recall.tsv).

Two sources, each optional:

* the languages file (``config/languages.tsv``, the tiers file): ``joshi_class`` and
  ``mbert_pretraining`` per language (``code``); ``unknown`` or blank stays missing;
* the workflow's ``tables/moderator_values.tsv`` (rule ``moderator_values``, :mod:`swimscale.moderators`):
  the teacher tokenizer's ``fertility`` (as ``tokenizer_fertility``) and ``unk_rate`` per (language,
  benchmark).

A column the table already has is kept as it is (a user's own values win). What the analysis does
with them: :mod:`swimscale.analysis._moderators`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from swimscale._types import StrPath

LANGUAGE_COLUMNS = ("joshi_class", "mbert_pretraining")
# Column in moderator_values.tsv -> column of the analysed table.
VALUE_COLUMNS = {"fertility": "tokenizer_fertility", "unk_rate": "unk_rate"}
MISSING = {"", "unknown", "nan", "NA"}


def _read(path: StrPath | None) -> pd.DataFrame | None:
    if path is None or not Path(path).is_file():
        return None
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")


def _values(column: pd.Series) -> pd.Series:
    """Missing words to NaN; numbers as numbers where every present value is one."""
    cleaned = column.str.strip().where(~column.str.strip().isin(MISSING))
    numeric = pd.to_numeric(cleaned, errors="coerce")
    return numeric if numeric.notna().sum() == cleaned.notna().sum() else cleaned


def with_moderator_values(
    table: pd.DataFrame, languages_path: StrPath | None = None, values_path: StrPath | None = None
) -> pd.DataFrame:
    """``table`` with the moderators' columns it lacks, from the two files (see the module)."""
    out = table.copy()
    languages = _read(languages_path)
    if languages is not None and "code" in languages.columns:
        by_code = languages.set_index(languages["code"].str.strip())
        for column in (c for c in LANGUAGE_COLUMNS if c in by_code.columns and c not in out.columns):
            out[column] = out["language"].astype(str).map(_values(by_code[column]))
    values = _read(values_path)
    if values is not None and {"language", "benchmark"} <= set(values.columns):
        keys = list(zip(values["language"], values["benchmark"]))
        rows = list(zip(out["language"].astype(str), out["benchmark"].astype(str)))
        for source, column in VALUE_COLUMNS.items():
            if source in values.columns and column not in out.columns:
                lookup = dict(zip(keys, _values(values[source])))
                out[column] = [lookup.get(row) for row in rows]
                out[column] = pd.to_numeric(out[column], errors="coerce")
    return out
