"""The overlap screen of the validate stage: no passage that is a relevant document of a benchmark a
language's students are evaluated on (test or dev) enters training.

SWIM-IR's passages and the benchmarks' documents come from the same English Wikipedia (the Indic
passages were even sampled from XTREME-UP's passage pool), so a gold test passage can be a training
passage. Passages are compared as :func:`swimscale.data.text_key` of their text and of "title text"
(case, punctuation and spacing ignored; a document without a title matches a pool passage by its text
alone): one pass over each collection builds hash sets, one pass over the pool looks every record up,
so the check costs a read of each file, not a join per training run.

Each pool record is counted once per benchmark it overlaps: with a relevant document of the
benchmark's queries (`relevant`) or only with other documents of its corpus (`other`). What happens to
a record that overlaps a relevant document is `pools.<code>.overlap`: `drop` (the default: it is left
out of the validated pool), `report` (kept, counted), `stop` (the job stops, naming the record and the
document). Overlaps with other documents are only counted: a training passage that is a distractor in
the corpus tells the student nothing about the answers.

Beyond exact matches, a pool passage that is a near-duplicate of a relevant document (MinHash over word
shingles, verified exactly: :mod:`swimscale.data._neardup`) counts and is handled as a relevant overlap
(also counted as `near_duplicate`), and so does a record whose generated query is the same, exactly or
nearly, as a query of the benchmark (`query`): a training query that is a test query leaks its answer.
Exact query matches are always screened; `pools.<code>.near_duplicate_jaccard` (null by default, 0.7 in
the full study) turns the near-duplicate screen on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from swimscale.data._neardup import PASSAGE_N, QUERY_N, NearIndex
from swimscale.data._records import iter_corpus, iter_pool, text_key
from swimscale.errors import InputError
from swimscale.formats import atomic_open


def passage_keys(title: str, text: str) -> set[bytes]:
    """The hashed forms a passage is matched by: its text, and its title followed by its text."""
    forms = {text_key(text), text_key(f"{title} {text}")}
    return {hashlib.blake2b(form.encode("utf-8"), digest_size=16).digest() for form in forms if form}


def query_key(text: str) -> bytes:
    return hashlib.blake2b(text_key(text).encode("utf-8"), digest_size=16).digest()


@dataclass
class OverlapIndex:
    """{passage key: the (benchmark, docid, relevant) entries of the documents that have it}; with a
    Jaccard threshold `jaccard` (``pools.<code>.near_duplicate_jaccard``), the relevant documents' and the benchmarks' queries' near-duplicate indexes."""

    jaccard: float | None = None
    entries: dict[bytes, list[tuple[str, str, bool]]] = field(default_factory=dict)
    queries: dict[bytes, list[tuple[str, str]]] = field(default_factory=dict)
    near: NearIndex | None = None
    near_queries: NearIndex | None = None

    def __post_init__(self) -> None:
        if self.jaccard is not None:
            self.near, self.near_queries = NearIndex(self.jaccard, PASSAGE_N), NearIndex(self.jaccard, QUERY_N)

    def add_collection(self, corpus: Path, relevant: dict[str, set[str]]) -> None:
        """One pass over a collection searched by the benchmarks of `relevant` ({benchmark: relevant docids})."""
        for docid, title, text in iter_corpus(corpus):
            tags = [(name, docid, docid in docs) for name, docs in relevant.items()]
            for key in passage_keys(title, text):
                self.entries.setdefault(key, []).extend(tags)
            if self.near is not None and any(relevant_to for _, _, relevant_to in tags):
                self.near.add(text, [tag for tag in tags if tag[2]], windowed=True)

    def add_queries(self, name: str, queries: dict[str, str]) -> None:
        """A benchmark's queries ({qid: text}), matched exactly (text_key) and, with `jaccard`, nearly."""
        for qid, text in queries.items():
            self.queries.setdefault(query_key(text), []).append((name, qid))
            if self.near_queries is not None:
                self.near_queries.add(text, [(name, qid)])

    def matches(self, record: dict) -> list[tuple[str, str, bool]]:
        found = []
        for key in passage_keys(record["title"], record["text"]):
            found.extend(self.entries.get(key, ()))
        return found

    def near_matches(self, record: dict) -> list[tuple[str, str, bool]]:
        """The relevant documents the record's passage is a near-duplicate of (none without `jaccard`)."""
        return self.near.matches(record["text"]) if self.near is not None else []

    def query_matches(self, record: dict) -> list[tuple[str, str]]:
        """The (benchmark, qid) of the benchmark queries the record's query equals, exactly or nearly."""
        found = list(self.queries.get(query_key(record["query"]), ()))
        if not found and self.near_queries is not None:
            found = self.near_queries.matches(record["query"])
        return found


def screen_pool(pool: Path, code: str, index: OverlapIndex, mode: str, out: Path, benchmarks: list[str]) -> dict:
    """Streams the pool (every record checked, as `read_pool` does) into `out`, leaving out records that
    overlap a relevant document when `mode` is drop; returns the counts. `out` is written atomically
    (:func:`swimscale.formats.atomic_open`), so a failed job leaves none."""
    counts = {name: {"relevant": 0, "other": 0, "near_duplicate": 0, "query": 0} for name in benchmarks}
    tally = {"read": 0, "kept": 0, "relevant": 0, "near": 0, "query": 0}
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_open(out) as handle:
            # An empty pool is a zero-data control's (validated before: check_pool_file).
            records = iter_pool(pool, code) if pool.stat().st_size else iter(())
            for line_no, record in enumerate(records, 1):
                tally["read"] += 1
                leak = screen_record(record, index, counts, tally)
                if leak:
                    if mode == "stop":
                        raise InputError(f"{pool}: record {line_no} (_id '{record['_id']}'): {leak} (set "
                                         f"pools.{code}.overlap: drop to leave such records out of training, counted)")
                    if mode == "drop":
                        continue
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                tally["kept"] += 1
    except ValueError as err:  # a bad pool record (file, line, reason)
        raise InputError(str(err)) from None
    return {"mode": mode, "near_duplicate_jaccard": index.jaccard, "pool_records_read": tally["read"],
            "pool_records_kept": tally["kept"], "overlapping_relevant": tally["relevant"],
            "near_duplicates": tally["near"], "overlapping_queries": tally["query"],
            "dropped": tally["read"] - tally["kept"], "benchmarks": counts}


def screen_record(record: dict, index: OverlapIndex, counts: dict, tally: dict) -> str:
    """Counts one pool record's overlaps; returns why it leaks ('' if it does not): its passage is (or
    nearly is) a relevant document, or its query is (or nearly is) a benchmark query."""
    found = index.matches(record)
    near = [] if any(relevant for _, _, relevant in found) else index.near_matches(record)
    relevant_hits = overlap_counts(found + near, counts)
    for name in {name for name, _, _ in near}:
        counts[name]["near_duplicate"] += 1
    tally["near"] += bool(near)
    queries = index.query_matches(record)
    for name in {name for name, _ in queries}:
        counts[name]["query"] += 1
    tally["query"] += bool(queries)
    if relevant_hits:
        tally["relevant"] += 1
        name, docid = relevant_hits[0]
        what = "a near-duplicate of document" if near else "document"
        return f"its passage is {what} '{docid}', relevant to a query of benchmark '{name}'"
    if queries:
        name, qid = queries[0]
        return f"its query is (nearly) query '{qid}' of benchmark '{name}'"
    return ""


def overlap_counts(found: list[tuple[str, str, bool]], counts: dict) -> list[tuple[str, str]]:
    """Adds a record's matches to `counts` (once per benchmark: relevant, else other); returns its
    (benchmark, docid) matches with relevant documents."""
    relevant_hits = [(name, docid) for name, docid, relevant in found if relevant]
    relevant_names = {name for name, _ in relevant_hits}
    for name in {name for name, _, _ in found}:
        counts[name]["relevant" if name in relevant_names else "other"] += 1
    return relevant_hits
