"""Exact inner-product search over the teacher's corpus embeddings with FAISS.

Embeddings are L2-normalised, so inner product = cosine. Exact search (IndexFlatIP) is the default on
purpose: on these machines it runs near the matmul peak, and ANN indexes lost up to 11 % of Recall@50.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import faiss


def build_flat_ip(embeddings: np.ndarray) -> faiss.Index:
    import faiss  # imported here: the analysis environment has no faiss

    if embeddings.ndim != 2 or embeddings.shape[0] == 0:
        raise ValueError(f"expected a non-empty (n, d) embedding matrix, got shape {embeddings.shape}")
    norms = np.linalg.norm(embeddings, axis=1)
    if not np.allclose(norms, 1.0, atol=1e-3):
        raise ValueError("corpus embeddings must be L2-normalised for inner-product search")
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


def search(
    index: faiss.Index, queries: np.ndarray, qids: list[str], docids: list[str], k: int
) -> dict[str, list[tuple[str, float]]]:
    """Top-k (docid, score) per query, best first."""
    if index.ntotal != len(docids):
        raise ValueError(f"index holds {index.ntotal} vectors but {len(docids)} docids were given")
    scores, rows = index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, index.ntotal))
    return {
        qid: [(docids[r], float(s)) for r, s in zip(row, score) if r >= 0]
        for qid, row, score in zip(qids, rows, scores)
    }
