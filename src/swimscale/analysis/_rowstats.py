"""Row-wise statistics of (replicates × points) arrays: one value per row, NaN points left out.

``pearson``, ``spearman``, ``kendall`` and ``slope`` each equal their :mod:`scipy.stats` counterpart on
the non-NaN points of a row (the tests check this on random rows with ties and gaps); an undefined
statistic (a constant x or y) is NaN. They are the bootstrap kernels of the statistics table
(:data:`swimscale.analysis._statistics.STATISTICS`): a whole set of replicates in a few array operations.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


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
