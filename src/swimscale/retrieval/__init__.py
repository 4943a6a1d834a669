"""Retrieval and its evaluation: exact inner-product search (FAISS ``IndexFlatIP``) and IR metrics with
trec_eval's semantics (cross-checked against pytrec_eval), with TREC run and qrels files.

Scores are inner products in the teacher's space: cosines on L2-normalised embeddings, raw dot products
otherwise (``teacher.normalize``; :func:`build_flat_ip`, :func:`search`). Run files are written
atomically (:func:`write_run`) and checked whole before they are scored (:func:`check_run`); the run and
qrels readers and the writer are :mod:`swimscale.formats`', re-exported here. A search writes its run
and a search record (:func:`write_search_record`); the evaluate rules score the run against the current
judgements (:func:`evaluate_search`, :func:`score_run`), so a qrels edit rescores without a new search.

FAISS is imported only by the search functions: the analysis environment evaluates without it.
"""

from swimscale.formats import read_qrels, read_run, write_run
from swimscale.retrieval._evaluate import evaluate_search, score_run, write_search_record
from swimscale.retrieval._index import build_flat_ip, check_same_space, load_index, save_index, search, unit_norm
from swimscale.retrieval._metrics import EVAL_COLUMNS, check_run, evaluate, mrr_at_k, ndcg_at_k, recall_at_k

__all__ = [
    "EVAL_COLUMNS",
    "build_flat_ip",
    "check_run",
    "check_same_space",
    "evaluate",
    "evaluate_search",
    "load_index",
    "mrr_at_k",
    "ndcg_at_k",
    "read_qrels",
    "read_run",
    "recall_at_k",
    "save_index",
    "score_run",
    "search",
    "unit_norm",
    "write_run",
    "write_search_record",
]
