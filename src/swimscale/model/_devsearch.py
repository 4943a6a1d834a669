"""Exact inner-product search on the training device, for dev evaluations: the dev collection's
embeddings are moved to the device once and held there; a search is one matmul and one top-k per chunk
of queries, on the device, so a dev evaluation never waits on the job's CPU (FAISS's exact index
searched there before: 4–66 CPU-hours over the full study, docs/full_study.md).

Exactness: the scores are the float32 inner products FAISS's ``IndexFlatIP`` computes, and top-k keeps
the k largest; only the order among exactly equal scores may differ from FAISS's (the tests compare on
collections without ties, and Recall@k is the same either way unless a tie straddles rank k).
"""

from __future__ import annotations

import numpy as np
import torch

# Queries per matmul: bounds the (queries × passages) score block, 1,024 × 200k float32 = 819 MB; a dev
# set of up to 1,024 queries (the study's have 500) is one block, as the former CPU search was.
QUERY_CHUNK = 1024


class DeviceIndex:
    """A collection's embeddings (rows: passages, float32) held on `device`."""

    def __init__(self, vectors: np.ndarray | torch.Tensor, device: torch.device | str):
        tensor = vectors if isinstance(vectors, torch.Tensor) else torch.from_numpy(
            np.ascontiguousarray(vectors, dtype=np.float32))
        self.device = torch.device(device)
        self.vectors = tensor.to(device=self.device, dtype=torch.float32)

    def __len__(self) -> int:
        return self.vectors.shape[0]

    def search(self, queries: torch.Tensor | np.ndarray, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(scores, rows), each (queries, min(k, passages)), best first, on the device: exact top-k of
        the inner products."""
        queries = torch.as_tensor(queries).to(device=self.device, dtype=torch.float32)
        k = min(k, len(self))
        scores, rows = [], []
        for start in range(0, queries.shape[0], QUERY_CHUNK):
            top = (queries[start : start + QUERY_CHUNK] @ self.vectors.T).topk(k, dim=1)
            scores.append(top.values)
            rows.append(top.indices)
        return torch.cat(scores), torch.cat(rows)
