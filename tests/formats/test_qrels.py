"""TREC qrels: one set of rules for every reader (evaluation, validation, a benchmark from the user's
files), each refusal naming file and line; and the reader and the metrics against pytrec_eval."""

from __future__ import annotations

import pytest

from swimscale.errors import InputError
from swimscale.formats import Judgement, iter_qrels, read_qrels, write_qrels


def test_round_trip_keeps_order_and_values(tmp_path):
    qrels = {"q2": {"d9": 2, "d1": 0, "d3": -1}, "q1": {"d1": 1}}
    path = tmp_path / "qrels.txt"
    write_qrels(path, qrels)
    assert path.read_text(encoding="utf-8") == "q2 0 d9 2\nq2 0 d1 0\nq2 0 d3 -1\nq1 0 d1 1\n"
    back = read_qrels(path)
    assert back == qrels and list(back) == ["q2", "q1"] and list(back["q2"]) == ["d9", "d1", "d3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qrels.txt"]


def test_iter_qrels_says_where_each_judgement_is(tmp_path):
    path = tmp_path / "qrels.txt"
    path.write_text("\nq1 0 d1 1\n\nq1 Q0 d2 0\n")  # the second field is not read
    assert list(iter_qrels(path)) == [Judgement("q1", "d1", 1, f"{path}: line 2"),
                                      Judgement("q1", "d2", 0, f"{path}: line 4")]


@pytest.mark.parametrize(("line", "message"), [
    ("q1 0 d2", "expected 4 fields (qid 0 docid relevance), got 3"),
    ("q1 0 d2 1 extra", "expected 4 fields (qid 0 docid relevance), got 5"),
    ("q1 0 d2 yes", "relevance 'yes' is not an integer"),
    ("q1 0 d2 1.0", "relevance '1.0' is not an integer"),
    ("q1 0 d2 +1", "relevance '+1' is not an integer"),
    ("q1 0 d2 --1", "relevance '--1' is not an integer"),
    ("q1 0 d2 1_0", "relevance '1_0' is not an integer"),
    ("q1 0 d2 \u0663", "relevance '\u0663' is not an integer"),  # an Arabic-Indic digit: int() takes it
    ("q1 0 d2 \u00b2", "relevance '\u00b2' is not an integer"),  # a superscript: isdigit() takes it
    ("q1 0 d1 0", "duplicate judgement of 'd1' for query 'q1'"),
])
def test_each_malformed_line_is_refused_with_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.qrels"
    path.write_text("q1 0 d1 1\n\n" + line + "\n", encoding="utf-8")
    for read in (read_qrels, lambda p: list(iter_qrels(p))):
        with pytest.raises(InputError) as err:
            read(path)
        assert str(err.value) == f"{path}: line 3: {message}"


def test_a_pair_judged_twice_is_passed_on_when_asked(tmp_path):
    """The benchmark preparation reads the user's qrels with duplicates=True: its own on_bad_judgement
    setting stops on a repeated pair or drops and counts it. Every other rule still holds."""
    path = tmp_path / "qrels.txt"
    path.write_text("q1 0 d1 1\nq1 0 d1 2\n")
    assert [j.relevance for j in iter_qrels(path, duplicates=True)] == [1, 2]
    path.write_text("q1 0 d1 1\nq1 0 d1 two\n")
    with pytest.raises(InputError, match=r"qrels\.txt: line 2: relevance 'two' is not an integer"):
        list(iter_qrels(path, duplicates=True))


def test_bytes_that_are_not_utf8_are_refused_with_line_and_column(tmp_path):
    path = tmp_path / "bad.qrels"
    path.write_bytes(b"q1 0 d1 1\n\xe9q 0 d1 1\n")
    with pytest.raises(InputError) as err:
        read_qrels(path)
    assert str(err.value) == f"{path}: line 2: not valid UTF-8 at column 1 (byte 0xe9)"


def test_the_writer_refuses_ids_that_would_not_read_back_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "qrels.txt"
    write_qrels(path, {"q": {"d": 1}})
    with pytest.raises(ValueError, match="docid of query 'q' 'd 1' must be non-empty and contain no whitespace"):
        write_qrels(path, {"q": {"d0": 1, "d 1": 1}})
    with pytest.raises(ValueError, match="query id '' must be non-empty"):
        write_qrels(path, {"": {"d": 1}})
    assert path.read_text() == "q 0 d 1\n" and sorted(p.name for p in tmp_path.iterdir()) == ["qrels.txt"]


def test_the_reader_and_the_metrics_agree_with_pytrec_eval(tmp_path):
    """A small qrels and run file, read by swimscale.formats and by pytrec_eval's own parsers: the same
    judgements and run, and the same recall@k, nDCG@10 and reciprocal rank on every query with a
    relevant document (each is in the run: pytrec_eval drops a judged query missing from it)."""
    pytrec_eval = pytest.importorskip("pytrec_eval")
    from swimscale.formats import read_run
    from swimscale.retrieval import evaluate

    qrels_path, run_path = tmp_path / "qrels.txt", tmp_path / "run.trec"
    qrels_path.write_text("q1 0 d1 1\nq1 0 d2 0\nq1 0 d5 2\nq2 0 d3 1\nq2 0 d4 -1\nq3 0 d9 0\n")
    run_path.write_text("".join(f"q1 Q0 d{i} {i} {1 - i / 10} t\n" for i in range(1, 8))
                        + "q2 Q0 d4 1 0.5 t\nq2 Q0 d6 2 0.5 t\nq2 Q0 d3 3 0.25 t\nq3 Q0 d9 1 1.0 t\n")
    qrels, run = read_qrels(qrels_path), read_run(run_path)
    with open(qrels_path) as handle:
        assert qrels == pytrec_eval.parse_qrel(handle)
    with open(run_path) as handle:
        assert run == pytrec_eval.parse_run(handle)
    reference = pytrec_eval.RelevanceEvaluator(qrels, {"recall.50,100", "ndcg_cut.10", "recip_rank"}).evaluate(run)
    table = evaluate(run, qrels).set_index("qid")
    # q3 has no relevant document: trec_eval scores it 0, swimscale leaves it out of the query set.
    assert sorted(table.index) == ["q1", "q2"] and sorted(reference) == ["q1", "q2", "q3"]
    assert reference["q3"]["recall_50"] == 0
    for qid in table.index:
        measures = reference[qid]
        assert table.loc[qid, "recall_at_50"] == pytest.approx(measures["recall_50"])
        assert table.loc[qid, "recall_at_100"] == pytest.approx(measures["recall_100"])
        assert table.loc[qid, "ndcg_at_10"] == pytest.approx(measures["ndcg_cut_10"])
        assert table.loc[qid, "mrr_at_10"] == pytest.approx(measures["recip_rank"])  # every first hit is in the top 10
    assert table.loc["q1", "ndcg_at_10"] < 1 and table.loc["q2", "mrr_at_10"] == pytest.approx(1 / 3)
