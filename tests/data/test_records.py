import json
from pathlib import Path

import pytest
import yaml

from swimscale import data
from swimscale.config import defaults
from swimscale.retrieval import _metrics as metrics

ROOT = Path(__file__).resolve().parents[2]

BOOKS = ["Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth", "1 Samuel", "2 Samuel"]


def write_bibles(tmp_path, verses_per_chapter=4, chapters=2, english=None, chichewa=None):
    """Both Bibles in their packages' real layouts: `<book>/<chapter>.json` lists and KJV JSONL.
    `english`/`chichewa`: {(book, chapter, verse): text} replacing the generated texts (repeated verses)."""
    english, chichewa = english or {}, chichewa or {}
    ny_dir = tmp_path / "resources"
    tmp_path.mkdir(parents=True, exist_ok=True)
    kjv = tmp_path / "kjv.jsonl"
    with open(kjv, "w") as handle:
        for b, name in enumerate(BOOKS, 1):
            for c in range(1, chapters + 1):
                (ny_dir / str(b)).mkdir(parents=True, exist_ok=True)
                texts = [chichewa.get((b, c, v), f"Chichewa {b} {c} {v}  mawu") for v in range(1, verses_per_chapter + 1)]
                (ny_dir / str(b) / f"{c}.json").write_text(json.dumps(texts))
                for v in range(1, verses_per_chapter + 1):
                    row = {"citation": f"{name} {c}:{v}", "text": english.get((b, c, v), f"English {b} {c} {v}"),
                           "book": name, "chapter": c, "verse": v}
                    handle.write(json.dumps(row) + "\n")
    return ny_dir, kjv


def bible_outputs(out):
    def held(name):
        return data.HeldOutFiles(
            data.BenchmarkFiles.at(out / name / "queries.tsv", out / name / "qrels.txt", out / f"benchmark-{name}.json"),
            data.CollectionFiles.at(out / "collections" / name / "corpus.jsonl", out / f"collection-{name}.json"),
        )

    return data.PoolFiles.at(out / "pool.jsonl", out / "pool-ny.json"), held("bible-ny-en"), held("bible-ny-en-dev")


def prepare(tmp_path, english=None, chichewa=None, **bible):
    """prepare_bible as the rule calls it, on small Bibles (books 5 and 10 test, 3, 6 and 9 dev); `bible`:
    keys of the config's `bible` section (the schema's defaults for the others)."""
    ny_dir, kjv = write_bibles(tmp_path, english=english, chichewa=chichewa)
    out = tmp_path / "out"
    settings = {**defaults("bible"), "n_queries": 6, "n_dev_queries": 4, "dev_book_every": 3, "query_seed": 1, **bible}
    pool, test, dev = bible_outputs(out)
    manifests = data.prepare_bible(code="ny", language_name="Chichewa", settings=settings, pool=pool, test=test, dev=dev,
                                   ny_resources=ny_dir, kjv_path=kjv)
    return manifests, out


def books_of(ids):
    return {i.split("-")[-3] for i in ids}


def test_prepare_splits_by_book_without_leakage(tmp_path):
    manifests, out = prepare(tmp_path)
    pool = data.read_pool(out / "pool.jsonl", code="ny")
    assert set(pool[0]) == set(data.POOL_FIELDS) | {"query_en"}
    assert all(r["query_en"] == r["text"] for r in pool)  # Bible pairs: the English side is a translation
    assert books_of(r["_id"] for r in pool) == {"01", "02", "04", "07", "08"}
    for name, books, n_queries in (("bible-ny-en", {"05", "10"}, 6), ("bible-ny-en-dev", {"03", "06", "09"}, 4)):
        queries = data.read_queries(out / name / "queries.tsv")
        docids, _ = data.read_corpus(out / "collections" / name / "corpus.jsonl")
        assert len(queries) == n_queries and books_of(queries) <= books and books_of(docids) == books
        assert len(docids) == len(books) * 2 * 4  # every English verse of the books: 2 chapters of 4 verses
        qrels = [line.split() for line in (out / name / "qrels.txt").read_text().splitlines()]
        assert {q for q, _, _, _ in qrels} == set(queries)
        assert all(d in docids and d.replace("kjv-", "ny-") == q for q, _, d, _ in qrels)
    assert manifests["pool"]["alignment"]["aligned_verses"] == 80
    assert manifests["pool"]["counts"] == {"pool_records": 40, "training_book_pairs_after_screen": 40,
                                           "train_books": 5, "test_books": 2, "dev_books": 3}
    assert manifests["pool"]["books"]["dev"] == ["Leviticus", "Joshua", "1 Samuel"]
    assert manifests["test"]["role"] == "test" and manifests["dev"]["role"] == "dev"
    assert manifests["dev"]["collection"] == "bible-ny-en-dev"
    assert set(manifests["test"]["files"]) == {str(out / "bible-ny-en" / n) for n in ("queries.tsv", "qrels.txt")}
    # Whitespace is normalised and the texts are the aligned pair.
    assert pool[0]["query"] == "Chichewa 1 1 1 mawu" and pool[0]["text"] == "English 1 1 1"


def test_repeated_verses_never_cross_the_split(tmp_path):
    """A verse repeated word for word (up to case and punctuation) in a held-out book leaves the pool
    and, when it repeats a test verse, the dev split; a query whose verse repeats in its own corpus has
    every copy as a relevant document."""
    english = {(1, 1, 1): "And the LORD spake unto Moses, saying,", (5, 1, 1): "and the Lord spake unto Moses saying:",
               (3, 1, 2): "Test verse again.", (10, 2, 4): "Test verse again", (5, 2, 3): "Twice in one book.",
               (5, 2, 4): "Twice in one book."}
    chichewa = {(2, 1, 1): "Mawu obwerezedwa", (6, 1, 1): "mawu obwerezedwa."}
    manifests, out = prepare(tmp_path, english=english, chichewa=chichewa, n_queries=16, n_dev_queries=23)
    pool_ids = {r["_id"] for r in data.read_pool(out / "pool.jsonl", code="ny")}
    assert "bible-ny-01-001-001" not in pool_ids and "bible-ny-02-001-001" not in pool_ids
    assert manifests["pool"]["screened"] == {"pool_pairs_with_held_out_text": 2, "dev_verses_with_test_text": 1,
                                             "dev_documents_with_test_text": 1}
    dev_docs, _ = data.read_corpus(out / "collections" / "bible-ny-en-dev" / "corpus.jsonl")
    assert "kjv-03-001-002" not in dev_docs and "ny-03-001-002" not in data.read_queries(out / "bible-ny-en-dev" / "queries.tsv")
    qrels = metrics.read_qrels(out / "bible-ny-en" / "qrels.txt")
    assert qrels["ny-05-002-003"] == {"kjv-05-002-003": 1, "kjv-05-002-004": 1}
    assert manifests["test"]["counts"]["queries_with_several_relevant"] == 2


def test_prepare_is_deterministic_and_subsets_work(tmp_path):
    _, out = prepare(tmp_path / "a", corpus_size=10, dev_corpus_size=5, max_pool_records=20)
    _, again = prepare(tmp_path / "b", corpus_size=10, dev_corpus_size=5, max_pool_records=20)
    for name in ("pool.jsonl", "bible-ny-en/queries.tsv", "bible-ny-en-dev/qrels.txt",
                 "collections/bible-ny-en/corpus.jsonl", "collections/bible-ny-en-dev/corpus.jsonl"):
        assert (out / name).read_bytes() == (again / name).read_bytes()
    for name, size in (("bible-ny-en", 10), ("bible-ny-en-dev", 5)):
        docids, _ = data.read_corpus(out / "collections" / name / "corpus.jsonl")
        relevant = {line.split()[2] for line in (out / name / "qrels.txt").read_text().splitlines()}
        assert len(docids) == size and relevant <= set(docids)
    assert len(data.read_pool(out / "pool.jsonl")) == 20


def test_prepare_rejects_impossible_requests(tmp_path):
    with pytest.raises(ValueError, match="n_queries = 100 but the held-out books have only 16"):
        prepare(tmp_path / "a", n_queries=100)
    with pytest.raises(ValueError, match="corpus_size = 3 is below the 6 relevant"):
        prepare(tmp_path / "b", corpus_size=3)
    with pytest.raises(ValueError, match="n_dev_queries = 30 but the held-out books have only 24"):
        prepare(tmp_path / "c", n_dev_queries=30)


def test_the_real_bibles_split_into_disjoint_pool_dev_and_test(tmp_path):
    """The demo's split (config/config.yaml) on the bundled Bibles, checked on the prepared files: pool,
    dev and test share no Chichewa query text and no English text, no test or dev document is a
    training counterpart, and the sizes are the demo's (2,000 test queries, 300 dev queries, every
    English verse of the dev books)."""
    settings = {**defaults("bible"), **yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["bible"]}
    out = tmp_path / "out"
    pool_files, test, dev = bible_outputs(out)
    data.prepare_bible(code="ny", language_name="Chichewa", settings=settings, pool=pool_files, test=test, dev=dev)
    pool = data.read_pool(pool_files.pool, code="ny")
    splits = {}
    for name, files in (("test", test), ("dev", dev)):
        queries = data.read_queries(files.benchmark.queries)
        docids, texts = data.read_corpus(files.collection.corpus)
        qrels = metrics.read_qrels(files.benchmark.qrels)
        relevant = {d for docs in qrels.values() for d in docs}
        splits[name] = {"queries": {data.text_key(t) for t in queries.values()}, "documents": {data.text_key(t) for t in texts},
                        "relevant": {data.text_key(t) for d, t in zip(docids, texts) if d in relevant},
                        "n_queries": len(queries), "n_documents": len(docids)}
    pool_source = {data.text_key(r["query"]) for r in pool}
    pool_english = {data.text_key(r["text"]) for r in pool}
    for name in ("test", "dev"):
        assert not pool_source & splits[name]["queries"], name
        assert not pool_english & splits[name]["documents"], name  # so no relevant document either
    assert not splits["dev"]["queries"] & splits["test"]["queries"]
    assert not splits["dev"]["documents"] & splits["test"]["documents"]
    assert splits["test"]["n_queries"] == 2000 and splits["dev"]["n_queries"] == 300
    kjv, books = data.read_kjv(data.bundled_bible_paths()[1])
    dev_books = set(data.dev_books(len(books), settings["test_book_every"], settings["dev_book_every"]))
    assert dev_books == {22, 44, 66}
    in_dev_books = sum(1 for (b, _, _), (_, text) in kjv.items() if b in dev_books and text)
    assert in_dev_books - 1 <= splits["dev"]["n_documents"] <= in_dev_books  # all of them, but one repeating a test verse
    assert len(pool) == 24494


def test_real_bundled_bibles_align():
    ny_dir, kjv_path = data.bundled_bible_paths()
    kjv, books = data.read_kjv(kjv_path)
    aligned, counts = data.align_bibles(data.read_chichewa(ny_dir), kjv)
    assert len(books) == 66 and books[0] == "Genesis" and books[-1] == "Revelation"
    assert counts["aligned_verses"] > 31000
    assert data.test_books(66, 5) == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65]


GOOD = {"_id": "a", "lang": "Chichewa", "code": "ny", "query": "q", "title": "t", "text": "x"}


@pytest.mark.parametrize(
    "lines, message",
    [
        (['{"_id": "a", '], "line 1: malformed JSON"),
        ([json.dumps({k: v for k, v in GOOD.items() if k != "text"})], "line 1: missing field"),
        ([json.dumps({**GOOD, "query": "  "})], "line 1: empty 'query'"),
        ([json.dumps(GOOD), json.dumps(GOOD)], "line 2: duplicate _id 'a'"),
        ([json.dumps({**GOOD, "code": "yo"})], "code 'yo' but language 'ny'"),
        ([json.dumps([1, 2])], "expected a JSON object"),
        ([], "no records"),
    ],
)
def test_read_pool_names_file_line_and_reason(tmp_path, lines, message):
    path = tmp_path / "pool.jsonl"
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    with pytest.raises(ValueError, match=message) as err:
        data.read_pool(path, code="ny")
    assert str(path) in str(err.value)


def test_read_queries_and_corpus_errors(tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\thello\nq2 no tab\n")
    with pytest.raises(ValueError, match="q.tsv: line 2"):
        data.read_queries(queries)
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"docid": "d1", "text": "a"}\n{"docid": "d1", "text": "b"}\n')
    with pytest.raises(ValueError, match="c.jsonl: line 2: duplicate docid"):
        data.read_corpus(corpus)
