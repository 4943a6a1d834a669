"""TREC run files: what the writer writes reads back exactly, and every malformed line is refused with
its file and line."""

from __future__ import annotations

import pytest

from swimscale.errors import InputError
from swimscale.formats import read_run, write_run

GOOD = "q1 Q0 d1 1 0.9 t\n"


def test_round_trip_keeps_order_scores_and_ranks(tmp_path):
    results = {"q2": [("b", 0.1 + 0.2), ("a", -1e-7), ("c", 1e300)], "q1": [("x", 3.0)]}
    path = tmp_path / "run.trec"
    write_run(path, results, "tag-1")
    assert path.read_text(encoding="utf-8").splitlines() == [
        f"q2 Q0 b 1 {0.1 + 0.2!r} tag-1", "q2 Q0 a 2 -1e-07 tag-1", "q2 Q0 c 3 1e+300 tag-1", "q1 Q0 x 1 3.0 tag-1"]
    run = read_run(path)
    assert run == {q: dict(docs) for q, docs in results.items()}
    assert list(run) == ["q2", "q1"] and list(run["q2"]) == ["b", "a", "c"]  # file order
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.trec"]  # no partial file left


def test_blank_lines_are_skipped_and_counted(tmp_path):
    path = tmp_path / "run.trec"
    path.write_text("\n" + GOOD + "  \n\nq1 Q0 d2 2 0.5 t\n")
    assert read_run(path) == {"q1": {"d1": 0.9, "d2": 0.5}}
    path.write_text("\n" + GOOD + "  \n\nq1 Q0 d2 2 0.5\n")
    with pytest.raises(InputError, match=r"run\.trec: line 5: "):
        read_run(path)


@pytest.mark.parametrize(("line", "message"), [
    ("q1 Q0 d2 2 0.5", "expected 6 fields (qid Q0 docid rank score tag), got 5"),
    ("q1 Q0 d2 2 0.5 t extra", "expected 6 fields (qid Q0 docid rank score tag), got 7"),
    ("q1 Q0 d2 two 0.5 t", "rank 'two' is not an integer"),
    ("q1 Q0 d2 2.0 0.5 t", "rank '2.0' is not an integer"),
    ("q1 Q0 d2 +2 0.5 t", "rank '+2' is not an integer"),
    ("q1 Q0 d2 1_0 0.5 t", "rank '1_0' is not an integer"),
    ("q1 Q0 d2 2 high t", "score 'high' is not a number"),
    ("q1 Q0 d2 2 nan t", "score 'nan' is not finite"),
    ("q1 Q0 d2 2 -inf t", "score '-inf' is not finite"),
    ("q1 Q0 d1 2 0.5 t", "duplicate document 'd1' for query 'q1'"),
])
def test_each_malformed_line_is_refused_with_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.run"
    path.write_text(GOOD + "\n" + line + "\n")
    with pytest.raises(InputError) as err:
        read_run(path)
    assert str(err.value) == f"{path}: line 3: {message}"


def test_bytes_that_are_not_utf8_are_refused_with_line_and_column(tmp_path):
    path = tmp_path / "bad.run"
    path.write_bytes(GOOD.encode() + b"q1 Q0 d\xff 2 0.5 t\n")
    with pytest.raises(InputError) as err:
        read_run(path)
    assert str(err.value) == f"{path}: line 2: not valid UTF-8 at column 8 (byte 0xff)"


def test_the_same_document_under_two_queries_is_not_a_duplicate(tmp_path):
    path = tmp_path / "run.trec"
    path.write_text(GOOD + "q2 Q0 d1 1 0.9 t\n")
    assert read_run(path) == {"q1": {"d1": 0.9}, "q2": {"d1": 0.9}}


@pytest.mark.parametrize(("tag", "results", "message"), [
    ("my tag", {"q1": [("d1", 1.0)]}, "tag 'my tag' must be non-empty and contain no whitespace"),
    ("", {"q1": [("d1", 1.0)]}, "tag '' must be non-empty and contain no whitespace"),
    ("t", {"q\t1": [("d1", 1.0)]}, "query id 'q\\t1' must be non-empty and contain no whitespace"),
    ("t", {"q1": [("d1", 1.0), ("d 2", 0.5)]}, "docid of query 'q1' 'd 2' must be non-empty and contain no whitespace"),
])
def test_the_writer_refuses_ids_that_would_not_read_back_and_keeps_the_old_file(tmp_path, tag, results, message):
    path = tmp_path / "run.trec"
    write_run(path, {"q0": [("d0", 1.0)]}, "old")
    with pytest.raises(ValueError) as err:
        write_run(path, results, tag)
    assert str(err.value) == message
    assert path.read_text() == "q0 Q0 d0 1 1.0 old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.trec"]
