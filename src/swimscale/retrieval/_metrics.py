"""IR metrics with trec_eval semantics, and the check that a run file is whole.

Conventions shared by all metrics (cross-checked against pytrec_eval in the tests):

* relevant means relevance > 0;
* a ranking orders documents by score descending, ties broken by docid in
  descending string order -- exactly what trec_eval does.  trec_eval keeps scores
  as 32-bit floats, so scores equal after rounding to float32 are ties too;
* a malformed run or qrels file raises :class:`~swimscale.errors.InputError` naming its file and line
  (the readers and the writer are :mod:`swimscale.formats`', re-exported by :mod:`swimscale.retrieval`);
* the evaluated query set is every qrels query with at least one relevant document.
  A judged query missing from the run scores 0.0 (pytrec_eval silently drops such
  queries, which would inflate a mean over queries); run queries absent from the
  qrels are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

from swimscale._types import StrPath
from swimscale.errors import InputError
from swimscale.formats import Qrels, Run, read_qrels, read_run, write_run

# The run and qrels readers and the writer are swimscale.formats'; importing them from here still works.
__all__ = ["EVAL_COLUMNS", "Qrels", "Run", "check_run", "evaluate", "mrr_at_k", "ndcg_at_k", "read_qrels",
           "read_run", "recall_at_k", "write_run"]

# A query's ranking (docids, best first) and its judgements.
_Scorer = Callable[[list[str], Mapping[str, int]], float]


def _rank(docs: Mapping[str, float]) -> list[str]:
    """Docids best first, ordered as trec_eval orders them."""
    docids = list(docs)
    # Round-trip through float32 because trec_eval stores scores as C floats.
    scores = np.asarray([docs[d] for d in docids], dtype=np.float32).tolist()
    order = sorted(zip(scores, docids), reverse=True)
    return [d for _, d in order]


def _evaluated_queries(qrels: Qrels) -> Iterator[tuple[str, dict[str, int]]]:
    """(qid, judgements) of every qrels query with a relevant document, by qid."""
    for qid in sorted(qrels):
        if any(rel > 0 for rel in qrels[qid].values()):
            yield qid, qrels[qid]


def _per_query(run: Run, qrels: Qrels, scorer: _Scorer) -> dict[str, float]:
    return {qid: scorer(_rank(run.get(qid, {})), judged) for qid, judged in _evaluated_queries(qrels)}


def _recall(k: int) -> _Scorer:
    def score(ranking: list[str], judged: Mapping[str, int]) -> float:
        n_rel = sum(1 for rel in judged.values() if rel > 0)
        hits = sum(1 for d in ranking[:k] if judged.get(d, 0) > 0)
        return hits / n_rel

    return score


def _ndcg(k: int) -> _Scorer:
    def score(ranking: list[str], judged: Mapping[str, int]) -> float:
        # Gain is the relevance value; negative judgements gain nothing (as trec_eval).
        dcg = sum(max(judged.get(d, 0), 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
        ideal = sorted((rel for rel in judged.values() if rel > 0), reverse=True)[:k]
        idcg = sum(rel / math.log2(i + 2) for i, rel in enumerate(ideal))
        return dcg / idcg

    return score


def _mrr(k: int) -> _Scorer:
    def score(ranking: list[str], judged: Mapping[str, int]) -> float:
        for i, d in enumerate(ranking[:k]):
            if judged.get(d, 0) > 0:
                return 1.0 / (i + 1)
        return 0.0

    return score


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"cutoff k must be >= 1, got {k}")


def recall_at_k(run: Run, qrels: Qrels, k: int) -> dict[str, float]:
    """Per-query recall of the top ``k`` (trec_eval ``recall_k``).

    One entry per qrels query with at least one relevant document. Unlike
    pytrec_eval, a judged query missing from the run is kept and scores 0.0.
    """
    _check_k(k)
    return _per_query(run, qrels, _recall(k))


def ndcg_at_k(run: Run, qrels: Qrels, k: int) -> dict[str, float]:
    """Per-query nDCG of the top ``k`` (trec_eval ``ndcg_cut_k``).

    Gain = relevance value, log2(rank + 1) discount, ideal ranking from the qrels.
    Same query set as :func:`recall_at_k` (missing run queries score 0.0).
    """
    _check_k(k)
    return _per_query(run, qrels, _ndcg(k))


def mrr_at_k(run: Run, qrels: Qrels, k: int) -> dict[str, float]:
    """Per-query reciprocal rank of the first relevant document in the top ``k``, else 0.

    Equals trec_eval ``recip_rank`` on the run cut to its top ``k``. Same query set
    as :func:`recall_at_k` (missing run queries score 0.0).
    """
    _check_k(k)
    return _per_query(run, qrels, _mrr(k))


EVAL_COLUMNS = ["qid", "recall_at_50", "recall_at_100", "ndcg_at_10", "mrr_at_10"]


def evaluate(run: Run, qrels: Qrels) -> pd.DataFrame:
    """One row per judged query (the :func:`recall_at_k` query set), sorted by qid."""
    scorers = {
        "recall_at_50": _recall(50),
        "recall_at_100": _recall(100),
        "ndcg_at_10": _ndcg(10),
        "mrr_at_10": _mrr(10),
    }
    rows = []
    for qid, judged in _evaluated_queries(qrels):
        ranking = _rank(run.get(qid, {}))  # sort once, score four times
        rows.append({"qid": qid, **{name: fn(ranking, judged) for name, fn in scorers.items()}})
    return pd.DataFrame(rows, columns=EVAL_COLUMNS)


# --------------------------------------------------------------------------- run files


def check_run(path: StrPath, queries: Iterable[str], k: int, n_documents: int) -> Run:
    """Reads the run file at `path` (:func:`read_run`) and checks that it is whole: each of `queries`
    (the judged queries) is present with exactly min(k, n_documents) documents, as exact search over a
    corpus of `n_documents` writes it. A file cut short — even at a line boundary, which parses — is
    refused with :class:`~swimscale.errors.InputError` naming it, instead of being scored as if the
    missing documents had been ranked and missed. Returns the run."""
    _check_k(k)
    if n_documents < 1:
        raise ValueError(f"n_documents must be >= 1, got {n_documents}")
    run, expected = read_run(path), min(k, n_documents)
    wrong = [(qid, len(run.get(qid, {}))) for qid in sorted(set(queries)) if len(run.get(qid, {})) != expected]
    if wrong:
        shown = ", ".join(f"{qid!r}: {count}" for qid, count in wrong[:5]) + (", ..." if len(wrong) > 5 else "")
        raise InputError(
            f"{path}: {len(wrong)} judged queries do not have the min(k={k}, corpus size {n_documents}) = "
            f"{expected} documents a complete run holds ({shown}); the file is cut short or from another "
            "search: delete it and run the search again"
        )
    return run
