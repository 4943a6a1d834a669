"""The normalised form every benchmark source writes, and the helpers the sources share.

`write_benchmark` takes a source's three streams and writes `queries.tsv` (`qid<TAB>text`),
`corpus.jsonl` (`docid, title, text`) and `qrels.txt` (`qid 0 docid rel`) in four phases: read the
queries, read the judgements, choose the queries (those with a relevant document, optionally a seeded
sample), then stream the corpus once, keeping every judged document plus the others (all, or a seeded
sample up to `corpus_size`). Memory holds the kept documents only.
"""

from __future__ import annotations

import contextlib
import heapq
import json
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Iterator

from swimscale.data._records import (
    BenchmarkFiles,
    iter_jsonl_lines,
    normalise_text,
    package_versions,
    sha256_of,
    write_manifest,
)
from swimscale.data._sampling import sample_rank

Query = tuple[str, str, str]  # (qid, text, where)
Judgement = tuple[str, str, int, str]  # (qid, docid, relevance, where)
Document = tuple[str, str, str, str]  # (docid, title, text, where)


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
    """(where, record) per line; malformed JSON or a missing field stops with file, line and reason."""
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


# --- write_benchmark and its phases ----------------------------------------------------------------


def write_benchmark(
    queries: Iterable[Query],
    qrels: Iterable[Judgement],
    docs: Callable[[], Iterator[Document]],
    files: BenchmarkFiles,
    *,
    corpus_size: int | None,
    max_queries: int | None,
    seed: int,
) -> dict:
    """Writes the three files; returns counts. `queries` yields (qid, text, where), `qrels` (qid, docid,
    relevance, where), `docs()` (docid, title, text, where) — `where` names file and line for errors.

    Only queries with at least one relevant (relevance > 0) judgement are kept (Recall has no meaning
    for the others); judgements of documents missing from the corpus are dropped; both are counted.
    `corpus_size` (None = all) and `max_queries` (None = all) keep seeded samples (`seed`).
    """
    query_text = read_queries(queries)
    counts = Counter(queries_read=len(query_text))
    judgements = read_judgements(qrels, query_text, counts)
    kept = choose_queries(query_text, judgements, max_queries, seed, counts)
    judged = {d for q in kept for d in judgements[q]}
    keep_judged, others = stream_corpus(docs(), judged, corpus_size, seed, counts)
    kept = drop_missing_documents(kept, judgements, judged - set(keep_judged), counts)
    corpus = sorted([(p, d, t, x) for d, (p, t, x) in keep_judged.items()] + others)
    n_qrels = write_tables(files, kept, query_text, corpus, judgements)
    counts.update(queries=len(kept), corpus_documents=len(corpus), qrels=n_qrels)
    return dict(sorted(counts.items()))


def _clean(text, where: str, what: str) -> str:
    text = normalise_text(str(text if text is not None else ""))
    if not text:
        raise ValueError(f"{where}: empty {what}")
    return text


def read_queries(queries: Iterable[Query]) -> dict[str, str]:
    """{qid: normalised text}; an empty or spaced id, a duplicate id or an empty text stops."""
    query_text: dict[str, str] = {}
    for qid, text, where in queries:
        qid = str(qid).strip()
        if not qid or any(c.isspace() for c in qid):
            raise ValueError(f"{where}: query id '{qid}' is empty or has whitespace")
        if qid in query_text:
            raise ValueError(f"{where}: duplicate query id '{qid}'")
        query_text[qid] = _clean(text, where, "query text")
    return query_text


def read_judgements(qrels: Iterable[Judgement], query_text: dict[str, str], counts: Counter) -> dict[str, dict[str, int]]:
    """{qid: {docid: relevance}} of the known queries (a repeated pair keeps its highest relevance)."""
    judgements: dict[str, dict[str, int]] = {}
    for qid, docid, rel, where in qrels:
        qid, docid = str(qid), str(docid)
        if any(c.isspace() for c in docid) or not docid:
            raise ValueError(f"{where}: document id '{docid}' is empty or has whitespace")
        if qid not in query_text:
            counts["qrels_unknown_query"] += 1
            continue
        judgements.setdefault(qid, {})[docid] = max(int(rel), judgements.get(qid, {}).get(docid, int(rel)))
    return judgements


def choose_queries(query_text, judgements, max_queries: int | None, seed: int, counts: Counter) -> list[str]:
    """The queries with a relevant document, in source order; a seeded sample of `max_queries` of them."""
    kept = [q for q in query_text if any(r > 0 for r in judgements.get(q, {}).values())]
    counts["queries_without_relevant"] = len(query_text) - len(kept)
    if max_queries is not None and max_queries < len(kept):
        chosen = set(heapq.nsmallest(max_queries, kept, key=lambda q: sample_rank(seed, q)))
        kept = [q for q in kept if q in chosen]
    return kept


def stream_corpus(docs: Iterator[Document], judged: set[str], corpus_size: int | None, seed: int, counts: Counter):
    """One pass over the documents: ({judged docid: (position, title, text)}, [(position, docid, title,
    text)] of the others — all, or the seeded sample that fits in `corpus_size` beside the judged ones).

    Judged documents missing from the corpus are known only at the end: up to corpus_size others are
    sampled on the way (a max-heap on the negated rank), and the lowest ranks that fit are kept."""
    keep_judged: dict[str, tuple[int, str, str]] = {}
    others: list = []
    seen: set[str] = set()
    for position, (docid, title, text, _where) in enumerate(docs):
        docid = str(docid)
        if docid in seen:
            counts["duplicate_docids"] += 1  # XTREME-UP v1.0's index had a few; the first copy is kept
            continue
        seen.add(docid)
        title = normalise_text(str(title or ""))
        text = normalise_text(str(text or ""))
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


def drop_missing_documents(kept: list[str], judgements, missing: set[str], counts: Counter) -> list[str]:
    """Drops judgements of documents not in the corpus, then the queries left without a relevant one."""
    counts["judged_documents_missing"] = len(missing)
    if missing:
        for q in kept:
            judgements[q] = {d: r for d, r in judgements[q].items() if d not in missing}
        before = len(kept)
        kept = [q for q in kept if any(r > 0 for r in judgements[q].values())]
        counts["queries_lost_with_missing_documents"] = before - len(kept)
    if not kept:
        raise ValueError("no query has a relevant document in the corpus")
    return kept


def write_tables(files: BenchmarkFiles, kept, query_text, corpus, judgements) -> int:
    """Writes queries.tsv, corpus.jsonl and qrels.txt; returns the number of judgements written."""
    for path in files.tables:
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(files.queries, "w", encoding="utf-8") as handle:
        for q in kept:
            handle.write(f"{q}\t{query_text[q]}\n")
    with open(files.corpus, "w", encoding="utf-8") as handle:
        for _, docid, title, text in corpus:
            handle.write(json.dumps({"docid": docid, "title": title, "text": text}, ensure_ascii=False) + "\n")
    n_qrels = 0
    with open(files.qrels, "w", encoding="utf-8") as handle:
        for q in kept:
            for docid, rel in judgements[q].items():
                handle.write(f"{q} 0 {docid} {rel}\n")
                n_qrels += 1
    return n_qrels


# --- a source's whole job: the files, then the manifest --------------------------------------------


def write_source(
    name: str,
    settings: dict,
    files: BenchmarkFiles,
    streams: tuple[Iterable[Query], Iterable[Judgement], Callable[[], Iterator[Document]]],
    inputs: dict,
    packages: tuple[str, ...] = (),
) -> dict:
    """Writes a benchmark from a source's (queries, qrels, docs) streams and its manifest: the source,
    the benchmark, its language, `inputs` (what was read), the sampling settings, the counts, the
    files' checksums and `packages`' versions. `settings`: the validated `benchmarks.<name>` entry."""
    queries, qrels, docs = streams
    sampling = {key: settings[key] for key in ("corpus_size", "max_queries", "seed")}
    counts = write_benchmark(queries, qrels, docs, files, **sampling)
    info = {"source": settings["source"], "benchmark": name, "language": settings["language"], **inputs, **sampling}
    return finish_manifest(files, info, counts, packages)


def finish_manifest(files: BenchmarkFiles, info: dict, counts: dict, packages: Iterable[str]) -> dict:
    manifest = {
        **info,
        "counts": counts,
        "files": {str(p): sha256_of(p) for p in files.tables},
        "packages": package_versions(list(packages)),
    }
    return write_manifest(files.manifest, manifest)
