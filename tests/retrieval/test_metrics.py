"""swimscale.retrieval's metrics against pytrec_eval (trec_eval) and hand-computed values."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import pytrec_eval

from swimscale.errors import InputError
from swimscale.retrieval import (
    evaluate,
    mrr_at_k,
    ndcg_at_k,
    read_qrels,
    read_run,
    recall_at_k,
    write_run,
)


def _random_case(seed: int) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, int]]]:
    """Run and qrels covering the awkward cases trec_eval has conventions for."""
    rng = np.random.default_rng(seed)
    # Docids of varying length ("d7" vs "d10") so string order differs from numeric order.
    pool = [f"d{i}" for i in range(400)]
    run: dict[str, dict[str, float]] = {}
    qrels: dict[str, dict[str, int]] = {}
    for q in range(40):
        qid = f"q{q}"
        kind = q % 5
        if kind == 0:  # judged, but nothing relevant
            qrels[qid] = {d: 0 for d in rng.choice(pool, 20, replace=False)}
        elif kind == 1:  # many relevant: more than 100, so recall_100 < 1
            qrels[qid] = {d: int(rng.integers(1, 4)) for d in rng.choice(pool, 150, replace=False)}
        else:  # graded relevance, some negative and zero judgements
            qrels[qid] = {d: int(rng.integers(-1, 4)) for d in rng.choice(pool, 30, replace=False)}
        if q % 7 == 3:
            continue  # judged query missing from the run
        docs = rng.choice(pool, int(rng.integers(5, 300)), replace=False)
        # Few distinct scores on even queries, so ties (and tie-breaking) matter a lot.
        scores = rng.integers(0, 4, len(docs)) / 4 if q % 2 == 0 else rng.normal(size=len(docs))
        run[qid] = {str(d): float(s) for d, s in zip(docs, scores)}
    run["unjudged"] = {"d1": 1.0, "d2": 0.5}  # run query absent from the qrels
    # Make sure at least one relevant query is missing from the run.
    qrels["q_missing"] = {"d1": 1, "d2": 0}
    return run, qrels


def _top_k(run: dict[str, dict[str, float]], k: int) -> dict[str, dict[str, float]]:
    """Cut each query to its top k in trec_eval order (score desc, docid desc)."""
    return {
        qid: dict(sorted(docs.items(), key=lambda x: (x[1], x[0]), reverse=True)[:k]) for qid, docs in run.items()
    }


def _assert_matches(ours: dict[str, float], ref: dict[str, float], run, qrels) -> None:
    relevant = {q for q, docs in qrels.items() if any(r > 0 for r in docs.values())}
    assert set(ours) == relevant
    missing = relevant - set(run)
    assert missing, "the random case must include judged queries missing from the run"
    for qid in missing:
        assert ours[qid] == 0.0
    present = sorted(relevant & set(run))
    diff = max(abs(ours[q] - ref[q]) for q in present)
    assert diff <= 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_pytrec_eval(seed: int) -> None:
    run, qrels = _random_case(seed)
    measures = {"recall_50", "recall_100", "ndcg_cut_10"}
    ref = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    ref_rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(_top_k(run, 10))

    def col(result: dict[str, dict[str, float]], measure: str) -> dict[str, float]:
        return {q: m[measure] for q, m in result.items()}

    _assert_matches(recall_at_k(run, qrels, 50), col(ref, "recall_50"), run, qrels)
    _assert_matches(recall_at_k(run, qrels, 100), col(ref, "recall_100"), run, qrels)
    _assert_matches(ndcg_at_k(run, qrels, 10), col(ref, "ndcg_cut_10"), run, qrels)
    _assert_matches(mrr_at_k(run, qrels, 10), col(ref_rr, "recip_rank"), run, qrels)


@pytest.mark.parametrize(
    ("docs", "expected_rr"),
    [
        # Ties go to the docid that is larger as a string: "b" > "a", "a9" > "a2" > "a10", "a" > "B".
        ({"a": 1.0, "b": 1.0}, 0.5),
        ({"a10": 1.0, "a2": 1.0, "a9": 1.0, "B": 1.0, "b": 1.0}, 1 / 3),
        # trec_eval compares scores as float32: these two are tied, so "b" comes first.
        ({"a2": 1.0 + 1e-12, "b": 1.0}, 0.5),
        ({"a2": 1.0 + 1e-6, "b": 1.0}, 1.0),
    ],
)
def test_tie_break_matches_trec_eval(docs: dict[str, float], expected_rr: float) -> None:
    qrels = {"q": {"a2": 1} if "a2" in docs else {"a": 1}}
    ref = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate({"q": docs})
    assert ref["q"]["recip_rank"] == pytest.approx(expected_rr)
    assert mrr_at_k({"q": docs}, qrels, 10)["q"] == pytest.approx(expected_rr)


def test_hand_computed() -> None:
    qrels = {
        "q1": {"a": 1, "b": 2, "c": 0, "z": 1},
        "q2": {"a": 0},  # nothing relevant: left out
        "q3": {"a": 1},  # relevant but not in the run: 0
    }
    # Ranking of q1: c (0.9), then the tie a/b broken by docid descending: b, a.
    run = {"q1": {"a": 0.5, "b": 0.5, "c": 0.9}, "q9": {"a": 1.0}}

    assert recall_at_k(run, qrels, 2) == {"q1": pytest.approx(1 / 3), "q3": 0.0}
    assert recall_at_k(run, qrels, 3) == {"q1": pytest.approx(2 / 3), "q3": 0.0}
    assert mrr_at_k(run, qrels, 1) == {"q1": 0.0, "q3": 0.0}
    assert mrr_at_k(run, qrels, 10) == {"q1": 0.5, "q3": 0.0}
    dcg = 0 + 2 / math.log2(3) + 1 / math.log2(4)
    idcg = 2 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(run, qrels, 3) == {"q1": pytest.approx(dcg / idcg), "q3": 0.0}

    table = evaluate(run, qrels)
    assert list(table.columns) == ["qid", "recall_at_50", "recall_at_100", "ndcg_at_10", "mrr_at_10"]
    assert table["qid"].tolist() == ["q1", "q3"]
    assert table["recall_at_50"].tolist() == pytest.approx([2 / 3, 0.0])
    assert table["mrr_at_10"].tolist() == pytest.approx([0.5, 0.0])


def test_evaluate_matches_single_metrics() -> None:
    run, qrels = _random_case(5)
    table = evaluate(run, qrels).set_index("qid")
    assert table.index.is_monotonic_increasing
    for column, values in [
        ("recall_at_50", recall_at_k(run, qrels, 50)),
        ("recall_at_100", recall_at_k(run, qrels, 100)),
        ("ndcg_at_10", ndcg_at_k(run, qrels, 10)),
        ("mrr_at_10", mrr_at_k(run, qrels, 10)),
    ]:
        assert table[column].to_dict() == values


def test_evaluate_without_relevant_queries_is_empty() -> None:
    table = evaluate({"q": {"a": 1.0}}, {"q": {"a": 0}})
    assert table.empty
    assert list(table.columns) == ["qid", "recall_at_50", "recall_at_100", "ndcg_at_10", "mrr_at_10"]


def test_run_round_trip(tmp_path: Path) -> None:
    results = {"q1": [("d3", 0.1 + 0.2), ("d1", 0.25), ("d2", -1e-7)], "q2": [("x", 3.0)]}
    path = tmp_path / "run.trec"
    write_run(path, results, "mytag")
    lines = path.read_text().splitlines()
    assert lines[0].split() == ["q1", "Q0", "d3", "1", repr(0.1 + 0.2), "mytag"]
    assert lines[2].split()[3] == "3"
    assert read_run(path) == {q: dict(docs) for q, docs in results.items()}


def test_read_qrels(tmp_path: Path) -> None:
    path = tmp_path / "qrels.txt"
    path.write_text("q1 0 d1 1\nq1 0 d2 0\n\nq2 0 d1 2\n")
    assert read_qrels(path) == {"q1": {"d1": 1, "d2": 0}, "q2": {"d1": 2}}


@pytest.mark.parametrize(
    ("bad_line", "what"),
    [
        ("q1 Q0 d2 2 0.5", "expected 6 fields"),
        ("q1 Q0 d2 two 0.5 t", "rank"),
        ("q1 Q0 d2 2 high t", "score"),
        ("q1 Q0 d2 2 nan t", "not finite"),
        ("q1 Q0 d1 2 0.5 t", "duplicate"),
    ],
)
def test_read_run_malformed(tmp_path: Path, bad_line: str, what: str) -> None:
    path = tmp_path / "bad.run"
    path.write_text(f"q1 Q0 d1 1 0.9 t\n\n{bad_line}\n")
    with pytest.raises(InputError, match=what) as err:
        read_run(path)
    assert "bad.run" in str(err.value) and "line 3" in str(err.value)


@pytest.mark.parametrize(
    ("bad_line", "what"),
    [("q1 0 d2", "expected 4 fields"), ("q1 0 d2 yes", "relevance"), ("q1 0 d1 0", "duplicate")],
)
def test_read_qrels_malformed(tmp_path: Path, bad_line: str, what: str) -> None:
    path = tmp_path / "bad.qrels"
    path.write_text(f"q1 0 d1 1\n{bad_line}\n")
    with pytest.raises(InputError, match=what) as err:
        read_qrels(path)
    assert "bad.qrels" in str(err.value) and "line 2" in str(err.value)


def test_write_run_rejects_whitespace(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tag"):
        write_run(tmp_path / "r", {"q": [("d", 1.0)]}, "my tag")
    with pytest.raises(ValueError, match="docid"):
        write_run(tmp_path / "r", {"q": [("d 1", 1.0)]}, "t")
