"""Vectorised bootstrap over queries and seeds, and statistics computed across replicates at once.

The data of one language × benchmark × method are *cells* (one per size × seed run), each with a
per-query metric vector over the same Q judged queries. One bootstrap replicate

* draws Q query indices with replacement -- the SAME draw for every cell, so the sizes of a language
  are compared on one resampled query set (:func:`query_counts` turns the draw into a count matrix,
  and the resampled cell means are one matrix product, :func:`resampled_means`);
* draws S seed indices with replacement among the S seeds. Samples are nested per seed (the 128-sample
  of seed s contains its 32-sample), so a seed is a cluster: a drawn seed brings ALL its sizes along
  (:func:`expand_cells`). A seed drawn twice contributes its runs twice.

The statistic of a replicate is the ordinary statistic of the data set so obtained -- the rows of
:func:`expand_cells`, ``NaN`` marking a (size, seed) cell missing from the table. The functions
``pearson``, ``spearman``, ``kendall`` and ``slope`` take (replicates × points) arrays and return one
value per replicate; each equals its scipy counterpart on the non-NaN points of the row (the tests check
this against a slow loop over :mod:`scipy.stats`). An undefined statistic (a constant x or y) is NaN.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import stats

# Replicate means are rounded so that equal metric values tie exactly whatever the summation order
# (a recall of 36/500 computed two ways may differ in the last bit, and ranks must not see that).
ROUND_DECIMALS = 12


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


def _constant(a: np.ndarray) -> np.ndarray:
    """Per row: fewer than two distinct non-NaN values."""
    with np.errstate(invalid="ignore"):
        hi = np.where(np.isnan(a), -np.inf, a).max(axis=1, initial=-np.inf)
        lo = np.where(np.isnan(a), np.inf, a).min(axis=1, initial=np.inf)
    return ~(hi > lo)


def _centred(a: np.ndarray, valid: np.ndarray) -> np.ndarray:
    n = valid.sum(axis=1)
    mean = np.where(valid, a, 0.0).sum(axis=1) / np.maximum(n, 1)
    return np.where(valid, a - mean[:, None], 0.0)


def pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise Pearson r of (b, L) arrays, ignoring NaN points; NaN where x or y is constant."""
    valid = ~(np.isnan(x) | np.isnan(y))
    dx, dy = _centred(x, valid), _centred(y, valid)
    sxx, syy, sxy = (dx * dx).sum(axis=1), (dy * dy).sum(axis=1), (dx * dy).sum(axis=1)
    undefined = _constant(np.where(valid, x, np.nan)) | _constant(np.where(valid, y, np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = sxy / np.sqrt(sxx * syy)
    return np.where(undefined, np.nan, np.clip(r, -1.0, 1.0))


def spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise Spearman rho: Pearson r of the mid-ranks (as :func:`scipy.stats.spearmanr`)."""
    valid = ~(np.isnan(x) | np.isnan(y))
    rx = stats.rankdata(np.where(valid, x, np.nan), axis=1, nan_policy="omit")
    ry = stats.rankdata(np.where(valid, y, np.nan), axis=1, nan_policy="omit")
    return pearson(rx, ry)


def kendall(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise Kendall tau-b (as :func:`scipy.stats.kendalltau`), from all pairs of points."""
    valid = ~(np.isnan(x) | np.isnan(y))
    n = valid.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore"):
        sx = np.sign(x[:, :, None] - x[:, None, :])  # NaN for pairs with a missing point
        sy = np.sign(y[:, :, None] - y[:, None, :])
    both = valid[:, :, None] & valid[:, None, :]
    s = np.where(both, sx * sy, 0.0).sum(axis=(1, 2)) / 2  # each unordered pair counted twice
    pairs = n * (n - 1) / 2
    # Pairs tied in x (the diagonal, n self-pairs, removed), and likewise in y.
    tied_x = ((sx == 0) & both).sum(axis=(1, 2)) - n
    tied_y = ((sy == 0) & both).sum(axis=(1, 2)) - n
    denominator = (pairs - tied_x / 2) * (pairs - tied_y / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = s / np.sqrt(denominator)
    return np.where(denominator > 0, np.clip(tau, -1.0, 1.0), np.nan)


def slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise least-squares slope of y on x (as :func:`scipy.stats.linregress`); NaN if x is constant."""
    valid = ~(np.isnan(x) | np.isnan(y))
    dx, dy = _centred(x, valid), _centred(y, valid)
    undefined = _constant(np.where(valid, x, np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        b = (dx * dy).sum(axis=1) / (dx * dx).sum(axis=1)
    return np.where(undefined, np.nan, b)


def percentile_ci(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float, int]:
    """Percentile interval of the finite replicates (linear interpolation), and how many there were."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return float("nan"), float("nan"), 0
    alpha = (1 - level) / 2
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    return float(lo), float(hi), int(finite.size)
