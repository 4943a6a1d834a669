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
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from swimscale.data._records import iter_corpus, iter_pool, text_key
from swimscale.errors import InputError
from swimscale.formats import atomic_open


def passage_keys(title: str, text: str) -> set[bytes]:
    """The hashed forms a passage is matched by: its text, and its title followed by its text."""
    forms = {text_key(text), text_key(f"{title} {text}")}
    return {hashlib.blake2b(form.encode("utf-8"), digest_size=16).digest() for form in forms if form}


@dataclass
class OverlapIndex:
    """{passage key: the (benchmark, docid, relevant) entries of the documents that have it}."""

    entries: dict[bytes, list[tuple[str, str, bool]]] = field(default_factory=dict)

    def add_collection(self, corpus: Path, relevant: dict[str, set[str]]) -> None:
        """One pass over a collection searched by the benchmarks of `relevant` ({benchmark: relevant docids})."""
        for docid, title, text in iter_corpus(corpus):
            tags = [(name, docid, docid in docs) for name, docs in relevant.items()]
            for key in passage_keys(title, text):
                self.entries.setdefault(key, []).extend(tags)

    def matches(self, record: dict) -> list[tuple[str, str, bool]]:
        found = []
        for key in passage_keys(record["title"], record["text"]):
            found.extend(self.entries.get(key, ()))
        return found


def screen_pool(pool: Path, code: str, index: OverlapIndex, mode: str, out: Path, benchmarks: list[str]) -> dict:
    """Streams the pool (every record checked, as `read_pool` does) into `out`, leaving out records that
    overlap a relevant document when `mode` is drop; returns the counts. `out` is written atomically
    (:func:`swimscale.formats.atomic_open`), so a failed job leaves none."""
    counts = {name: {"relevant": 0, "other": 0} for name in benchmarks}
    read = kept = overlapping = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_open(out) as handle:
            for line_no, record in enumerate(iter_pool(pool, code), 1):
                read += 1
                found = index.matches(record)
                relevant_hits = overlap_counts(found, counts)
                if relevant_hits:
                    overlapping += 1
                    if mode == "stop":
                        name, docid = relevant_hits[0]
                        raise InputError(
                            f"{pool}: record {line_no} (_id '{record['_id']}'): its passage is document '{docid}', "
                            f"relevant to a query of benchmark '{name}' (set pools.{code}.overlap: drop to leave such "
                            "records out of training, counted)"
                        )
                    if mode == "drop":
                        continue
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                kept += 1
    except ValueError as err:  # a bad pool record (file, line, reason)
        raise InputError(str(err)) from None
    return {"mode": mode, "pool_records_read": read, "pool_records_kept": kept,
            "overlapping_relevant": overlapping, "dropped": read - kept, "benchmarks": counts}


def overlap_counts(found: list[tuple[str, str, bool]], counts: dict) -> list[tuple[str, str]]:
    """Adds a record's matches to `counts` (once per benchmark: relevant, else other); returns its
    (benchmark, docid) matches with relevant documents."""
    relevant_hits = [(name, docid) for name, docid, relevant in found if relevant]
    relevant_names = {name for name, _ in relevant_hits}
    for name in {name for name, _, _ in found}:
        counts[name]["relevant" if name in relevant_names else "other"] += 1
    return relevant_hits
