"""The query × seed bootstrap of a group, vectorised: every replicate of every statistic at once.

The data of one language × benchmark × method are *cells* (one per size × seed run), each with a
per-query metric vector over the same Q judged queries. One bootstrap replicate

* draws Q query indices with replacement -- the SAME draw for every cell, so the sizes of a language
  are compared on one resampled query set (:func:`query_counts` turns the draw into a count matrix,
  and the resampled cell means are one matrix product, :func:`resampled_means`);
* draws S seed indices with replacement among the S seeds. Samples are nested per seed (the 128-sample
  of seed s contains its 32-sample), so a seed is a cluster: a drawn seed brings ALL its sizes along
  (:func:`expand_cells`). A seed drawn twice contributes its runs twice.

A replicate gives the mean of each size over the drawn seeds (the CIs of the means and of the paired
gains over N = 0: percentile intervals) and, for the trend statistics, each statistic within each
ORIGINAL seed under the query draw alone (:func:`swimscale.analysis._inference.query_variances`
takes the query part the seeds share from them). Without per-query values (a table without run
files) the "queries" are the table values themselves, one per run, and only seeds are resampled.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from swimscale.analysis._groups import Group
from swimscale.analysis._statistics import STATISTICS
from swimscale.formats import MAX_UNDEFINED_SHARE  # a statistic undefined in more of the replicates gets no CI

# Replicate means are rounded so that equal metric values tie exactly whatever the summation order
# (a recall of 36/500 computed two ways may differ in the last bit, and ranks must not see that).
ROUND_DECIMALS = 12
# Work per bootstrap chunk (floats), which bounds memory whatever the number of queries.
_CHUNK_FLOATS = 4_000_000


# --------------------------------------------------------------------------- resampling kernels


def draw(
    rng: np.random.Generator, n_boot: int, n_queries: int, n_seeds: int, chunk: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (query indices (b, n_queries), seed indices (b, n_seeds)) in chunks of at most ``chunk``."""
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        yield rng.integers(0, n_queries, size=(b, n_queries)), rng.integers(0, n_seeds, size=(b, n_seeds))


def query_counts(indices: np.ndarray, n: int) -> np.ndarray:
    """(b, k) resample indices in [0, n) -> (b, n) float matrix: how often each item was drawn."""
    b = indices.shape[0]
    flat = (indices + n * np.arange(b)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.float64)


def resampled_means(per_query: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cell means under each query resample: (cells, Q) and (b, Q) counts -> (b, cells)."""
    n = per_query.shape[1]
    return np.round(counts @ per_query.T / n, ROUND_DECIMALS)


def expand_cells(cell_at: np.ndarray, seed_indices: np.ndarray) -> np.ndarray:
    """Cells of each replicate: ``cell_at`` (sizes, seeds) holds a cell index or -1 (missing).

    Returns (b, sizes × drawn seeds) cell indices, size-major: column ``i * S + k`` is size ``i`` of
    the ``k``-th drawn seed.
    """
    b, s = seed_indices.shape
    return cell_at[:, seed_indices].transpose(1, 0, 2).reshape(b, cell_at.shape[0] * s)


def gather(values: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """values (b, cells) or (cells,), cells (b, L) indices or -1 -> (b, L), NaN where -1."""
    safe = np.maximum(cells, 0)
    if values.ndim == 1:
        out = values[safe].astype(np.float64)
    else:
        out = np.take_along_axis(values, safe, axis=1)
    return np.where(cells < 0, np.nan, out)


def percentile_ci(replicates: np.ndarray, level: float) -> tuple[float, float, int]:
    """Percentile interval of the finite replicates (linear interpolation), and how many there were."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return float("nan"), float("nan"), 0
    alpha = (1 - level) / 2
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    return float(lo), float(hi), int(finite.size)


def ci(replicates: np.ndarray, label: str, level: float) -> tuple[float, float, str]:
    """Percentile CI, or NaN with a reason when too many replicates are undefined."""
    lo, hi, n_ok = percentile_ci(replicates, level)
    n = len(replicates)
    if n_ok == n:
        return lo, hi, ""
    share = 1 - n_ok / n
    if share > MAX_UNDEFINED_SHARE:
        return math.nan, math.nan, f"{label} undefined in {n - n_ok} of {n} resamples (constant resampled data): no CI"
    return lo, hi, f"{label} undefined in {n - n_ok} of {n} resamples, which the CI leaves out"


# --------------------------------------------------------------------------- replicates of a group


@dataclass
class Replicates:
    """Bootstrap replicates of one group (all from the same query and seed draws)."""

    n_boot: int
    size_mean: dict[str, np.ndarray] = field(default_factory=dict)  # metric -> (n_boot, sizes)
    # Each statistic within each seed under the query draw alone (seeds fixed): statistic -> metric ->
    # (n_boot, seeds). The between-seed covariance of these is the query part all seeds share.
    per_seed: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    # The first n_keep replicates in full, for refitting the learning curve.
    cell_means: dict[str, np.ndarray] = field(default_factory=dict)  # (n_keep, cells)
    seed_draws: np.ndarray | None = None  # (n_keep, seeds)

    def has(self, metric: str) -> bool:
        return metric in self.size_mean


def group_rng(seed: int, language: str, benchmark: str) -> np.random.Generator:
    """One stream per language × benchmark: every method of a language sees the same resamples,
    whatever else the table holds."""
    return np.random.default_rng([seed, zlib.crc32(f"{language}\0{benchmark}".encode())])


def _per_seed_statistics(group: Group, means: np.ndarray) -> dict[str, np.ndarray]:
    """Each statistic within each original seed, for (b, cells) resampled cell means -> (b, seeds)."""
    cells = group.seed_cells.ravel()  # seed-major: seed k's sizes are columns k*L .. k*L + L - 1
    b = means.shape[0]
    n_seeds, n_sizes = group.seed_cells.shape
    y = np.where(cells < 0, np.nan, means[:, np.maximum(cells, 0)]).reshape(b * n_seeds, n_sizes)
    x10 = np.where(np.isnan(y), np.nan, np.log10(group.trained_sizes.astype(np.float64)))
    return {s.name: s.kernel(x10 * s.x_scale, y).reshape(b, n_seeds) for s in STATISTICS}


def replicate_statistics(
    group: Group, metrics: Iterable[str], query_idx: np.ndarray, seed_idx: np.ndarray
) -> dict[str, dict[str, Any]]:
    """Statistics of the replicates given by explicit resample indices (the vectorised core).

    Returns {metric: {"size_mean": (b, sizes) means over the drawn seeds under the query draw,
    "cell_means": (b, cells), "per_seed": {statistic: (b, seeds)} under the query draw alone}}.
    """
    counts = query_counts(query_idx, query_idx.shape[1])
    cells = expand_cells(group.cell_at, seed_idx)  # (b, sizes * drawn seeds)
    b, n_seeds = seed_idx.shape
    out = {}
    for metric in metrics:
        means = resampled_means(group.per_query[metric], counts)
        y = gather(means, cells)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a size absent from every drawn seed
            size_mean = np.nanmean(y.reshape(b, len(group.sizes), n_seeds), axis=2)
        per_seed = _per_seed_statistics(group, means) if group.trained_sizes.size else {}
        out[metric] = {"size_mean": size_mean, "cell_means": means, "per_seed": per_seed}
    return out


def bootstrap_group(
    group: Group, metrics: Sequence[str], n_boot: int, seed: int, n_keep: int = 0
) -> Replicates | None:
    """``n_boot`` replicates of ``group`` (None if ``n_boot`` is 0); queries are resampled only when
    the group has per-query values (:attr:`Group.queries`), seeds always."""
    if n_boot <= 0:
        return None
    metrics = [m for m in metrics if m in group.per_query]
    n_queries = next(iter(group.per_query.values())).shape[1] if group.per_query else 1
    width = group.cell_at.size
    chunk = max(1, min(1000, _CHUNK_FLOATS // max(1, n_queries + width * width + len(group.rows))))
    parts: list[dict[str, dict[str, Any]]] = []
    seed_parts = []
    kept = 0
    rng = group_rng(seed, group.language, group.benchmark)
    for query_idx, seed_idx in draw(rng, n_boot, n_queries, len(group.seeds), chunk):
        part = replicate_statistics(group, metrics, query_idx, seed_idx)
        take = max(0, min(n_keep - kept, len(seed_idx)))
        for stats_of in part.values():
            stats_of["cell_means"] = stats_of["cell_means"][:take]
        seed_parts.append(seed_idx[:take])
        kept += take
        parts.append(part)
    reps = Replicates(n_boot=n_boot, seed_draws=np.concatenate(seed_parts))
    for metric in metrics:
        reps.size_mean[metric] = np.concatenate([p[metric]["size_mean"] for p in parts])
        reps.cell_means[metric] = np.concatenate([p[metric]["cell_means"] for p in parts])
        for name in parts[0][metric]["per_seed"]:
            reps.per_seed.setdefault(name, {})[metric] = np.concatenate([p[metric]["per_seed"][name] for p in parts])
    return reps
