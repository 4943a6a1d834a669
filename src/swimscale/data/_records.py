"""Training pools and benchmarks in one normalised on-disk form.

Pool: JSONL in SWIM-IR's cross-lingual schema (`_id, lang, code, query, title, text`): `query` in the
low-resource language, `text` the English passage; an optional `query_en` holds an English
translation of the query (bitext such as the demo's Bible pairs, or machine-translated queries).
Benchmark: `queries.tsv` (`qid<TAB>text`) and TREC qrels (`qid 0 docid rel`); the documents it
searches are its collection's `corpus.jsonl` (`docid, title, text`), which several benchmarks may
share — the layout of local TREC-style benchmarks, so one reader serves every source.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from swimscale.data._seen import SeenIds
from swimscale.errors import InputError
from swimscale.formats import ReadError, decoded_lines, numbered_lines

POOL_FIELDS = ("_id", "lang", "code", "query", "title", "text")


class _Paths:
    """`at(...)`: the dataclass from its paths, given as strings or paths, in field order."""

    @classmethod
    def at(cls, *paths):
        return cls(*map(Path, paths))


@dataclass(frozen=True)
class BenchmarkFiles(_Paths):
    """Where a prepared benchmark goes: its queries, its judgements and its manifest (its documents are
    its collection's, :class:`CollectionFiles`)."""

    queries: Path
    qrels: Path
    manifest: Path

    @property
    def tables(self) -> tuple[Path, Path]:
        return self.queries, self.qrels


@dataclass(frozen=True)
class CollectionFiles(_Paths):
    """Where a prepared document collection goes: its corpus and its manifest."""

    corpus: Path
    manifest: Path


@dataclass(frozen=True)
class PoolFiles(_Paths):
    """Where a prepared training pool goes: the pool and its manifest."""

    pool: Path
    manifest: Path


# Recall@k is reported at this depth: a corpus of at most this many documents makes it 1 for every run.
RECALL_DEPTH = 50


def package_versions(names: list[str]) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def normalise_text(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def text_key(text: str) -> str:
    """What two texts must share to count as the same text: Unicode NFKC, case-folded, punctuation
    removed, whitespace collapsed. Used to keep training text out of the evaluation sets (the Bible
    split, the overlap screen of the validate stage)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.translate(_PUNCTUATION_TO_SPACE).split())


class _PunctuationToSpace(dict):
    """str.translate's table for text_key: a punctuation character (Unicode category P*) maps to a
    space, any other to itself; each character's category is looked up once (a per-character Python
    loop made the validate stage's overlap screen take minutes on a 100k pool)."""

    def __missing__(self, code: int):
        value = " " if unicodedata.category(chr(code)).startswith("P") else code
        self[code] = value
        return value


_PUNCTUATION_TO_SPACE = _PunctuationToSpace()


def small_corpus_warnings(n_documents: int) -> list[str]:
    """The warning a corpus too small for Recall@50 carries in its manifests and the validate report."""
    if n_documents > RECALL_DEPTH:
        return []
    return [
        f"small_corpus: {n_documents} documents, at most {RECALL_DEPTH}: Recall@{RECALL_DEPTH} is 1 for every run "
        "(every document is retrieved), so it cannot grow with N"
    ]


def checksums(paths) -> dict[str, str]:
    """{path: SHA-256} of files (read or written), for manifests."""
    return {str(p): sha256_of(Path(p)) for p in paths}


def write_jsonl(path: Path, rows) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_manifest(path: Path, manifest: dict) -> dict:
    """Writes a prepare job's manifest (counts, checksums, package versions) as indented UTF-8 JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_problem(
    record, code: str | None = None, language_name: str | None = None, seen: SeenIds | dict | None = None, where=None
) -> tuple[str, str] | None:
    """(reason kind, message) for a pool record that must not be used, None for a good one.

    Kinds: not_an_object, missing_field, wrong_type (a field that is not a string: `"query": ["a"]` is
    not a query), empty_query, empty_text, wrong_code, wrong_lang, duplicate_id (malformed_json and
    not_utf8 are detected by the readers, before a record exists). `seen` maps the _ids accepted
    so far to where they were ("line 3", "row 7"); a good record is added to it.
    """
    if not isinstance(record, dict):
        return "not_an_object", "expected a JSON object"
    missing = [field for field in POOL_FIELDS if field not in record or record[field] is None]
    if missing:
        return "missing_field", f"missing field(s) {', '.join(missing)}"
    for field in (*POOL_FIELDS, "query_en"):
        if field in record and not isinstance(record[field], str):  # never stringified: a list is not a query
            return "wrong_type", f"field '{field}' is {_a(type(record[field]).__name__)}, not a string"
    for field in ("query", "text"):
        if not record[field].strip():
            return f"empty_{field}", f"empty '{field}'"
    if code is not None and record["code"] != code:
        return "wrong_code", f"code '{record['code']}' but language '{code}' was requested"
    if language_name is not None and record["lang"] != language_name:
        return "wrong_lang", f"lang '{record['lang']}' but '{language_name}' was requested"
    if seen is not None:
        if record["_id"] in seen:
            return "duplicate_id", f"duplicate _id '{record['_id']}' (first on {seen[record['_id']]})"
        seen[record["_id"]] = where
    return None


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def iter_jsonl_records(path: Path):
    """(line number, parsed record) for every non-blank line; a malformed line raises ValueError with
    file, line and reason unless the caller catches it per line (see `iter_jsonl_lines`)."""
    for line_no, record, error in iter_jsonl_lines(path):
        if error is not None:
            raise ValueError(f"{path}: line {line_no}: {error}")
        yield line_no, record


def iter_jsonl_lines(path: Path):
    """(line number, record or None, ReadError or None) for every non-blank line, streamed."""
    for line_no, line, error in decoded_lines(path):
        if error is not None:
            yield line_no, None, error
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            yield line_no, None, ReadError("malformed_json", f"malformed JSON ({err.msg})")
        else:
            yield line_no, record, None


def iter_pool(path: Path, code: str | None = None):
    """Streams and validates a pool JSONL: any bad record raises ValueError with file, line and reason.
    Memory holds a digest of each _id (for the duplicate check, :class:`SeenIds`), not the records."""
    seen = SeenIds()
    for line_no, record, error in iter_jsonl_lines(path):
        where = f"{path}: line {line_no}"
        if error is not None:
            raise ValueError(f"{where}: {error}")
        problem = record_problem(record, code=code, seen=seen, where=f"line {line_no}")
        if problem is not None:
            raise ValueError(f"{where}: {problem[1]}")
        yield record
    if not seen:
        raise ValueError(f"{path}: no records")


def read_pool(path: Path, code: str | None = None) -> list[dict]:
    """Reads and validates a pool JSONL; any bad record raises ValueError with file, line and reason."""
    return list(iter_pool(path, code))


def read_queries(path: Path) -> dict[str, str]:
    queries = {}
    for line_no, line in numbered_lines(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 2 or not parts[0] or not parts[1].strip():
            raise ValueError(f"{path}: line {line_no}: expected 'qid<TAB>text'")
        if parts[0] in queries:
            raise ValueError(f"{path}: line {line_no}: duplicate query id '{parts[0]}'")
        queries[parts[0]] = parts[1]
    return queries


def iter_corpus(path: Path):
    """(docid, title, text) of every document of a prepared corpus, in file order; a malformed line or a
    repeated docid stops with file and line."""
    seen: set[str] = set()
    for line_no, line in numbered_lines(path):
        try:
            doc = json.loads(line)
            docid, title, text = str(doc["docid"]), doc.get("title") or "", doc["text"]
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
            raise InputError(f"{path}: line {line_no}: not a corpus record ({err})") from None
        if docid in seen:
            raise InputError(f"{path}: line {line_no}: duplicate docid '{docid}'")
        seen.add(docid)
        yield docid, title, text


def read_corpus_ids(path: Path) -> set[str]:
    """The docids of a prepared corpus."""
    return {docid for docid, _, _ in iter_corpus(path)}


def read_corpus(path: Path) -> tuple[list[str], list[str]]:
    """(docids, texts) in file order; a title, when present, is prefixed to the text."""
    docids, texts = [], []
    for docid, title, text in iter_corpus(path):
        docids.append(docid)
        texts.append(f"{title}. {text}" if title else text)
    return docids, texts
