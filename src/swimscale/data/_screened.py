"""What the overlap screen saw of each benchmark, recorded by the validate stage and checked by evaluation.

The validate rule reads its language's TEST benchmarks through Snakemake's ``ancient()``: a new qrels
file (a grade changed, a judgement removed, a non-relevant one added) must rescore the students, not
re-screen the pool and retrain every one of them. That is sound only while the screen still covers
what the judgements now call relevant: the screen left out of training every pool record whose passage
is (or nearly is) a relevant document of the benchmark, so a document that became relevant *after* the
screen may be in some student's training sample. So the validate rule records, per benchmark, the
relevant documents it screened against, the SHA-256 of the qrels and queries it read, and what the
benchmark's manifest says its preparation dropped (:func:`screened_record`), and every evaluation checks
the current files against that record before it scores (:func:`check_screened`): a newly relevant
document, queries that changed (the screen also drops pool records whose query is a benchmark query), or
other dropped judgements (the validate report's, which the tables' data warnings quote) stop it with the
command that re-screens and retrains. Grade changes, removed judgements and new non-relevant ones pass:
they rescore only.

Dev benchmarks are read by the validate rule and by training as they are (no ``ancient()``): an edit
to one re-screens and retrains, since training chooses its students on them.

Standard library only.
"""

from __future__ import annotations

import json
from pathlib import Path

from swimscale.data._records import sha256_of
from swimscale.errors import InputError
from swimscale.formats import iter_qrels


def relevant_documents(qrels: Path) -> set[str]:
    """The documents a qrels file judges relevant to some query (grade > 0, as the screen reads them)."""
    return {docid for _, docid, grade, _ in iter_qrels(Path(qrels)) if grade > 0}


def prepared_counts(manifest: Path) -> dict:
    """What the validate report keeps of a benchmark's manifest and the tables quote in their data
    warnings (swimscale.analysis): the judgements dropped when preparing it, the queries read and lost."""
    data = json.loads(Path(manifest).read_text(encoding="utf-8"))
    counts = data.get("counts", {})
    return {"dropped": data.get("dropped", {}), "queries_read": counts.get("queries_read"),
            "queries_lost": counts.get("queries_lost")}


def screened_record(files: dict, relevant: set[str]) -> dict:
    """One benchmark's entry of the screen record: its role, its qrels and queries files with their
    SHA-256, what its manifest says was dropped (:func:`prepared_counts`), and the sorted `relevant`
    documents the pool was screened against."""
    return {"role": files["role"], "qrels": str(files["qrels"]), "qrels_sha256": sha256_of(Path(files["qrels"])),
            "queries": str(files["queries"]), "queries_sha256": sha256_of(Path(files["queries"])),
            "prepared": prepared_counts(Path(files["manifest"])), "relevant": sorted(relevant)}


def check_screened(name: str, files: dict, record: dict, rescreen: str) -> None:
    """Raises :class:`~swimscale.errors.InputError` (one line naming the file, `rescreen` the command that
    re-screens and retrains) unless the screen recorded for benchmark `name` still covers its current
    `files` (qrels, queries, manifest): every document the qrels judge relevant was screened against, the
    queries are those it read, and the manifest's dropped judgements and lost queries are those it read."""
    qrels, queries, manifest = Path(files["qrels"]), Path(files["queries"]), Path(files["manifest"])
    entry = record.get(name)
    if entry is None:
        raise InputError(f"{qrels}: benchmark '{name}' is not in the overlap screen's record; re-screen and "
                         f"retrain: {rescreen}")
    if sha256_of(queries) != entry["queries_sha256"]:
        raise InputError(f"{queries}: the queries changed since the training pool was screened against them; "
                         f"re-screen and retrain: {rescreen}")
    if prepared_counts(manifest) != entry["prepared"]:
        raise InputError(f"{manifest}: the judgements dropped or queries lost in preparing '{name}' changed since "
                         f"the training pool was screened (its report, which the tables quote, says otherwise); "
                         f"re-screen and retrain: {rescreen}")
    if sha256_of(qrels) == entry["qrels_sha256"]:
        return
    unseen = sorted(relevant_documents(qrels) - set(entry["relevant"]))
    if unseen:
        raise InputError(f"{qrels}: {len(unseen)} document(s) judged relevant now that the training pool's "
                         f"overlap screen never saw (e.g. '{unseen[0]}'), so a student may have trained on them; "
                         f"re-screen and retrain: {rescreen}")
