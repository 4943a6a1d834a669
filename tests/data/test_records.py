import json

import pytest

from swimscale import data
from swimscale.config import defaults

BOOKS = ["Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth", "1 Samuel", "2 Samuel"]


def write_bibles(tmp_path, verses_per_chapter=4, chapters=2):
    """Both Bibles in their packages' real layouts: `<book>/<chapter>.json` lists and KJV JSONL."""
    ny_dir = tmp_path / "resources"
    tmp_path.mkdir(parents=True, exist_ok=True)
    kjv = tmp_path / "kjv.jsonl"
    with open(kjv, "w") as handle:
        for b, name in enumerate(BOOKS, 1):
            for c in range(1, chapters + 1):
                (ny_dir / str(b)).mkdir(parents=True, exist_ok=True)
                texts = [f"Chichewa {b} {c} {v}  mawu" for v in range(1, verses_per_chapter + 1)]
                (ny_dir / str(b) / f"{c}.json").write_text(json.dumps(texts))
                for v in range(1, verses_per_chapter + 1):
                    row = {"citation": f"{name} {c}:{v}", "text": f"English {b} {c} {v}", "book": name,
                           "chapter": c, "verse": v}
                    handle.write(json.dumps(row) + "\n")
    return ny_dir, kjv


def prepare(tmp_path, **bible):
    """prepare_bible as the rule calls it, on small Bibles; `bible`: keys of the config's `bible` section
    (the schema's defaults for the others)."""
    ny_dir, kjv = write_bibles(tmp_path)
    out = tmp_path / "out"
    settings = {**defaults("bible"), "n_queries": 6, "query_seed": 1, **bible}
    files = data.BenchmarkFiles(queries=out / "queries.tsv", corpus=out / "corpus.jsonl", qrels=out / "qrels.txt",
                                manifest=out / "manifest.json")
    manifest = data.prepare_bible(code="ny", language_name="Chichewa", settings=settings, pool_path=out / "pool.jsonl",
                                  files=files, ny_resources=ny_dir, kjv_path=kjv)
    return manifest, out


def test_prepare_splits_by_book_without_leakage(tmp_path):
    manifest, out = prepare(tmp_path)
    pool = data.read_pool(out / "pool.jsonl", code="ny")
    assert set(pool[0]) == set(data.POOL_FIELDS) | {"query_en"}
    assert all(r["query_en"] == r["text"] for r in pool)  # Bible pairs: the English side is a translation
    train_books = {r["_id"].split("-")[2] for r in pool}
    assert train_books == {"01", "02", "03", "04", "06", "07", "08", "09"}
    queries = data.read_queries(out / "queries.tsv")
    docids, _ = data.read_corpus(out / "corpus.jsonl")
    assert len(queries) == 6 and len(docids) == 2 * 2 * 4  # books 5 and 10, 2 chapters of 4 verses
    assert all(q.split("-")[1] in {"05", "10"} for q in queries)
    qrels = [line.split() for line in (out / "qrels.txt").read_text().splitlines()]
    assert {q for q, _, _, _ in qrels} == set(queries)
    assert all(d in docids and d.replace("kjv-", "ny-") == q for q, _, d, _ in qrels)
    assert manifest["alignment"]["aligned_verses"] == 80
    assert manifest["counts"] == {"pool_records": 64, "train_books": 8, "test_books": 2,
                                  "held_out_aligned_verses": 16, "corpus_documents": 16, "queries": 6}
    assert set(manifest["files"]) == {str(out / n) for n in ("pool.jsonl", "queries.tsv", "corpus.jsonl", "qrels.txt")}
    # Whitespace is normalised and the texts are the aligned pair.
    assert pool[0]["query"] == "Chichewa 1 1 1 mawu" and pool[0]["text"] == "English 1 1 1"


def test_prepare_is_deterministic_and_subsets_work(tmp_path):
    _, out = prepare(tmp_path / "a", corpus_size=10, max_pool_records=20)
    _, again = prepare(tmp_path / "b", corpus_size=10, max_pool_records=20)
    for name in ("pool.jsonl", "queries.tsv", "corpus.jsonl", "qrels.txt"):
        assert (out / name).read_bytes() == (again / name).read_bytes()
    docids, _ = data.read_corpus(out / "corpus.jsonl")
    assert len(docids) == 10 and len(data.read_pool(out / "pool.jsonl")) == 20
    relevant = {line.split()[2] for line in (out / "qrels.txt").read_text().splitlines()}
    assert relevant <= set(docids)


def test_prepare_rejects_impossible_requests(tmp_path):
    with pytest.raises(ValueError, match="n_queries = 100 but the held-out books have only 16"):
        prepare(tmp_path / "a", n_queries=100)
    with pytest.raises(ValueError, match="corpus_size = 3 is below the 6 relevant"):
        prepare(tmp_path / "b", corpus_size=3)


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
