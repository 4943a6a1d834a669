"""Near-duplicates for the overlap screen: MinHash over word shingles, verified exactly.

The exact screen (:mod:`swimscale.data._overlap`) misses a relevant test passage that reaches the pool
with a changed word, changed punctuation inside a word, or cut short. This one catches them:

- **Shingles.** A text's :func:`swimscale.data.text_key` (NFKC, case-folded, punctuation removed,
  spacing collapsed) split into words; its shingles are the word n-grams (n = 3 for passages, 2 for
  queries, which are short). Titles are not shingled: an unrelated passage that only shares a
  document's title is not a near-duplicate.
- **The test.** A pool passage with shingle set A is a near-duplicate of a relevant document B when
  the Jaccard similarity |A ∩ B| / |A ∪ B| ≥ τ (``pools.<code>.near_duplicate_jaccard``, default 0.7),
  or when A is a truncated copy: at least :data:`MIN_SHINGLES` shingles, of which a fraction ≥ τ are
  in B (containment |A ∩ B| / |A| ≥ τ). One changed word in a 95-word passage removes 3 of ~93
  shingles (J ≈ 0.94); half a document has J = 0.5 but containment 1. A pool query is a near-duplicate
  of a benchmark query by the same test on word bigrams (queries with fewer than :data:`MIN_SHINGLES`
  bigrams, such as CLIRMatrix's titles, are compared by the exact screen only).
- **Lossless prefilter.** Both tests imply |A ∩ B| ≥ τ·|A|, so a record whose shingles are in the
  union of every indexed text's shingles less than that cannot match: a set lookup per shingle rules
  out almost every pool record before any hashing.
- **MinHash + LSH** (Broder 1997; banding as in Leskovec, Rajaraman & Ullman, *Mining of Massive
  Datasets*, ch. 3): :data:`BANDS` × :data:`ROWS` = 36 min-hashes of 64-bit BLAKE2b shingle hashes
  under (a·h + b) mod (2⁶¹ − 1); two texts whose Jaccard is s share a band with probability
  1 − (1 − s³)¹² (0.99 at s = 0.7, 0.80 at s = 0.5). Each relevant document is indexed whole and as
  its halves and quarters, so a truncated copy meets a window it resembles (J ≥ 0.7 for most cuts).
- **Verification.** Every LSH candidate is checked with the exact sets above before anything is
  dropped: MinHash only proposes.

Standard library only (``datasketch`` would bring numpy and scipy into the data environment and the
DAG-building process; this is the same algorithm in ~100 lines, and deterministic: no salted hashes).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from swimscale.data._records import text_key

BANDS, ROWS = 12, 3
NUM_PERM = BANDS * ROWS
MIN_SHINGLES = 6  # fewer shingles than this: no near-duplicate test (exact matches only)
PASSAGE_N, QUERY_N = 3, 2
_PRIME = (1 << 61) - 1
_RNG = random.Random(20240614)  # fixed: the same permutations in every run
_PERMS = [(_RNG.randrange(1, _PRIME), _RNG.randrange(0, _PRIME)) for _ in range(NUM_PERM)]


def words(text: str) -> list[str]:
    return text_key(text).split()


def shingles(tokens: list[str], n: int) -> set[str]:
    """The word n-grams of `tokens` (the whole text when it has fewer than n words)."""
    if len(tokens) <= n:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def signature(shingle_set: set[str]) -> tuple[int, ...]:
    """The MinHash signature: per permutation, the least (a·h + b) mod p over the shingles' hashes."""
    hashes = [int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little") for s in shingle_set]
    return tuple(min((a * h + b) % _PRIME for h in hashes) for a, b in _PERMS)


def is_near(a: set[str], b: set[str], tau: float) -> bool:
    """The exact test: Jaccard(a, b) ≥ tau, or a (≥ MIN_SHINGLES shingles) contained in b at ≥ tau."""
    if len(a) < MIN_SHINGLES:
        return False
    common = len(a & b)
    return common >= tau * len(a | b) or common >= tau * len(a)


def windows(tokens: list[str]) -> list[list[str]]:
    """The text, its halves and its quarters (those long enough to shingle)."""
    out, length = [tokens], len(tokens)
    for parts in (2, 4):
        step = length // parts
        if step >= MIN_SHINGLES + PASSAGE_N:
            out += [tokens[i * step:(i + 1) * step] for i in range(parts)]
    return out


@dataclass
class NearIndex:
    """MinHash LSH over indexed texts (relevant documents, or benchmark queries), with exact checks.

    `tags[i]` is what text i stands for (e.g. (benchmark, docid, True)); `sets[i]` its shingles.
    """

    tau: float
    n: int
    tags: list = field(default_factory=list)
    sets: list = field(default_factory=list)
    vocabulary: set = field(default_factory=set)
    bands: list = field(default_factory=lambda: [{} for _ in range(BANDS)])

    def add(self, text: str, tags: list, windowed: bool = False) -> None:
        tokens = words(text)
        full = shingles(tokens, self.n)
        if len(full) < MIN_SHINGLES:
            return
        index = len(self.sets)
        self.tags.append(tags)
        self.sets.append(full)
        self.vocabulary |= full
        for window in windows(tokens) if windowed else [tokens]:
            sig = signature(shingles(window, self.n))
            for band in range(BANDS):
                self.bands[band].setdefault(sig[band * ROWS:(band + 1) * ROWS], set()).add(index)

    def matches(self, text: str) -> list:
        """The tags of every indexed text that `text` is a near-duplicate of (verified exactly)."""
        if not self.sets:
            return []
        mine = shingles(words(text), self.n)
        if len(mine) < MIN_SHINGLES or len(mine & self.vocabulary) < self.tau * len(mine):
            return []  # the lossless prefilter: no indexed text can pass the exact test
        sig = signature(mine)
        candidates = set()
        for band in range(BANDS):
            candidates |= self.bands[band].get(sig[band * ROWS:(band + 1) * ROWS], set())
        found = []
        for index in sorted(candidates):
            if is_near(mine, self.sets[index], self.tau):
                found.extend(self.tags[index])
        return found
