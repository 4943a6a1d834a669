"""Simulated multilingual studies with planted per-language slopes (mean, τ and a moderator known).

Recall@50 of language l, seed s, size N:

    y = a_l + b_l · log2(N / 256) + seed_l,s + e,   b_l = mean + beta · m_l + u_l,  u_l ~ N(0, τ²),
    a_l ~ N(0.45, 0.05²),  seed_l,s ~ N(0, seed_sd²) (a seed's offset, shared by its nested sizes),
    e ~ N(0, noise_sd²)

with the moderator m_l ~ N(0, 1) (column ``fertility``), a null moderator z_l ~ N(0, 1) (column
``unk_rate``) and the N = 0 level a_l − 8 b_l (log2(1/256) = −8) + N(0, 0.01²).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from swimscale.analysis._across_languages import language_tiers, random_slope_fit, unit_slopes
from swimscale.analysis._moderators import moderators_table

SIZES = (16, 64, 256, 1024, 4096)


def planted_study(
    rng: np.random.Generator,
    n_languages: int = 12,
    mean: float = 0.02,
    tau: float = 0.01,
    beta: float = 0.0,
    sizes=SIZES,
    n_seeds: int = 3,
    seed_sd: float = 0.01,
    noise_sd: float = 0.01,
    methods=("optical",),
    method_shift: float = 0.0,
    method_sd: float = 0.005,
) -> pd.DataFrame:
    """A recall table (columns of a minimal table plus tier, fertility and unk_rate); every method after
    the first is shifted by ``method_shift`` and has its own noise N(0, method_sd²) per run on top of the
    first's (paired: same seeds and noise otherwise)."""
    rows = []
    for lang in range(n_languages):
        m, z = rng.normal(), rng.normal()
        slope = mean + beta * m + rng.normal(0, tau)
        level = rng.normal(0.45, 0.05)
        offsets = rng.normal(0, seed_sd, n_seeds)
        zero = level - 8 * slope + rng.normal(0, 0.01)
        noise = rng.normal(0, noise_sd, (n_seeds, len(sizes)))
        for k, method in enumerate(methods):
            shift = method_shift + rng.normal(0, method_sd, noise.shape) if k else np.zeros(noise.shape)
            for s in range(n_seeds):
                base = {"language": f"l{lang:02d}", "benchmark": f"bench-l{lang:02d}", "method": method, "seed": s,
                        "tier": "low" if lang % 2 else "very-low", "fertility": m, "unk_rate": z}
                rows.append({**base, "size": 0, "recall_at_50": zero})
                for i, size in enumerate(sizes):
                    y = level + slope * np.log2(size / 256) + offsets[s] + noise[s, i] + shift[s, i]
                    rows.append({**base, "size": size, "recall_at_50": y})
    return pd.DataFrame(rows)


def slope_coverage(n_sims: int, seed: int, n_languages: int = 10, mean: float = 0.02, tau: float = 0.01) -> dict:
    """Over ``n_sims`` planted studies: the share whose mean-slope interval covers ``mean``, the mean and
    SE of τ̂ and of τ̂² (REML), and the share whose prediction interval covers a new language's slope."""
    rng = np.random.default_rng(seed)
    covered, taus, tau2s, predicted = [], [], [], []
    for _ in range(n_sims):
        data = planted_study(rng, n_languages=n_languages, mean=mean, tau=tau)
        fit = random_slope_fit(data[data["size"] > 0], "recall_at_50", 0.95)
        covered.append(fit["slope_low"] <= mean <= fit["slope_high"])
        taus.append(fit["tau"])
        tau2s.append(fit["tau"] ** 2)
        new = mean + rng.normal(0, tau)
        predicted.append(fit["pi_low"] <= new <= fit["pi_high"])
    return {"coverage": float(np.mean(covered)), "tau_mean": float(np.mean(taus)),
            "tau_se": float(np.std(taus, ddof=1) / np.sqrt(n_sims)), "tau2_mean": float(np.mean(tau2s)),
            "tau2_se": float(np.std(tau2s, ddof=1) / np.sqrt(n_sims)), "pi_coverage": float(np.mean(predicted))}


def moderator_rates(n_sims: int, seed: int, n_languages: int = 12, beta: float = 0.015, tau: float = 0.005) -> dict:
    """Over ``n_sims`` planted studies: the share in which the planted moderator (``fertility``, effect
    ``beta`` per SD) and the null moderator (``unk_rate``) have p < 0.05 in the meta-regression of the
    languages' slopes (:func:`swimscale.analysis._moderators.moderators_table`)."""
    rng = np.random.default_rng(seed)
    found, false = [], []
    for _ in range(n_sims):
        data = planted_study(rng, n_languages=n_languages, tau=tau, beta=beta)
        ground = data[data["size"] > 0].assign(tier="all")
        units = unit_slopes(ground, data, "recall_at_50").assign(method="optical")
        table = moderators_table(data, units, language_tiers(data, {}), 0.95)
        slope = table[table["outcome"] == "slope"].set_index("moderator")["p_value"]
        found.append(slope["tokenizer_fertility"] < 0.05)
        false.append(slope["unk_rate"] < 0.05)
    return {"power": float(np.mean(found)), "false_positive_rate": float(np.mean(false))}
