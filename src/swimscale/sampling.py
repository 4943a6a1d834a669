"""Nested, seeded subsamples of a training pool.

Each record is ranked by SHA-256 of "<seed>:<_id>" and the sample of size N is the N lowest ranks.
So, for one seed, the sample of size 250 is contained in the sample of size 1000 (nesting: a larger N
only adds data); the sample depends on neither the order of the pool file nor the machine; and
different seeds give independent samples.
"""

from __future__ import annotations

import hashlib


def sample_rank(seed: int, record_id: str) -> bytes:
    return hashlib.sha256(f"{seed}:{record_id}".encode()).digest()


def subsample(records: list[dict], size: int, seed: int, source: str = "pool") -> list[dict]:
    """The nested sample of `size` records for `seed`, in rank order (itself a random order)."""
    if size < 0:
        raise ValueError(f"sample size must be >= 0, got {size}")
    if size > len(records):
        raise ValueError(
            f"{source}: sample size {size} asked, but only {len(records)} records are available"
        )
    ranked = sorted(records, key=lambda record: sample_rank(seed, record["_id"]))
    return ranked[:size]
