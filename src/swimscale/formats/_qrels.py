"""TREC qrels: ``qid 0 docid relevance``, one judgement a line.

One set of rules for every reader of judgements (the evaluation, the validate stage, a benchmark read
from the user's own files), each refusal a :class:`~swimscale.errors.InputError` naming file and line:

* the file is UTF-8 (a bad byte: its line and column); blank lines are skipped, and counted in the
  line numbers;
* a line holds exactly four whitespace-separated fields; the second (trec_eval's iteration) is not
  read;
* the relevance is an integer in ASCII digits, optionally negative (:data:`INTEGER`); relevant means
  relevance > 0, as in trec_eval;
* a (query, document) pair is judged once. :func:`iter_qrels` with ``duplicates=True`` passes a
  repeated pair on instead: the preparation of a benchmark from the user's files counts or stops on
  it under its own ``on_bad_judgement`` setting, with the line of the first judgement.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

from swimscale._types import StrPath
from swimscale.errors import InputError
from swimscale.formats._atomic import atomic_open
from swimscale.formats._lines import check_token, integer_field, split_fields

Qrels = dict[str, dict[str, int]]
"""{qid: {docid: relevance}}."""

QRELS_LAYOUT = "qid 0 docid relevance"


class Judgement(NamedTuple):
    """One line of a qrels file, and where it is (``"<path>: line <n>"``)."""

    qid: str
    docid: str
    relevance: int
    where: str


def iter_qrels(path: StrPath, duplicates: bool = False) -> Iterator[Judgement]:
    """The judgements of a qrels file in file order, streamed; a second judgement of a pair stops
    unless `duplicates`."""
    seen: set[tuple[str, str]] = set()
    for where, (qid, _, docid, relevance) in split_fields(path, 4, QRELS_LAYOUT):
        value = integer_field(where, "relevance", relevance)
        if not duplicates:
            if (qid, docid) in seen:
                raise InputError(f"{where}: duplicate judgement of {docid!r} for query {qid!r}")
            seen.add((qid, docid))
        yield Judgement(qid, docid, value, where)


def read_qrels(path: StrPath) -> Qrels:
    """A qrels file as {qid: {docid: relevance}}, queries and documents in file order."""
    qrels: Qrels = {}
    for judgement in iter_qrels(path):
        qrels.setdefault(judgement.qid, {})[judgement.docid] = judgement.relevance
    return qrels


def write_qrels(path: StrPath, qrels: Mapping[str, Mapping[str, int]]) -> None:
    """Writes {qid: {docid: relevance}} as TREC qrels in the mapping's order, atomically
    (:func:`~swimscale.formats.atomic_open`). Ids must be non-empty without whitespace (ValueError)."""
    with atomic_open(path) as handle:
        for qid, docs in qrels.items():
            check_token("query id", qid)
            for docid, relevance in docs.items():
                check_token(f"docid of query {qid!r}", docid)
                handle.write(f"{qid} 0 {docid} {int(relevance)}\n")
