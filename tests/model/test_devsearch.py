"""Dev evaluation on the training device: torch matmul and top-k over the dev collection's embeddings
held on the device give FAISS's exact result (IndexFlatIP), and the dev Recall@50 is FAISS's."""

import numpy as np
import pytest
import torch

from swimscale.model import DeviceIndex, _devsearch
from swimscale.retrieval import build_flat_ip, recall_at_k, search

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def collection(seed, passages=3000, queries=120, width=32):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((passages, width)).astype(np.float32), rng.standard_normal((queries, width)).astype(np.float32)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("chunk", [1024, 7])
def test_device_search_equals_faiss_exact_search(monkeypatch, device, chunk):
    monkeypatch.setattr(_devsearch, "QUERY_CHUNK", chunk)  # one block, and many small ones
    corpus, queries = collection(0)
    index = DeviceIndex(corpus, device)
    assert index.vectors.device.type == device
    scores, rows = index.search(torch.from_numpy(queries), 50)
    assert scores.device.type == device
    faiss_scores, faiss_rows = build_flat_ip(corpus, normalize=False).search(queries, 50)
    rows, scores = rows.cpu().numpy(), scores.cpu().numpy()
    assert np.allclose(scores, faiss_scores, rtol=1e-5, atol=1e-5)
    # The same passages in the same order; where two differ, only a float32 near-tie (two scores within
    # rounding of each other, which BLAS and FAISS may sum in another order) swapped them.
    differ = rows != faiss_rows
    assert differ.mean() < 0.01
    for q, r in zip(*np.nonzero(differ)):
        assert abs(float(corpus[rows[q, r]] @ queries[q]) - float(corpus[faiss_rows[q, r]] @ queries[q])) < 1e-5


def test_dev_recall_at_50_equals_faiss(monkeypatch):
    corpus, queries = collection(1, passages=800, queries=60)
    docids = [f"d{i}" for i in range(len(corpus))]
    qids = [f"q{i}" for i in range(len(queries))]
    rng = np.random.default_rng(2)
    qrels = {q: {docids[j]: 1 for j in rng.choice(len(docids), 3, replace=False)} for q in qids}
    # Half the queries get a relevant passage near them, so Recall@50 is neither 0 nor 1.
    for i, q in enumerate(qids[::2]):
        queries[2 * i] = corpus[int(docids.index(next(iter(qrels[q]))))] + 0.1 * queries[2 * i]
    scores, rows = DeviceIndex(corpus, "cpu").search(queries, 50)
    ours = {q: {docids[r]: s for r, s in zip(row.tolist(), score.tolist())} for q, row, score in zip(qids, rows, scores)}
    faiss_run = {q: dict(pairs) for q, pairs in search(build_flat_ip(corpus, normalize=False), queries, qids, docids, 50).items()}
    mean = lambda run: np.mean(list(recall_at_k(run, qrels, 50).values()))  # noqa: E731
    assert 0 < mean(ours) < 1
    assert mean(ours) == mean(faiss_run)
