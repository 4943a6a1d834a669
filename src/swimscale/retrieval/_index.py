"""Exact inner-product search over the teacher's corpus embeddings with FAISS.

Scores are inner products, in the teacher's own space (``teacher.normalize``): on L2-normalised
embeddings they are cosines in [-1, 1]; on raw embeddings (DPR-style teachers such as mDPR) they are raw
dot products, and a document with a long vector can outrank one at a smaller angle — as the teacher was
trained to score. Queries must be in the same space as the corpus: :func:`search` refuses a mix.
Exact search (IndexFlatIP) is the default on purpose: on these machines it runs near the matmul peak,
and ANN indexes lost up to 11 % of Recall@50.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import faiss


# How far from 1 an L2-normalised float32 vector's norm may be.
UNIT_TOLERANCE = 1e-3
# How many stored vectors :func:`search` reads back to tell a normalised index from a raw one.
_SPACE_SAMPLE = 1000


def unit_norm(vectors: np.ndarray) -> bool:
    """Whether every row is L2-normalised (up to float32 rounding)."""
    return bool(np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=UNIT_TOLERANCE))


def build_flat_ip(embeddings: np.ndarray, normalize: bool) -> faiss.Index:
    """An exact inner-product index of the corpus embeddings. `normalize` (``teacher.normalize``): the
    embeddings were L2-normalised (checked), so scores are cosines; False: raw vectors, raw inner product."""
    import faiss  # imported here: the analysis environment has no faiss

    if embeddings.ndim != 2 or embeddings.shape[0] == 0:
        raise ValueError(f"expected a non-empty (n, d) embedding matrix, got shape {embeddings.shape}")
    if not np.isfinite(embeddings).all():
        raise ValueError("corpus embeddings contain NaN or infinite values")
    if normalize and not unit_norm(embeddings):
        raise ValueError("corpus embeddings must be L2-normalised (teacher.normalize: true) for cosine search")
    index = faiss.IndexFlatIP(embeddings.shape[1])
    index.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    return index


def save_index(index: faiss.Index, path: Path) -> None:
    import faiss

    path.parent.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(path))


def load_index(path: Path) -> faiss.Index:
    import faiss

    return faiss.read_index(str(path))


def check_same_space(index: faiss.Index, queries: np.ndarray) -> None:
    """Refuses queries normalised differently from the corpus: scores would then be neither cosines nor
    the teacher's inner products. A raw corpus is told by some stored vector of norm ≠ 1."""
    if len(queries) == 0:
        return
    stored = index.reconstruct_n(0, min(index.ntotal, _SPACE_SAMPLE))
    corpus_unit, queries_unit = unit_norm(stored), unit_norm(queries)
    if corpus_unit != queries_unit:
        state = {True: "L2-normalised", False: "raw (not normalised)"}
        raise ValueError(f"the queries are {state[queries_unit]} but the corpus index holds {state[corpus_unit]} "
                         "vectors: encode both with the same teacher.normalize")


def search(
    index: faiss.Index, queries: np.ndarray, qids: list[str], docids: list[str], k: int
) -> dict[str, list[tuple[str, float]]]:
    """Top-k (docid, score) per query, best first. The queries must be encoded as the corpus was
    (both L2-normalised or both raw): a mix is refused."""
    if index.ntotal != len(docids):
        raise ValueError(f"index holds {index.ntotal} vectors but {len(docids)} docids were given")
    check_same_space(index, queries)
    scores, rows = index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, index.ntotal))
    return {
        qid: [(docids[r], float(s)) for r, s in zip(row, score) if r >= 0]
        for qid, row, score in zip(qids, rows, scores)
    }
