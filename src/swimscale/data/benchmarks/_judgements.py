"""A benchmark's queries and judgements, checked against its collection and written: `queries.tsv`
(`qid<TAB>text`) and `qrels.txt` (`qid 0 docid rel`, the judgements at or above `min_relevance`).

Nothing is dropped in silence. A query or judgement that cannot be used — an empty or repeated query,
a judgement of an unknown query or of a document that is not in the collection (ids are compared
exactly: `D0` is not `d0`, and the message says when only the case differs), a pair judged twice, a
query without any judgement — stops the job with its file, line and reason (`on_bad_judgement: stop`,
the default). With `on_bad_judgement: drop` such items are left out and counted by kind in the manifest
(and printed by the job), and the job still fails when the queries lost that way exceed
`max_lost_queries` (a share of the queries read). Queries whose judgements are all below
`min_relevance` are not errors (the threshold is the user's choice): they are counted
(`queries_without_relevant`) and left out, since Recall has no meaning for them.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field

from swimscale.data._records import BenchmarkFiles, normalise_text
from swimscale.data._sampling import sample_rank
from swimscale.data.benchmarks._write import Streams

BAD_JUDGEMENT_KINDS = (
    "empty_query",
    "duplicate_query",
    "unknown_query",
    "unknown_document",
    "duplicate_judgement",
    "query_without_judgements",
)


@dataclass
class BadItems:
    """What `on_bad_judgement` does with an item that cannot be used: stop, or drop and count it."""

    name: str
    policy: str  # "stop" | "drop"
    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def __call__(self, kind: str, message: str) -> None:
        if self.policy == "stop":
            raise ValueError(
                f"{message} (benchmark '{self.name}'; set benchmarks.{self.name}.on_bad_judgement: drop to leave "
                "such items out, counted)"
            )
        self.counts[kind] += 1
        examples = self.examples.setdefault(kind, [])
        if len(examples) < 3:
            examples.append(message)


def case_hint(value: str, known_by_folded: dict[str, str], what: str) -> str:
    other = known_by_folded.get(value.casefold())
    return f" (the {what} has '{other}': ids are compared exactly, case included)" if other else ""


def read_queries(queries, bad: BadItems) -> tuple[dict[str, str], dict[str, str], int]:
    """({qid: normalised text}, {qid: where}, queries read); an id with whitespace always stops (the
    files' format cannot hold it)."""
    text: dict[str, str] = {}
    where_of: dict[str, str] = {}
    read = 0
    for qid, query, where in queries:
        read += 1
        qid = str(qid).strip()
        if not qid or any(c.isspace() for c in qid):
            raise ValueError(f"{where}: query id '{qid}' is empty or has whitespace")
        query = normalise_text(str(query if query is not None else ""))
        if qid in where_of:
            bad("duplicate_query", f"{where}: duplicate query id '{qid}' (first at {where_of[qid]})")
        elif not query:
            bad("empty_query", f"{where}: empty query text")
            where_of[qid] = where
        else:
            text[qid], where_of[qid] = query, where
    return text, where_of, read


def read_judgements(qrels, query_text, where_of, docids: set[str], corpus, bad: BadItems, min_relevance: int):
    """({qid: {docid: relevance}} of the usable judgements at or above `min_relevance`, {qid: judged at
    all}, {qid: had a dropped judgement at or above min_relevance}, judgements below it)."""
    judged: dict[str, dict[str, int]] = {}
    seen: dict[tuple[str, str], str] = {}
    any_judgement: set[str] = set()
    lost_relevant: set[str] = set()
    below = 0
    folded_docs = {d.casefold(): d for d in docids}
    folded_queries = {q.casefold(): q for q in where_of}
    for qid, docid, rel, where in qrels:
        qid, docid, rel = str(qid), str(docid), int(rel)
        if not docid or any(c.isspace() for c in docid):
            raise ValueError(f"{where}: document id '{docid}' is empty or has whitespace")
        if qid not in where_of:
            bad("unknown_query", f"{where}: query '{qid}' is not a query of the benchmark"
                + case_hint(qid, folded_queries, "benchmark"))
            continue
        any_judgement.add(qid)
        if (qid, docid) in seen:
            bad("duplicate_judgement", f"{where}: query '{qid}', document '{docid}' judged again (first at {seen[qid, docid]})")
            continue
        seen[qid, docid] = where
        if rel < min_relevance:  # not used, so its document need not be in the collection
            below += 1
            continue
        if docid not in docids:
            bad("unknown_document", f"{where}: document '{docid}' is not in the collection {corpus}"
                + case_hint(docid, folded_docs, "collection"))
            lost_relevant.add(qid)
            continue
        judged.setdefault(qid, {})[docid] = rel
    for qid, where in where_of.items():
        if qid in query_text and qid not in any_judgement:
            bad("query_without_judgements", f"{where}: query '{qid}' has no judgement in the qrels")
    return judged, any_judgement, lost_relevant, below


def write_benchmark(name: str, streams: Streams, docids: set[str], corpus, files: BenchmarkFiles, settings: dict,
                    min_relevance: int) -> tuple[Counter, BadItems]:
    """Checks and writes a benchmark's queries and judgements against its collection's `docids` (read from
    `corpus`). `settings`: the validated `benchmarks.<name>` entry. Returns (counts, what was dropped)."""
    bad = BadItems(name, settings["on_bad_judgement"])
    query_text, where_of, n_read = read_queries(streams.queries, bad)
    judged, _, lost_relevant, below = read_judgements(streams.qrels, query_text, where_of, docids, corpus, bad,
                                                      min_relevance)
    kept = [q for q in query_text if judged.get(q)]
    # Lost: the bad queries themselves, those without any judgement, and those whose relevant judgements
    # were all bad; the others without a relevant judgement fall below min_relevance (not an error).
    unjudged = bad.counts["query_without_judgements"]
    lost_with_judgements = sum(1 for q in query_text if not judged.get(q) and q in lost_relevant)
    lost = n_read - len(query_text) + unjudged + lost_with_judgements
    counts = Counter(queries_read=n_read, queries_lost=lost, judgements_below_min_relevance=below)
    counts["queries_without_relevant"] = len(query_text) - len(kept) - unjudged - lost_with_judgements
    if lost and lost > settings["max_lost_queries"] * n_read:
        raise ValueError(
            f"benchmark '{name}': {lost} of {n_read} queries lost to bad judgements "
            f"({', '.join(f'{k} {n}' for k, n in sorted(bad.counts.items()))}), more than "
            f"benchmarks.{name}.max_lost_queries = {settings['max_lost_queries']}; first: {first_example(bad)}"
        )
    if not kept:
        raise ValueError(f"benchmark '{name}': no query has a judgement at or above min_relevance = {min_relevance} "
                         f"on a document of the collection {corpus}")
    if settings["max_queries"] is not None and settings["max_queries"] < len(kept):
        chosen = set(heapq.nsmallest(settings["max_queries"], kept, key=lambda q: sample_rank(settings["seed"], q)))
        counts["queries_not_sampled"] = len(kept) - len(chosen)
        kept = [q for q in kept if q in chosen]
    write_tables(files, kept, query_text, judged)
    counts.update(queries=len(kept), qrels=sum(len(judged[q]) for q in kept))
    counts["queries_with_more_relevant_than_50"] = sum(len(judged[q]) > 50 for q in kept)
    return counts, bad


def first_example(bad: BadItems) -> str:
    return next((examples[0] for examples in bad.examples.values() if examples), "")


def write_tables(files: BenchmarkFiles, kept: list[str], query_text: dict[str, str], judged: dict) -> None:
    for path in files.tables:
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(files.queries, "w", encoding="utf-8") as handle:
        handle.writelines(f"{q}\t{query_text[q]}\n" for q in kept)
    with open(files.qrels, "w", encoding="utf-8") as handle:
        handle.writelines(f"{q} 0 {docid} {rel}\n" for q in kept for docid, rel in judged[q].items())
