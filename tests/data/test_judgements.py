"""A benchmark's queries and judgements checked against its collection: what cannot be used stops the
job with file, line and reason (on_bad_judgement: stop, the default) or is dropped, counted and bounded
(drop); every reader decodes line by line, so bytes that are not UTF-8 are named by line and column."""

import json
from pathlib import Path

import pytest

from swimscale import data
from swimscale.config import defaults
from swimscale.data import benchmarks
from swimscale.retrieval import _metrics as metrics


def trec(tmp_path, queries, qrels, docs=("d0", "d1", "d2", "d3", "d4"), **keys):
    """A trec benchmark entry over local files (written as given: str or bytes), its collection prepared."""
    src = tmp_path / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name, content in (("q.tsv", queries), ("qrels.txt", qrels)):
        (src / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    (src / "c.jsonl").write_text("".join(json.dumps({"docid": d, "text": f"text of {d}"}) + "\n" for d in docs))
    bench = {**defaults("benchmarks"), "source": "trec", "language": "sw", "queries": str(src / "q.tsv"),
             "corpus": str(src / "c.jsonl"), "qrels": str(src / "qrels.txt"), **keys}
    corpus = data.CollectionFiles.at(tmp_path / "out" / "corpus.jsonl", tmp_path / "out" / "collection.json")
    benchmarks.prepare_collection("t", {"t": bench}, corpus, tmp_path)
    return bench, corpus.corpus


def prepare(tmp_path, bench, corpus):
    files = data.BenchmarkFiles.at(tmp_path / "out" / "queries.tsv", tmp_path / "out" / "qrels.txt",
                                   tmp_path / "out" / "benchmark.json")
    return benchmarks.prepare_benchmark("t", bench, corpus, files, tmp_path), files


QUERIES = "".join(f"q{i}\tswali {i}\n" for i in range(5))
GOOD_QRELS = "".join(f"q{i} 0 d{i} 1\n" for i in range(5))


def test_ids_in_another_case_stop_with_file_line_and_a_hint(tmp_path):
    """The reported case: qrels naming D0..D3 against documents d0..d3 shrank 5 queries to 1 with exit 0."""
    qrels = "".join(f"q{i} 0 D{i} 1\n" for i in range(4)) + "q4 0 d4 1\n"
    bench, corpus = trec(tmp_path, QUERIES, qrels)
    with pytest.raises(ValueError) as err:
        prepare(tmp_path, bench, corpus)
    assert str(err.value) == (
        f"{bench['qrels']}: line 1: document 'D0' is not in the collection {corpus} (the collection has 'd0': ids are "
        "compared exactly, case included) (benchmark 't'; set benchmarks.t.on_bad_judgement: drop to leave such "
        "items out, counted)")


BAD = {
    "unknown_query": (GOOD_QRELS + "q9 0 d1 1\n", "line 6: query 'q9' is not a query of the benchmark"),
    "unknown_document": (GOOD_QRELS.replace("q2 0 d2", "q2 0 d99"), "line 3: document 'd99' is not in the collection"),
    "duplicate_judgement": (GOOD_QRELS + "q1 0 d1 2\n", "line 6: query 'q1', document 'd1' judged again (first at"),
    "query_without_judgements": (GOOD_QRELS.replace("q3 0 d3 1\n", ""), "line 4: query 'q3' has no judgement in the qrels"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_each_bad_judgement_stops_then_drop_counts_it(tmp_path, kind):
    qrels, reason = BAD[kind]
    bench, corpus = trec(tmp_path, QUERIES, qrels)
    with pytest.raises(ValueError) as err:
        prepare(tmp_path, bench, corpus)
    assert reason in str(err.value) and "on_bad_judgement: drop" in str(err.value)
    assert str(err.value).startswith(bench["queries"] if kind == "query_without_judgements" else bench["qrels"])
    # drop: left out and counted; a lost query counts against max_lost_queries (here 1 of 5 = 20 %)
    lost = kind in ("unknown_document", "query_without_judgements")
    manifest, files = prepare(tmp_path, {**bench, "on_bad_judgement": "drop", "max_lost_queries": 0.2}, corpus)
    assert manifest["dropped"][kind] == 1 and sum(manifest["dropped"].values()) == 1
    assert manifest["dropped_examples"][kind][0].startswith(str(err.value).split(" (benchmark")[0][:40])
    assert manifest["counts"]["queries"] == 5 - lost and manifest["counts"]["queries_lost"] == lost
    if lost:
        with pytest.raises(ValueError, match=r"benchmark 't': 1 of 5 queries lost to bad judgements .* more than "
                                             r"benchmarks.t.max_lost_queries = 0.05"):
            prepare(tmp_path, {**bench, "on_bad_judgement": "drop"}, corpus)


def test_bad_queries_stop_then_drop_counts_them(tmp_path):
    queries = QUERIES + "q1\tagain\nq5\t  \n"
    bench, corpus = trec(tmp_path, queries, GOOD_QRELS)
    with pytest.raises(ValueError, match=rf"{bench['queries']}: line 6: duplicate query id 'q1' \(first at .*q.tsv: line 2\)"):
        prepare(tmp_path, bench, corpus)
    manifest, _ = prepare(tmp_path, {**bench, "on_bad_judgement": "drop", "max_lost_queries": 0.5}, corpus)
    assert manifest["dropped"]["duplicate_query"] == 1 and manifest["dropped"]["empty_query"] == 1
    assert manifest["counts"]["queries_read"] == 7 and manifest["counts"]["queries_lost"] == 2


def test_below_min_relevance_is_counted_not_an_error(tmp_path):
    qrels = GOOD_QRELS.replace("q4 0 d4 1", "q4 0 d4 0") + "q0 0 gone 0\n"  # a 0 on a document not in the collection
    bench, corpus = trec(tmp_path, QUERIES, qrels)
    manifest, files = prepare(tmp_path, bench, corpus)
    assert manifest["counts"]["queries_without_relevant"] == 1 and manifest["counts"]["queries_lost"] == 0
    assert manifest["counts"]["judgements_below_min_relevance"] == 2 and manifest["settings"]["min_relevance"] == 1
    assert sorted(metrics.read_qrels(files.qrels)) == ["q0", "q1", "q2", "q3"]
    counts = manifest["counts"]
    assert counts["queries_read"] == counts["queries"] + counts["queries_without_relevant"]  # every query accounted for


@pytest.mark.parametrize("part", ["queries", "qrels", "corpus"])
def test_bytes_that_are_not_utf8_are_named_by_line_and_column(tmp_path, part):
    queries, qrels = QUERIES.encode(), GOOD_QRELS.encode()
    if part == "queries":
        queries = QUERIES.encode().replace(b"swali 2", b"swa\xffi 2")
    if part == "qrels":
        qrels = GOOD_QRELS.encode().replace(b"q3 0 d3", b"q3 0 d\xe93")
    if part == "corpus":
        src = tmp_path / "src"
        src.mkdir()
        bench = {**defaults("benchmarks"), "source": "trec", "language": "sw", "queries": str(src / "q.tsv"),
                 "corpus": str(src / "c.jsonl"), "qrels": str(src / "qrels.txt")}
        (src / "c.jsonl").write_bytes(b'{"docid": "d0", "text": "a"}\n{"docid": "d1", "text": "\xc3("}\n')
        corpus = data.CollectionFiles.at(tmp_path / "corpus.jsonl", tmp_path / "collection.json")
        with pytest.raises(ValueError, match=rf"{src / 'c.jsonl'}: line 2: not valid UTF-8 at column 26 \(byte 0xc3\)"):
            benchmarks.prepare_collection("t", {"t": bench}, corpus, tmp_path)
        return
    bench, corpus = trec(tmp_path, queries, qrels)
    line, column, byte = (3, 7, "ff") if part == "queries" else (4, 7, "e9")
    with pytest.raises(ValueError, match=rf"{bench[part]}: line {line}: not valid UTF-8 at column {column} \(byte 0x{byte}\)"):
        prepare(tmp_path, bench, corpus)


def test_prepared_files_read_back_line_by_line(tmp_path):
    bad = tmp_path / "queries.tsv"
    bad.write_bytes(b"q1\tfine\nq2\tnot \xff fine\n")
    with pytest.raises(data.InputError, match=rf"{bad}: line 2: not valid UTF-8 at column 8 \(byte 0xff\)"):
        data.read_queries(bad)
    assert Path(bad).exists()
