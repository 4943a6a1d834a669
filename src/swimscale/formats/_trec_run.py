"""TREC run files: ``qid Q0 docid rank score tag``, one retrieved document a line.

Reading (one set of rules, each refusal an :class:`~swimscale.errors.InputError` naming file and line):
the file is UTF-8; blank lines are skipped and counted; a line holds exactly six fields; the rank is an
integer (:data:`~swimscale.formats.INTEGER`) but is not used -- trec_eval ranks by score, and so does
:mod:`swimscale.retrieval`; the score is a finite number; a document appears once per query (trec_eval
refuses a repeated one too). The second and the last field (``Q0``, the tag) are not read.

Writing: ranks count from 1 in the given order of each list (best first: trec_eval re-sorts by
score anyway); a score is written with ``repr``, which round-trips a float exactly, so reading back
gives the same ranking; ids and the tag must be non-empty without whitespace. The file is written
atomically (:func:`~swimscale.formats.atomic_open`): a search killed while writing leaves no
cut-short run file, and a later write replaces the partial file it left.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import IO

from swimscale._types import StrPath
from swimscale.errors import InputError
from swimscale.formats._atomic import atomic_open
from swimscale.formats._lines import check_token, integer_field, split_fields

Run = dict[str, dict[str, float]]
"""{qid: {docid: score}}."""

RUN_LAYOUT = "qid Q0 docid rank score tag"


def _score(where: str, score: str) -> float:
    try:
        value = float(score)
    except ValueError:
        raise InputError(f"{where}: score {score!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: score {score!r} is not finite")
    return value


def read_run(path: StrPath) -> Run:
    """A TREC run file as {qid: {docid: score}}, queries and documents in file order."""
    run: Run = {}
    for where, (qid, _, docid, rank, score, _tag) in split_fields(path, 6, RUN_LAYOUT):
        integer_field(where, "rank", rank)
        value = _score(where, score)
        docs = run.setdefault(qid, {})
        if docid in docs:
            raise InputError(f"{where}: duplicate document {docid!r} for query {qid!r}")
        docs[docid] = value
    return run


def write_run(path: StrPath, results: Mapping[str, Sequence[tuple[str, float]]], tag: str) -> None:
    """Writes {qid: [(docid, score), ...] best first} as a TREC run file tagged `tag`, atomically."""
    for name, value in [("tag", tag), *(("query id", q) for q in results)]:
        check_token(name, value)
    with atomic_open(path) as handle:
        _write_lines(handle, results, tag)


def _write_lines(handle: IO[str], results: Mapping[str, Sequence[tuple[str, float]]], tag: str) -> None:
    for qid, ranked in results.items():
        for rank, (docid, score) in enumerate(ranked, start=1):
            check_token(f"docid of query {qid!r}", docid)
            handle.write(f"{qid} Q0 {docid} {rank} {float(score)!r} {tag}\n")
