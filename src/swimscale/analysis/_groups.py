"""The unit of the analysis: a :class:`Group`, the runs of one language × benchmark × method.

A group's runs are *cells*, one per (size, seed) row of the recall table. Each cell has a vector of
per-query values per metric over the same judged queries when the table names run files; without
them a cell's "vector" is its one table value, and the bootstrap can resample seeds only
(:attr:`Group.queries` is False).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from swimscale.analysis._schema import GROUP_COLUMNS, METRICS

QUERIES_AND_SEEDS = "queries × seeds"
SEEDS_ONLY = "seeds only"


@dataclass
class Group:
    """The runs of one language × benchmark × method, as cells (one per table row)."""

    language: str
    benchmark: str
    method: str
    rows: pd.DataFrame  # the group's table rows, sorted by size then seed; row i is cell i
    sizes: np.ndarray  # distinct sizes, ascending (0 included when present)
    seeds: np.ndarray  # distinct seeds, ascending
    cell_at: np.ndarray  # (sizes, seeds): the cell of that size and seed, -1 if missing
    per_query: dict[str, np.ndarray]  # metric -> (cells, queries); (cells, 1) table values without run files
    queries: bool = True  # per_query holds real per-query values (run files), so queries can be resampled

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.language, self.benchmark, self.method)

    @property
    def resampled(self) -> str:
        return QUERIES_AND_SEEDS if self.queries else SEEDS_ONLY

    @property
    def n_queries(self) -> int:
        if self.queries:
            return next(iter(self.per_query.values())).shape[1]
        if "n_queries" not in self.rows.columns:
            return 0
        counts = pd.to_numeric(self.rows["n_queries"], errors="coerce")
        return int(counts.max()) if counts.notna().any() else 0

    @property
    def trained_sizes(self) -> np.ndarray:
        return self.sizes[self.sizes > 0]

    @property
    def trained_seeds(self) -> int:
        """The number of distinct seeds among the runs with N > 0."""
        return int(self.rows.loc[self.rows["size"] > 0, "seed"].nunique())

    @property
    def zero_index(self) -> int:
        """The position of N = 0 in :attr:`sizes` (meaningful only when N = 0 is present)."""
        return int(np.searchsorted(self.sizes, 0))

    @property
    def seed_cells(self) -> np.ndarray:
        """(seeds, trained sizes): each seed's cell at each size N > 0, -1 where missing."""
        return self.cell_at[self.sizes > 0].T

    def seed_points(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """(log10 N, metric), each (seeds, trained sizes), NaN where a run is missing or has no value."""
        cells = self.seed_cells
        values = self.rows[metric].to_numpy(dtype=float)
        y = np.where(cells < 0, np.nan, values[np.maximum(cells, 0)])
        x = np.broadcast_to(np.log10(self.trained_sizes.astype(float)), cells.shape)
        return np.where(np.isnan(y), np.nan, x), y


def _cell_layout(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sizes = np.array(sorted(rows["size"].unique()), dtype=np.int64)
    seeds = np.array(sorted(rows["seed"].unique()), dtype=np.int64)
    cell_at = np.full((len(sizes), len(seeds)), -1, dtype=np.int64)
    size_pos = {s: i for i, s in enumerate(sizes)}
    seed_pos = {s: i for i, s in enumerate(seeds)}
    for cell, (size, seed) in enumerate(zip(rows["size"], rows["seed"])):
        cell_at[size_pos[size], seed_pos[seed]] = cell
    return sizes, seeds, cell_at


def _per_query_matrices(
    rows: pd.DataFrame, per_query: Mapping[Any, pd.DataFrame], where: str
) -> dict[str, np.ndarray]:
    frames = [per_query[label] for label in rows.index]
    qids = frames[0]["qid"].tolist()
    for label, frame in zip(rows.index, frames):
        if frame["qid"].tolist() != qids:
            raise ValueError(
                f"runs of {where} are judged on different query sets (run_file {rows.loc[label, 'run_file']!r})"
            )
    return {
        metric: np.stack([f[metric].to_numpy(dtype=np.float64) for f in frames])
        for metric in METRICS
        if all(metric in f.columns for f in frames)
    }


def _table_values(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Without run files: each cell's table value, as a one-"query" vector."""
    return {m: rows[m].to_numpy(dtype=np.float64)[:, None] for m in METRICS if m in rows.columns}


def groups_of(recall: pd.DataFrame, per_query: Mapping[Any, pd.DataFrame] | None = None) -> list[Group]:
    """Split the recall table into :class:`Group`s.

    ``per_query`` maps a row's index label in ``recall`` to that run's per-query values (the frame of
    :func:`swimscale.analysis._table.load_per_query`: a ``qid`` column and one column per metric). All
    runs of a group must be judged on the same queries. Without it, the groups carry the table values
    (seeds can be resampled, queries cannot).
    """
    groups = []
    for (language, benchmark, method), rows in recall.groupby(GROUP_COLUMNS, sort=True):
        rows = rows.sort_values(["size", "seed"])
        sizes, seeds, cell_at = _cell_layout(rows)
        if per_query is None:
            matrices, queries = _table_values(rows), False
        else:
            matrices, queries = _per_query_matrices(rows, per_query, f"{language}/{benchmark}/{method}"), True
        groups.append(
            Group(str(language), str(benchmark), str(method), rows.reset_index(drop=True), sizes, seeds, cell_at,
                  matrices, queries)
        )
    return groups
