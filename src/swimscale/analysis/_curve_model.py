"""The learning-curve model, its fit, and its comparison with a flat line and a line in log N.

The saturating curve R(N) = R∞ − (R∞ − R0)(1 + N/N0)^(−α) with R0 fixed to the measured zero-shot
mean (N = 0 is one deterministic model scored on every query, known far better than any trained
point). R∞ (the plateau), N0 (the scale where the rise happens) and α (its steepness) are fitted by
:func:`scipy.optimize.curve_fit` (bounded trust-region least squares, analytic Jacobian, several
starts) on every (size, seed) run with N > 0. Closed forms:

* N90 = N0 (10^(1/α) − 1): the N at which 90 % of the gain R∞ − R0 is reached;
* N(target) = N0 (((R∞ − R0) / (R∞ − target))^(1/α) − 1): the N at which R(N) reaches ``target``
  (0 if R0 already does, ∞ if R∞ does not).

A saturating fit with a tiny N0 and a huge α is a step at N = 0: a flat line through the trained runs
describes the same data with two parameters fewer. :func:`compare_models` therefore compares three
least-squares models of the trained runs by AICc (Hurvich & Tsai 1989; Gaussian errors, σ² counted
as a parameter): flat (1 parameter), a line in log2 N (2), the saturating curve (3). A model is
preferred when its AICc is lowest by at least :data:`AICC_MARGIN` (Burnham & Anderson: a difference
under 2 is no real support for either); otherwise the comparison is undecided.

**Seeds.** The runs of one seed are nested samples (its 32 samples are inside its 128), so they are
not independent observations: a deviation of one seed's sample shows at every larger size of that
seed and looks like curvature to a least-squares fit over all runs. :func:`seed_confirmed` therefore
chooses the model **per seed and aggregates**: each seed's runs are compared on their own (the same
three models and margin), and the choice over all runs stands only if more than half of the seeds that can judge it make the same choice; otherwise the comparison is undecided. A
seed is a replicate of the whole curve: a shape that only all runs together show is not borne out. A
seed judges a model only with ≥ 2 residual degrees of freedom on its own runs (n − K − 1, K counting
σ²; with one, AICc's correction outweighs any fit): with 5 sizes per seed it judges the flat line
only, with 6 also the line in log N, with 7 or more every model. A choice no seed can judge stands
on the all-runs comparison alone, as before.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

_LN10 = math.log(10.0)
# The three models of the trained runs, by number of mean parameters.
FLAT, LOG_LINEAR, SATURATING = "flat", "log-linear", "saturating"
MODEL_PARAMETERS = {FLAT: 1, LOG_LINEAR: 2, SATURATING: 3}
MODEL_WORDS = {FLAT: "a flat line", LOG_LINEAR: "a line in log N", SATURATING: "the saturating curve"}
AICC_MARGIN = 2.0
UNDECIDED = "undecided"
# A seed judges a model on its own runs only with this many residual degrees of freedom (n − K − 1,
# K counting σ²): with one, AICc's correction 2K(K + 1)/(n − K − 1) outweighs any fit.
SEED_RESIDUAL_DF = 2


def curve(n: Any, r0: float, r_inf: float, n0: float, alpha: float) -> Any:
    """R(N) = R∞ − (R∞ − R0)(1 + N/N0)^(−α)."""
    return r_inf - (r_inf - r0) * (1.0 + np.asarray(n, dtype=float) / n0) ** (-alpha)


def n_at_fraction(n0: Any, alpha: Any, fraction: float = 0.9) -> Any:
    """The N at which ``fraction`` of the gain R∞ − R0 is reached: N0 ((1 − fraction)^(−1/α) − 1)."""
    return n0 * ((1.0 - fraction) ** (-1.0 / np.asarray(alpha, dtype=float)) - 1.0)


def n_for_target(r0: Any, r_inf: Any, n0: Any, alpha: Any, target: float) -> Any:
    """The N at which R(N) = ``target``: 0 if R0 ≥ target, ∞ if R∞ ≤ target (a rising curve)."""
    r0, r_inf, n0, alpha = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (r0, r_inf, n0, alpha)))
    out = np.full(r0.shape, np.inf)
    out[r0 >= target] = 0.0
    inside = (r0 < target) & (r_inf > target)
    ratio = (r_inf[inside] - r0[inside]) / (r_inf[inside] - target)
    out[inside] = n0[inside] * (ratio ** (1.0 / alpha[inside]) - 1.0)
    return out if out.ndim else float(out)


@dataclass
class Fit:
    r_inf: float
    n0: float
    alpha: float
    sse: float

    @property
    def params(self) -> np.ndarray:
        return np.array([self.r_inf, math.log10(self.n0), math.log10(self.alpha)])


def fit_bounds(sizes: np.ndarray) -> tuple[list[float], list[float]]:
    """Bounds of (R∞, log10 N0, log10 α): R∞ in [0, 1], N0 within 3 decades of the sweep, α in [0.01, 31.6]."""
    lo, hi = float(np.min(sizes)), float(np.max(sizes))
    return [0.0, math.log10(lo) - 3, -2.0], [1.0, math.log10(hi) + 3, 1.5]


def default_starts(sizes: np.ndarray, y: np.ndarray, r0: float) -> list[list[float]]:
    top = float(np.max(y))
    lo, hi = math.log10(float(np.min(sizes))), math.log10(float(np.max(sizes)))
    return [
        [r_inf, log_n0, log_alpha]
        for r_inf in (top, min(1.0, top + 0.5 * abs(top - r0)))
        for log_n0 in np.linspace(lo - 1, hi + 1, 3)
        for log_alpha in (-0.3, 0.3)
    ]


def fit(
    sizes: np.ndarray,
    y: np.ndarray,
    r0: float,
    weights: np.ndarray | None = None,
    starts: Sequence[Sequence[float]] | None = None,
    bounds: tuple[list[float], list[float]] | None = None,
) -> Fit | None:
    """Weighted least-squares fit of (R∞, N0, α) with R0 fixed; the best of ``starts``, None if all fail.

    ``weights`` are frequencies (a seed drawn twice in a bootstrap replicate weighs 2); points of
    weight 0 are left out.
    """
    sizes = np.asarray(sizes, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    keep = (w > 0) & np.isfinite(y)
    sizes, y, w = sizes[keep], y[keep], w[keep]
    if len(y) < 3 or np.unique(sizes).size < 2:
        return None
    lower, upper = bounds if bounds is not None else fit_bounds(sizes)
    starts = starts if starts is not None else default_starts(sizes, y, r0)

    def model(n: np.ndarray, r_inf: float, log_n0: float, log_alpha: float) -> np.ndarray:
        return curve(n, r0, r_inf, 10.0**log_n0, 10.0**log_alpha)

    def jacobian(n: np.ndarray, r_inf: float, log_n0: float, log_alpha: float) -> np.ndarray:
        # d/d(R∞, log10 N0, log10 α) of R∞ − (R∞ − R0) g, g = (1 + N/N0)^(−α)
        n0, alpha = 10.0**log_n0, 10.0**log_alpha
        g = (1.0 + n / n0) ** (-alpha)
        gain = r_inf - r0
        return np.column_stack(
            [1.0 - g, -gain * alpha * g * n / (n0 + n) * _LN10, gain * g * np.log1p(n / n0) * alpha * _LN10]
        )

    best: Fit | None = None
    inner_lo = np.array(lower) + 1e-9
    inner_hi = np.array(upper) - 1e-9
    for start in starts:
        p0 = np.clip(np.asarray(start, dtype=float), inner_lo, inner_hi)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                popt, _ = curve_fit(
                    model, sizes, y, p0=p0, sigma=1.0 / np.sqrt(w), bounds=(lower, upper), jac=jacobian, max_nfev=2000
                )
        except (RuntimeError, ValueError):
            continue
        sse = float(np.sum(w * (model(sizes, *popt) - y) ** 2))
        if np.all(np.isfinite(popt)) and math.isfinite(sse) and (best is None or sse < best.sse):
            best = Fit(float(popt[0]), float(10.0 ** popt[1]), float(10.0 ** popt[2]), sse)
    return best


def aicc(sse: float, n: int, parameters: int) -> float:
    """AICc of a least-squares fit with Gaussian errors: n ln(SSE/n) + 2K + 2K(K + 1)/(n − K − 1),
    K = ``parameters`` + 1 (σ²); NaN when n ≤ K + 1."""
    k = parameters + 1
    if n - k - 1 <= 0 or not math.isfinite(sse):
        return math.nan
    return n * math.log(max(sse / n, 1e-300)) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def model_sse(sizes: np.ndarray, y: np.ndarray, saturating: Fit | None) -> dict[str, float]:
    """Residual sums of squares of the three models on the trained runs (NaN: no saturating fit)."""
    x = np.log2(np.asarray(sizes, dtype=float))
    y = np.asarray(y, dtype=float)
    line = np.polynomial.polynomial.polyfit(x, y, 1)
    return {
        FLAT: float(np.sum((y - y.mean()) ** 2)),
        LOG_LINEAR: float(np.sum((y - np.polynomial.polynomial.polyval(x, line)) ** 2)),
        SATURATING: saturating.sse if saturating is not None else math.nan,
    }


def compare_models(sse: Mapping[str, float], n: int) -> tuple[dict[str, float], str, float]:
    """AICc per model, the preferred model (or :data:`UNDECIDED`), and the AICc margin of the best."""
    scores = {name: aicc(sse[name], n, k) for name, k in MODEL_PARAMETERS.items()}
    ranked = sorted((v, name) for name, v in scores.items() if math.isfinite(v))
    if not ranked:
        return scores, UNDECIDED, math.nan
    if len(ranked) == 1:
        return scores, ranked[0][1], math.nan
    margin = ranked[1][0] - ranked[0][0]
    return scores, ranked[0][1] if margin >= AICC_MARGIN else UNDECIDED, margin



def seed_choices(sizes: np.ndarray, y: np.ndarray, seeds: np.ndarray, r0: float) -> list[tuple[str, set[str]]]:
    """Per seed, from its own runs (sizes > 0): its preferred model (or :data:`UNDECIDED`) and the models
    it can judge (AICc defined with ≥ :data:`SEED_RESIDUAL_DF` residual degrees of freedom)."""
    sizes, y, seeds = (np.asarray(v) for v in (sizes, y, seeds))
    choices = []
    for seed in np.unique(seeds):
        own = seeds == seed
        n, values = sizes[own].astype(float), y[own].astype(float)
        saturating = fit(n, values, r0) if len(values) > MODEL_PARAMETERS[SATURATING] + 2 else None
        scores, preferred, _ = compare_models(model_sse(n, values, saturating), len(values))
        judged = {name for name, value in scores.items()
                  if math.isfinite(value) and len(values) - MODEL_PARAMETERS[name] - 2 >= SEED_RESIDUAL_DF}
        choices.append((preferred, judged))
    return choices


def seed_confirmed(overall: str, choices: Sequence[tuple[str, set[str]]]) -> tuple[str, str]:
    """The choice over all runs if more than half of the seeds that can judge it make it on their own runs,
    else :data:`UNDECIDED` with the reason ("" when it stands, was undecided, or no seed can judge it)."""
    judges = [choice for choice, defined in choices if overall in defined]
    if overall == UNDECIDED or not judges:
        return overall, ""
    support = sum(choice == overall for choice in judges)
    if 2 * support > len(judges):
        return overall, ""
    return UNDECIDED, (
        f"{MODEL_WORDS[overall]} fits all runs best, but only {support} of {len(judges)} seed(s) prefer it on "
        "their own runs"
    )
