"""The _ids of a pool read so far, in a few bytes each: the duplicate check of a streamed pool.

A pool reader must refuse a repeated ``_id`` and say where it was first seen, so it remembers every
``_id`` it has passed. A dict of the ids and their places ("line 812345") costs ~150 bytes per record,
130 MiB for a 900k-record pool, in every job that streams the pool (prepare, validate, subsample): the
one part of their memory that grew with the pool (perf/scale.py). :class:`SeenIds` keeps a 64-bit
BLAKE2b digest of each id and its line or row number instead, 16 bytes per record in sorted runs
(an LSM-style log: a small dict of recent ids, merged into sorted arrays of doubling size and searched
by bisection).

Two different ids share a digest with probability about n²/2⁶⁵ (2·10⁻⁸ for 900k ids): such a pair
would be reported as a duplicate naming both the record and the first place, where the user sees
another id — a false alarm, never a duplicate let through.
"""

from __future__ import annotations

import hashlib
import heapq
from array import array
from bisect import bisect_left


def _digest(record_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(record_id.encode("utf-8"), digest_size=8).digest(), "little")


def _merge(older: tuple[array, array], newer: tuple[array, array]) -> tuple[array, array]:
    keys, places = array("Q"), array("Q")
    for key, place in heapq.merge(zip(*older), zip(*newer)):
        keys.append(key)
        places.append(place)
    return keys, places


class SeenIds:
    """A mapping from the ids seen so far to where each was first seen, as ``record_problem`` uses it:
    ``id in seen``, ``seen[id]`` (e.g. "line 3") and ``seen[id] = "line 3"``. A place is a prefix and
    a number ("line 3", "row 7"); up to 256 different prefixes."""

    RECENT = 1 << 16  # ids kept in a dict before they are merged into the sorted runs

    def __init__(self):
        self._recent: dict[int, int] = {}
        self._runs: list[tuple[array, array]] = []  # (sorted digests, their places), sizes decreasing
        self._prefixes: list[str] = []
        self._count = 0

    def _find(self, key: int) -> int | None:
        if key in self._recent:
            return self._recent[key]
        for keys, places in self._runs:
            i = bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                return places[i]
        return None

    def __contains__(self, record_id: str) -> bool:
        return self._find(_digest(record_id)) is not None

    def __getitem__(self, record_id: str) -> str:
        place = self._find(_digest(record_id))
        if place is None:
            raise KeyError(record_id)
        return f"{self._prefixes[place & 0xFF]} {place >> 8}"

    def __setitem__(self, record_id: str, where: str) -> None:
        prefix, _, number = where.rpartition(" ")
        if not number.isdigit() or not prefix:
            raise ValueError(f"place {where!r}: expected '<prefix> <number>', like 'line 3'")
        if prefix not in self._prefixes:
            if len(self._prefixes) == 256:
                raise ValueError(f"place {where!r}: more than 256 different prefixes")
            self._prefixes.append(prefix)
        self._recent[_digest(record_id)] = int(number) << 8 | self._prefixes.index(prefix)
        self._count += 1
        if len(self._recent) >= self.RECENT:
            self._flush()

    def __len__(self) -> int:
        return self._count

    def _flush(self) -> None:
        items = sorted(self._recent.items())
        run = (array("Q", (key for key, _ in items)), array("Q", (place for _, place in items)))
        self._recent = {}
        while self._runs and len(self._runs[-1][0]) <= len(run[0]):
            run = _merge(self._runs.pop(), run)
        self._runs.append(run)
