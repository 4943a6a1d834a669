"""The log2 rank of the first relevant document at its edges: a judged query the run does not hold,
a qrels without a relevant document, an empty run (tests/analysis/test_literature.py: against the
retrieval metrics)."""

import math

import pandas as pd

from swimscale.analysis import first_relevant_log2_rank
from swimscale.analysis._ranks import run_depth


def test_a_judged_query_missing_from_the_run_counts_as_not_retrieved():
    run = {"q1": {"a": 3.0, "b": 2.0, "c": 1.0}}
    ranks = first_relevant_log2_rank(run, {"q1": {"b": 1}, "q2": {"a": 1}}).set_index("qid")["log2_first_rank"]
    assert ranks.to_dict() == {"q1": 1.0, "q2": math.log2(4)}  # depth 3, so rank 4


def test_no_relevant_document_gives_an_empty_table_with_its_columns():
    table = first_relevant_log2_rank({"q1": {"a": 1.0}}, {"q1": {"a": 0}})
    pd.testing.assert_frame_equal(table, pd.DataFrame([], columns=["qid", "log2_first_rank"]))


def test_the_depth_of_a_run_is_its_longest_list():
    assert run_depth({"q1": {"a": 1.0}, "q2": {"a": 1.0, "b": 0.5}}) == 2
    assert run_depth({}) == 0 and run_depth({"q1": {}}) == 0
