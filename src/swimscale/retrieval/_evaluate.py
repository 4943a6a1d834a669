"""A student's run scored against the current judgements: what the ``evaluate`` rules run, apart from the
search (which needs the student) so that a qrels edit rescores without retraining.

A search (``swimscale.model.search_benchmark``) writes the TREC run and, beside it, its search record
(:func:`write_search_record`): the SHA-256 of the queries file it encoded, ``k`` and the corpus size.
The search reads its queries through Snakemake's ``ancient()`` (a qrels edit re-prepares the benchmark,
which rewrites its queries file byte for byte the same), so :func:`evaluate_search` first checks that
the queries are still those the run answers, and stops with the command that searches again if not.
It then reads the run as written, checks it whole (:func:`~swimscale.retrieval.check_run`: every
query with min(k, corpus size) documents), computes trec_eval's metrics per query
(:func:`~swimscale.retrieval.evaluate`) and writes them, and their means with ``n_queries``, exactly as
the training job once did: ``<benchmark>.per_query.tsv`` and ``<benchmark>.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from swimscale._types import StrPath
from swimscale.data import read_queries, sha256_of
from swimscale.errors import InputError
from swimscale.formats import read_qrels, write_text_atomic
from swimscale.retrieval._metrics import check_run, evaluate


def write_search_record(path: StrPath, queries: StrPath, k: int, n_documents: int) -> dict:
    """Writes (atomically) and returns the record of one search: its queries file and that file's
    SHA-256, ``k``, and the number of documents searched."""
    record = {"queries": str(queries), "queries_sha256": sha256_of(Path(queries)), "k": k, "n_documents": n_documents}
    write_text_atomic(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return record


def score_run(run: StrPath, qrels: StrPath, qids: list[str], k: int, n_documents: int, metrics: StrPath,
              per_query: StrPath) -> dict:
    """Scores the run file as written (checked whole first) against `qrels`; writes the per-query metrics
    (TSV) and their means with ``n_queries`` (JSON); returns the means."""
    table = evaluate(check_run(run, qids, k, n_documents), read_qrels(qrels))
    for folder in {Path(metrics).parent, Path(per_query).parent}:
        folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(per_query, sep="\t", index=False)
    summary = {column: float(table[column].mean()) for column in table.columns if column != "qid"}
    summary["n_queries"] = len(table)
    Path(metrics).write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def evaluate_search(files: dict, search_again: str) -> dict:
    """Scores one search (`files`: {queries, qrels, run, searched, metrics, per_query}); stops with
    :class:`~swimscale.errors.InputError`, naming the queries file and `search_again` (the command that
    searches again), when the queries are no longer those its search record names."""
    record = json.loads(Path(files["searched"]).read_text(encoding="utf-8"))
    if sha256_of(Path(files["queries"])) != record["queries_sha256"]:
        raise InputError(f"{files['queries']}: the queries changed since {files['run']} was searched; "
                         f"search again: {search_again}")
    qids = list(read_queries(Path(files["queries"])))
    return score_run(files["run"], files["qrels"], qids, record["k"], record["n_documents"], files["metrics"],
                     files["per_query"])
