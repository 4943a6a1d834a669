"""Nested, seeded subsamples of a training pool.

Each record is ranked by SHA-256 of "<seed>:<_id>" and the sample of size N is the N lowest ranks.
So, for one seed, the sample of size 250 is contained in the sample of size 1000 (nesting: a larger N
only adds data); the sample depends on neither the order of the pool file nor the machine; and
different seeds give independent samples.
"""

from __future__ import annotations

import hashlib
import heapq
from pathlib import Path

from swimscale.data._records import iter_pool


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


def sample_pool(path: Path, size: int, seed: int, code: str | None = None, cap: bool = False) -> tuple[list[dict], int]:
    """(the nested sample of `size` records for `seed`, the pool's record count), streamed: memory holds
    at most `size` records, whatever the pool's size. The sample is exactly `sampling.subsample`'s (same
    ranks, same order). A size above the count raises ValueError naming both, unless `cap`, which
    returns the whole pool in rank order."""
    if size < 0:
        raise ValueError(f"sample size must be >= 0, got {size}")
    count = 0

    def ranked():
        nonlocal count
        for record in iter_pool(path, code):
            count += 1
            yield sample_rank(seed, record["_id"]), count, record

    sample = [record for _, _, record in heapq.nsmallest(size, ranked(), key=lambda item: item[0])]
    if size == 0:  # nsmallest does not consume the iterator for n = 0; the count still matters
        count = sum(1 for _ in iter_pool(path, code))
    if size > count and not cap:
        raise ValueError(f"{path}: sample size {size} asked, but only {count} records are available")
    return sample, count
