"""A run scored apart from its search (swimscale.retrieval.evaluate_search), as the evaluate rules do: the
metrics of the run file as written against the current judgements, refused when the queries are not
those searched."""

import json

import pytest

from swimscale.errors import InputError
from swimscale.retrieval import evaluate_search, read_qrels, read_run, recall_at_k, write_run, write_search_record


@pytest.fixture
def searched(tmp_path):
    (tmp_path / "queries.tsv").write_text("q1\tone\nq2\ttwo\n")
    (tmp_path / "qrels.txt").write_text("q1 0 d1 1\nq2 0 d3 1\nq2 0 d4 1\n")
    write_run(tmp_path / "run.trec", {"q1": [("d1", 0.9), ("d2", 0.5), ("d3", 0.1)],
                                      "q2": [("d2", 0.8), ("d3", 0.7), ("d1", 0.2)]}, "t")
    write_search_record(tmp_path / "run.searched.json", tmp_path / "queries.tsv", 3, 4)
    return {"queries": tmp_path / "queries.tsv", "qrels": tmp_path / "qrels.txt", "run": tmp_path / "run.trec",
            "searched": tmp_path / "run.searched.json", "metrics": tmp_path / "out" / "b.json",
            "per_query": tmp_path / "out" / "b.per_query.tsv"}


def test_the_run_is_scored_against_the_current_judgements(searched):
    summary = evaluate_search(searched, "(search again)")
    assert summary["n_queries"] == 2 and summary["recall_at_50"] == pytest.approx((1 + 0.5) / 2)
    assert json.loads(searched["metrics"].read_text()) == summary
    assert searched["per_query"].read_text().startswith("qid\trecall_at_50")
    # A qrels edit changes the scores, from the same run.
    searched["qrels"].write_text("q1 0 d2 1\nq2 0 d3 1\n")
    rescored = evaluate_search(searched, "(search again)")
    expected = recall_at_k(read_run(searched["run"]), read_qrels(searched["qrels"]), 50)
    assert rescored["recall_at_50"] == pytest.approx(sum(expected.values()) / 2) == pytest.approx(1.0)


def test_queries_that_are_not_those_searched_are_refused(searched):
    searched["queries"].write_text("q1\tone\nq2\ttwo, edited\n")
    with pytest.raises(InputError) as error:
        evaluate_search(searched, "rm 'train_log.json' && snakemake")
    assert str(error.value).startswith(f"{searched['queries']}: the queries changed since {searched['run']} was searched")
    assert str(error.value).endswith("search again: rm 'train_log.json' && snakemake")
    assert not searched["metrics"].exists()


def test_a_run_cut_short_is_refused(searched):
    lines = searched["run"].read_text().splitlines(keepends=True)
    searched["run"].write_text("".join(lines[:-1]))
    with pytest.raises(InputError, match=r"run.trec: 1 judged queries do not have"):
        evaluate_search(searched, "(search again)")
