"""A rank-sensitive metric for floor-level recall: the log2 rank of each query's first relevant document.

At Recall@50 near its floor most queries score 0, and two students with the same Recall@50 can still
rank the relevant documents very differently (at 60 or at 600). Per judged query (relevance > 0):

    log2_first_rank(q) = log2(r_q),   r_q = the rank of the best-ranked relevant document of q

ranked as trec_eval ranks (score descending with scores rounded to float32, ties by docid descending;
see :mod:`swimscale.retrieval`). **Convention for documents not retrieved:** a query none of whose
relevant documents is in its list (or that is missing from the run) gets r_q = k + 1, where k is the
run's depth -- the longest list it holds for any query (``search.k`` of the workflow). So the metric
lies in [0, log2(k + 1)]; lower is better; its mean over queries is reported as
``log2_first_rank``.

This is computed from the run files by the analysis itself (the evaluate stage does not report it):
its natural home is :mod:`swimscale.retrieval` with the other metrics.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from swimscale.analysis._schema import RANK_METRIC
from swimscale.formats import Qrels, Run


def run_depth(run: Run) -> int:
    """The longest ranked list the run holds for a query (its k)."""
    return max((len(docs) for docs in run.values()), default=0)


def first_relevant_rank(docs: dict[str, float], relevant: set[str], depth: int) -> int:
    """The rank (from 1) of the best-ranked relevant document in ``docs``; ``depth + 1`` if none is there.

    Counts the documents ranked above it -- a higher float32 score, or an equal one and a larger docid
    (trec_eval's order) -- instead of sorting the list.
    """
    found = [d for d in relevant if d in docs]
    if not found:
        return depth + 1
    scores = {d: float(np.float32(s)) for d, s in docs.items()}
    best = max(found, key=lambda d: (scores[d], d))
    key = (scores[best], best)
    return 1 + sum(1 for d, s in scores.items() if (s, d) > key)


def first_relevant_log2_rank(run: Run, qrels: Qrels) -> pd.DataFrame:
    """Per judged query (the query set of :func:`swimscale.retrieval.evaluate`, sorted by qid): a ``qid``
    column and :data:`RANK_METRIC`, log2 of the first relevant document's rank (see the module)."""
    depth = run_depth(run)
    rows = []
    for qid in sorted(qrels):
        relevant = {d for d, rel in qrels[qid].items() if rel > 0}
        if relevant:
            rank = first_relevant_rank(run.get(qid, {}), relevant, depth)
            rows.append({"qid": qid, RANK_METRIC: math.log2(rank)})
    return pd.DataFrame(rows, columns=["qid", RANK_METRIC])
