"""The normalised form every benchmark source writes, in two jobs: a collection (`corpus.jsonl`, shared
by the benchmarks that search it) and a benchmark (`queries.tsv`, `qrels.txt`) per name.

A source gives :class:`Streams` of queries and judgements for a benchmark and :class:`Documents` for a
collection; :func:`write_collection` streams the documents once (every judged document of its member
benchmarks plus the others — all, or a seeded sample up to `corpus_size`); :func:`write_benchmark`
(:mod:`._judgements`) checks every query and judgement against the collection and writes them.
"""

from __future__ import annotations

import contextlib
import heapq
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from swimscale.data._records import (
    CollectionFiles,
    checksums,
    iter_jsonl_lines,
    normalise_text,
    package_versions,
    small_corpus_warnings,
    write_manifest,
)
from swimscale.data._sampling import sample_rank

Query = tuple[str, str, str]  # (qid, text, where)
Judgement = tuple[str, str, int, str]  # (qid, docid, relevance, where)
Document = tuple[str, str, str, str]  # (docid, title, text, where)


@dataclass
class Streams:
    """A benchmark's queries and judgements as a source reads them (`where` names file and line), the
    user files read ({role: path}, checksummed in the manifest), what the manifest records of the source."""

    queries: Iterable[Query]
    qrels: Iterable[Judgement]
    inputs: dict[str, Path] = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    packages: tuple[str, ...] = ()


@dataclass
class Documents:
    """A collection's documents as a source reads them: `docs()` streams them (once per call)."""

    docs: Callable[[], Iterator[Document]]
    inputs: dict[str, Path] = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    packages: tuple[str, ...] = ()


@contextlib.contextmanager
def file_lock(path: Path):
    """An exclusive lock across processes: several benchmark jobs share one download."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def jsonl_objects(path: Path, fields: tuple[str, ...]):
    """(where, record) per line; malformed JSON, bytes that are not UTF-8 or a missing field stop with
    file, line and reason."""
    for line_no, record, error in iter_jsonl_lines(path):
        where = f"{path}: line {line_no}"
        if error is not None:
            raise ValueError(f"{where}: {error}")
        if not isinstance(record, dict):
            raise ValueError(f"{where}: expected a JSON object")
        missing = [f for f in fields if f not in record]
        if missing:
            raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
        yield where, record


# --- a collection ----------------------------------------------------------------------------------


def write_collection(
    documents: Documents,
    judged: set[str] | None,
    files: CollectionFiles,
    *,
    corpus_size: int | None,
    seed: int,
    on_duplicate: str,
) -> Counter:
    """Writes `corpus.jsonl` from one pass over the documents, in source order: every document, or
    (`corpus_size`) every `judged` one plus a seeded sample of the others up to `corpus_size` in all.
    A docid seen twice stops (`on_duplicate` "stop", naming both places) or keeps its first copy
    ("drop", counted). Documents with neither title nor text are left out, counted. Returns counts."""
    counts: Counter = Counter()
    keep_judged, others = stream_corpus(documents.docs(), judged or set(), corpus_size, seed, counts, on_duplicate)
    corpus = sorted([(p, d, t, x) for d, (p, t, x) in keep_judged.items()] + others)
    if not corpus:  # every document blank (or none): refused here, not as a misleading error later
        sources = ", ".join(str(path) for path in documents.inputs.values()) or "the collection's source"
        raise ValueError(f"{sources}: no document with a title or text ({counts['empty_documents']} blank): "
                         "the collection would be empty")
    files.corpus.parent.mkdir(parents=True, exist_ok=True)
    with open(files.corpus, "w", encoding="utf-8") as handle:
        for _, docid, title, text in corpus:
            handle.write(json.dumps({"docid": docid, "title": title, "text": text}, ensure_ascii=False) + "\n")
    counts.update(corpus_documents=len(corpus), judged_documents_kept=len(keep_judged), sampled_documents=len(others))
    counts["judged_documents_missing"] = len((judged or set()) - set(keep_judged))
    return counts


def stream_corpus(docs: Iterator[Document], judged: set[str], corpus_size: int | None, seed: int, counts: Counter,
                  on_duplicate: str):
    """One pass over the documents: ({judged docid: (position, title, text)}, [(position, docid, title,
    text)] of the others — all, or the seeded sample that fits in `corpus_size` beside the judged ones).

    Judged documents missing from the source are known only at the end: up to corpus_size others are
    sampled on the way (a max-heap on the negated rank), and the lowest ranks that fit are kept."""
    keep_judged: dict[str, tuple[int, str, str]] = {}
    others: list = []
    seen: dict[str, str] = {}
    for position, (docid, title, text, where) in enumerate(docs):
        docid = str(docid)
        if docid in seen:
            if on_duplicate == "stop":
                raise ValueError(f"{where}: duplicate document id '{docid}' (first at {seen[docid]}); "
                                 "set on_bad_judgement: drop on the collection's benchmarks to keep the first copy")
            counts["duplicate_docids"] += 1
            continue
        seen[docid] = where
        title, text = normalise_text(str(title or "")), normalise_text(str(text or ""))
        if not text and not title:
            counts["empty_documents"] += 1
            continue
        counts["documents_read"] += 1
        if docid in judged:
            keep_judged[docid] = (position, title, text)
        elif corpus_size is None:
            others.append((position, docid, title, text))
        elif corpus_size > 0:
            item = (tuple(-b for b in sample_rank(seed, docid)), position, docid, title, text)
            if len(others) < corpus_size:
                heapq.heappush(others, item)
            elif item > others[0]:
                heapq.heapreplace(others, item)
    if corpus_size is not None:
        room = max(0, corpus_size - len(keep_judged))
        others = [(position, docid, title, text) for _, position, docid, title, text in heapq.nlargest(room, others)]
    return keep_judged, others


def collection_manifest(collection: str, members: dict[str, dict], documents: Documents, files: CollectionFiles,
                        counts: Counter, settings: dict) -> dict:
    """What the collection is and how it was formed: a corpus sampled around judged documents has fewer
    distractors than the source, so the manifest says how many documents of each kind it holds."""
    sampled = settings["corpus_size"] is not None
    rule = (
        f"every document a member benchmark judges, whatever its grade ({counts['judged_documents_kept']}), plus a "
        f"seeded sample of the others ({counts['sampled_documents']}), {settings['corpus_size']} at most unless the "
        "judged ones alone are more: fewer random distractors than the full collection, so Recall here is higher "
        "than on the full collection"
        if sampled else "every document of the source"
    )
    return write_manifest(files.manifest, {
        "source": next(iter(members.values()))["source"],
        "collection": collection,
        "members": sorted(members),
        **documents.info,
        "inputs": checksums(documents.inputs.values()),
        "formed": {"corpus_size": settings["corpus_size"], "seed": settings["seed"], "rule": rule},
        "counts": dict(sorted(counts.items())),
        "warnings": small_corpus_warnings(counts["corpus_documents"]),
        "files": checksums([files.corpus]),
        "packages": package_versions(list(documents.packages)),
    })
