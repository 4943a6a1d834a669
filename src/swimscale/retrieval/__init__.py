"""Retrieval and its evaluation: exact inner-product search (FAISS ``IndexFlatIP``) and IR metrics with
trec_eval's semantics (cross-checked against pytrec_eval), with TREC run and qrels files.

FAISS is imported only by the search functions: the analysis environment evaluates without it.
"""

from swimscale.retrieval._index import build_flat_ip, load_index, save_index, search
from swimscale.retrieval._metrics import (
    EVAL_COLUMNS,
    evaluate,
    mrr_at_k,
    ndcg_at_k,
    read_qrels,
    read_run,
    recall_at_k,
    write_run,
)

__all__ = [
    "EVAL_COLUMNS",
    "build_flat_ip",
    "evaluate",
    "load_index",
    "mrr_at_k",
    "ndcg_at_k",
    "read_qrels",
    "read_run",
    "recall_at_k",
    "save_index",
    "search",
    "write_run",
]
