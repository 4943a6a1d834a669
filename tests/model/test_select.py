"""Dev selection: the budget rule on given dev curves, and the dev Recall@50 against the search path."""

import numpy as np
import pytest
import torch

from swimscale.model import DevSet, Selection, StudentModel, encode_query_states, encode_texts, load_encoder, state_settings
from swimscale.retrieval import build_flat_ip, recall_at_k, search
from tests.model.bible import TEACHER, dev_parts


def run_rule(curve: dict[int, float], budget="converged", max_steps=100, min_steps=0, eval_every=10, patience=3):
    """Feeds `curve` (step → dev recall) to a Selection as a run would; returns it and the last step."""
    selection = Selection(budget, max_steps, min_steps, eval_every, patience)
    step, stopped = 0, None
    selection.record(0, curve[0])
    while stopped is None:
        step += 1
        if selection.due(step):
            selection.record(step, curve[step])
        stopped = selection.stop(step)
    return selection, step, stopped


def test_converged_keeps_the_best_with_ties_to_fewer_updates_and_stops_at_patience():
    curve = {0: 0.10, 10: 0.12, 20: 0.15, 30: 0.15, 40: 0.14, 50: 0.15, 60: 0.2}
    selection, step, stopped = run_rule(curve)
    assert (selection.best_step, stopped, step) == (20, "patience", 50)  # 30, 40, 50: no new best
    summary = selection.summary(step, stopped)
    assert summary["steps_at_best"] == 20 and summary["dev_recall_at_best"] == 0.15 and not summary["cap_bound"]
    assert summary["dev_curve"] == [[s, r] for s, r in curve.items() if s <= 50]


def test_the_untrained_student_wins_when_training_only_hurts():
    curve = {0: 0.30, **{s: 0.30 - s / 1000 for s in range(10, 101, 10)}}
    selection, step, stopped = run_rule(curve)
    assert (selection.best_step, step, stopped) == (0, 30, "patience")


def test_min_steps_holds_off_patience_and_the_cap_ends_a_climbing_run():
    curve = {0: 0.3, **{s: 0.2 + s / 500 for s in range(10, 101, 10)}}  # a dip below zero-shot, then a climb
    selection, step, stopped = run_rule(curve, min_steps=60)
    assert (selection.best_step, step, stopped) == (100, 100, "cap")
    assert selection.summary(step, stopped)["cap_bound"] is True
    selection, step, stopped = run_rule(curve, min_steps=0)
    assert (selection.best_step, step, stopped) == (0, 30, "patience")  # without it, the dip ends the run


def test_the_cap_is_evaluated_even_off_the_grid():
    curve = {0: 0.1, 10: 0.2, 20: 0.3, 25: 0.4}
    selection, step, stopped = run_rule(curve, max_steps=25)
    assert [s for s, _ in selection.curve] == [0, 10, 20, 25] and selection.best_step == 25 and stopped == "cap"


def test_fixed_budget_runs_every_update_and_keeps_the_last():
    curve = {0: 0.3, **{s: 0.1 for s in range(10, 101, 10)}}
    selection, step, stopped = run_rule(curve, budget="fixed")
    summary = selection.summary(step, stopped)
    assert (step, stopped, summary["steps_at_best"], summary["cap_bound"]) == (100, "fixed", 100, None)
    assert len(summary["dev_curve"]) == 11


def test_dev_recall_equals_recall_at_50_of_the_search_path():
    """The untrained student's dev Recall@50 (cached prefix states, exact torch search) equals that of
    the teacher's plain encoding searched with FAISS and scored by recall_at_k."""
    torch.set_num_threads(1)
    tokenizer, teacher = load_encoder(TEACHER, torch.device("cpu"))
    queries, texts, docids, qrels = dev_parts()
    corpus = encode_texts(tokenizer, teacher, texts, 16, 128)
    student = StudentModel(load_encoder(TEACHER, torch.device("cpu"))[1], 1, True)
    states = encode_query_states(tokenizer, student, list(queries), list(queries.values()), 64, 8,
                                 state_settings(TEACHER, student, 64))
    dev = DevSet(queries, corpus, docids, qrels, states)
    recall = dev.recall(student, dev.inputs(student, tokenizer, state_settings(TEACHER, student, 64)), 8, "mean")
    qids = list(queries)
    found = search(build_flat_ip(corpus), encode_texts(tokenizer, teacher, [queries[q] for q in qids], 8, 64), qids,
                   docids, 50)
    per_query = recall_at_k({q: dict(hits) for q, hits in found.items()}, qrels, 50)
    assert recall == pytest.approx(np.mean(list(per_query.values())), abs=1e-12)
    assert 0 < recall < 1  # the corpus is large enough for Recall@50 to miss
    with pytest.raises(ValueError, match="12 embeddings but 96 docids"):
        DevSet(queries, corpus[:12], docids, qrels)


def test_patience_running_out_exactly_at_the_cap_is_not_cap_bound():
    """Best at 70, no new best at 80, 90, 100 = the cap: patience ended the run, the cap did not bind it."""
    curve = {0: 0.1, **{s: 0.1 + s / 1000 for s in range(10, 71, 10)}, 80: 0.15, 90: 0.16, 100: 0.17}
    selection, step, stopped = run_rule(curve, max_steps=100, patience=3)
    assert (selection.best_step, step, stopped) == (70, 100, "patience")
    assert selection.summary(step, stopped)["cap_bound"] is False
    selection, step, stopped = run_rule(curve, max_steps=100, patience=4)  # one more check was due: bound
    assert (step, stopped, selection.summary(step, stopped)["cap_bound"]) == (100, "cap", True)
