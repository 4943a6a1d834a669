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
