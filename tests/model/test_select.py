"""Dev selection: the budget rule on given dev curves, and the dev Recall@50 against the search path."""

import collections
import dataclasses
import math
import types

import numpy as np
import pytest
import torch

from swimscale.errors import InputError
from swimscale.model import (
    DevSet,
    QueryStates,
    Selection,
    StudentModel,
    TextQueries,
    encode_query_states,
    encode_texts,
    load_encoder,
    state_settings,
)
from swimscale.retrieval import build_flat_ip, recall_at_k, search
from tests.model.bible import TEACHER, dev_parts, teacher_settings, train_settings


def make_selection(budget, max_steps, min_steps, eval_every, patience, evaluates=True, n_records=1, batch_size=1,
                   eval_every_passes=None, min_passes=0, passes=None):
    """A Selection with the budget in updates unless told otherwise (a sample of one record, batch one:
    one update a pass, no pass floor)."""
    return Selection(budget, max_steps, min_steps, eval_every, patience, eval_every_passes, min_passes, passes,
                     n_records, batch_size, evaluates)


def run_rule(curve: dict[int, float], budget="converged", max_steps=100, min_steps=0, eval_every=10, patience=3,
             **passes):
    """Feeds `curve` (step → dev recall) to a Selection as a run would; returns it and the last step."""
    selection = make_selection(budget, max_steps, min_steps, eval_every, patience, **passes)
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
    settings = teacher_settings(batch_size=8)  # documents up to 128 tokens, the schema's default
    corpus = encode_texts(tokenizer, teacher, texts, dataclasses.replace(settings, batch_size=16))
    student = StudentModel(load_encoder(TEACHER, torch.device("cpu"))[1], 1, True, None)
    train = train_settings(max_length=64)
    states = encode_query_states(tokenizer, student, list(queries), list(queries.values()), settings, train)
    dev = DevSet(queries, corpus, docids, qrels, settings, states)
    recall = dev.recall(student, dev.inputs(student, tokenizer, state_settings(settings, train, student)))
    qids = list(queries)
    as_queries = dataclasses.replace(settings, max_length=64)
    embedded = encode_texts(tokenizer, teacher, [queries[q] for q in qids], as_queries)
    found = search(build_flat_ip(corpus, True), embedded, qids, docids, 50)
    per_query = recall_at_k({q: dict(hits) for q, hits in found.items()}, qrels, 50)
    assert recall == pytest.approx(np.mean(list(per_query.values())), abs=1e-12)
    assert 0 < recall < 1  # the corpus is large enough for Recall@50 to miss
    with pytest.raises(ValueError, match="12 embeddings but 96 docids"):
        DevSet(queries, corpus[:12], docids, qrels, settings)


# --------------------------------------------------------------------------- the rule at its edges


def test_due_is_step_0_the_grid_and_the_cap_and_nothing_without_a_dev_set():
    selection = make_selection("converged", max_steps=25, min_steps=0, eval_every=10, patience=3)
    assert [s for s in range(0, 40) if selection.due(s)] == [0, 10, 20, 25, 30]
    silent = make_selection("fixed", max_steps=25, min_steps=0, eval_every=10, patience=3, evaluates=False)
    assert not any(silent.due(s) for s in range(0, 40))


def test_patience_may_end_the_run_exactly_at_min_steps():
    curve = {0: 0.5, 10: 0.4, 20: 0.4, 30: 0.4, 40: 0.4}
    selection, step, stopped = run_rule(curve, min_steps=30, patience=3)
    assert (step, stopped, selection.best_step) == (30, "patience", 0)
    selection, step, stopped = run_rule(curve, min_steps=31, patience=3, max_steps=40)
    assert (step, stopped) == (31, "min")  # patience ran out at 30: the run stops once min_steps is reached


def test_the_curve_keeps_six_decimals_and_the_best_its_exact_value():
    selection = make_selection("converged", max_steps=10, min_steps=0, eval_every=5, patience=2)
    assert selection.record(0, 0.12345649) and not selection.record(5, 0.1234564)
    assert selection.record(10, 0.12345651)  # higher, though both round to 0.123457 in the curve
    assert selection.curve == [[0, 0.123456], [5, 0.123456], [10, 0.123457]]
    assert (selection.best_step, selection.best_recall) == (10, 0.12345651)
    assert selection.evaluations_since_best() == 0


def test_summaries_of_a_converged_and_a_fixed_run():
    converged, step, stopped = run_rule({0: 0.2, 10: 0.3123456789, 20: 0.1, 30: 0.1}, patience=2, max_steps=30)
    assert converged.summary(step, stopped) == {
        "budget": "converged", "steps": 30, "steps_at_best": 10, "examples_seen": 30, "examples_at_best": 10,
        "passes": 30.0, "passes_at_best": 10.0, "dev_recall_at_best": 0.312346,
        "dev_curve": [[0, 0.2], [10, 0.312346], [20, 0.1], [30, 0.1]], "stopped_by": "patience", "cap_bound": False,
    }
    fixed, step, stopped = run_rule({0: 0.2, 10: 0.3, 20: 0.1, 30: 0.1}, budget="fixed", max_steps=30)
    assert fixed.summary(step, stopped) == {
        "budget": "fixed", "steps": 30, "steps_at_best": 30, "examples_seen": 30, "examples_at_best": 30,
        "passes": 30.0, "passes_at_best": 30.0, "dev_recall_at_best": None,
        "dev_curve": [[0, 0.2], [10, 0.3], [20, 0.1], [30, 0.1]], "stopped_by": "fixed", "cap_bound": None,
    }
    # A converged run that was never evaluated has no best to report.
    unevaluated = make_selection("converged", max_steps=30, min_steps=0, eval_every=10, patience=2)
    assert unevaluated.summary(30, "cap")["dev_recall_at_best"] is None


def test_a_resumed_rule_continues_as_if_never_stopped():
    curve = {0: 0.2, 10: 0.3, 20: 0.25, 30: 0.35, 40: 0.3, 50: 0.3, 60: 0.3, 70: 0.5}
    whole, whole_step, whole_stop = run_rule(curve, patience=3)
    first = make_selection("converged", 100, 0, 10, 3)
    for step in (0, 10, 20, 30):
        first.record(step, curve[step])
    resumed = make_selection("converged", 100, 0, 10, 3)
    resumed.load_state(first.state())
    step, stopped = 30, None
    while stopped is None:
        step += 1
        if resumed.due(step):
            resumed.record(step, curve[step])
        stopped = resumed.stop(step)
    assert (step, stopped) == (whole_step, whole_stop) == (60, "patience")
    assert resumed.state() == whole.state() == {"curve": [[s, curve[s]] for s in range(0, 61, 10)], "best_step": 30,
                                                "best_recall": 0.35}


# --------------------------------------------------------------------------- dev recall on known rankings


class Identity:
    """A stand-in student whose sentence embedding of a query is the mean of its cached states."""

    cached, device = True, "cpu"

    def eval(self):
        return self

    def forward(self, batch):
        return batch["hidden"]


CLS = teacher_settings(pooling="cls", batch_size=3)  # the known dev set's queries read by their first token


def known_dev(n_documents: int = 60) -> DevSet:
    """Every query's embedding is e0 and document j scores 1 − j/100 against it: document j is at rank
    j + 1. q50 judges the 50th document relevant, q51 the 51st, q2 the 1st and the 56th, q0 nothing."""
    dim = n_documents + 1
    corpus = np.zeros((n_documents, dim))  # float64: the dev set stores float32, as the queries are
    scores = 1 - np.arange(n_documents) / 100
    corpus[:, 0], corpus[np.arange(n_documents), 1 + np.arange(n_documents)] = scores, np.sqrt(1 - scores**2)
    docids = [f"d{j}" for j in range(n_documents)]
    qids = ["q50", "q51", "q2", "q0"]
    # Two tokens per query: 3·e0 (not unit: the ranking must not care), which cls pooling reads alone,
    # and 5·e_n, the direction of the last document's own part, which mean pooling adds.
    states = torch.zeros(2 * len(qids), dim)
    states[0::2, 0], states[1::2, n_documents] = 3.0, 5.0
    special = torch.zeros(2 * len(qids), dtype=torch.bool)
    offsets = torch.arange(0, 2 * len(qids) + 1, 2)
    settings = {"teacher": "t", "prefix_depth": 6, "max_length": 8}
    qrels = {"q50": {"d49": 1, "d3": 0}, "q51": {"d50": 2}, "q2": {"d0": 1, "d55": 1}, "q0": {"d1": 0}}
    return DevSet({q: f"text of {q}" for q in qids}, corpus, docids, qrels, teacher_settings(batch_size=3),
                  QueryStates(qids, states, offsets, special, settings))


def test_dev_recall_is_the_mean_recall_at_50_of_the_judged_queries():
    dev = known_dev()
    recall = dataclasses.replace(dev, teacher=CLS).recall(Identity(), dev.states)
    assert recall == pytest.approx((1 + 0 + 0.5) / 3, abs=1e-12)  # q0 judges nothing relevant: not counted
    # With mean pooling the last document comes first and every other one moves down one rank: q50's
    # document to rank 51, q2's first to rank 2.
    assert dev.teacher.pooling == "mean"
    assert dev.recall(Identity(), dev.states) == pytest.approx(0.5 / 3, abs=1e-12)


def test_dev_recall_on_a_collection_smaller_than_50_and_without_judged_queries():
    dev = known_dev(n_documents=20)
    dev.teacher = dataclasses.replace(CLS, batch_size=2)
    dev.qrels = {"q2": {"d0": 1, "d19": 1}, "q51": {"d5": 1}}
    assert dev.recall(Identity(), dev.states) == pytest.approx(1.0)
    dev.qrels = {"q2": {"d0": 0}}
    with pytest.raises(ValueError, match="^the dev qrels judge no query relevant to anything$"):
        dev.recall(Identity(), dev.states)


def test_dev_inputs_are_the_checked_states_of_a_cached_student_or_token_ids():
    dev = known_dev()
    settings = dict(dev.states.settings)
    assert dev.inputs(Identity(), tokenizer=None, settings=settings) is dev.states
    with pytest.raises(InputError, match="query states: computed with"):
        dev.inputs(Identity(), tokenizer=None, settings={**settings, "prefix_depth": 5})
    with pytest.raises(ValueError, match="^a student with a frozen prefix reads the dev queries' cached states; none given$"):
        DevSet(dev.queries, dev.corpus, dev.docids, dev.qrels, dev.teacher).inputs(Identity(), None, settings)
    whole = types.SimpleNamespace(cached=False)
    tokenizer = object()
    inputs = dev.inputs(whole, tokenizer, settings)
    assert inputs == TextQueries(tokenizer, 8, dev.queries)


def test_patience_running_out_exactly_at_the_cap_is_not_cap_bound():
    """Best at 70, no new best at 80, 90, 100 = the cap: patience ended the run, the cap did not bind it."""
    curve = {0: 0.1, **{s: 0.1 + s / 1000 for s in range(10, 71, 10)}, 80: 0.15, 90: 0.16, 100: 0.17}
    selection, step, stopped = run_rule(curve, max_steps=100, patience=3)
    assert (selection.best_step, step, stopped) == (70, 100, "patience")
    assert selection.summary(step, stopped)["cap_bound"] is False
    selection, step, stopped = run_rule(curve, max_steps=100, patience=4)  # one more check was due: bound
    assert (step, stopped, selection.summary(step, stopped)["cap_bound"]) == (100, "cap", True)


# --------------------------------------------------------------------------- the budget in passes


def evaluations_per_pass(n_records, batch_size=32, eval_every_passes=0.5, passes=4):
    """Dev evaluations after step 0 of a converged run in passes, over its first `passes` passes."""
    selection = make_selection("converged", 10**7, 0, 1, 3, n_records=n_records, batch_size=min(batch_size, n_records),
                               eval_every_passes=eval_every_passes, min_passes=1)
    last = math.ceil(passes * n_records / min(batch_size, n_records))
    return sum(selection.due(s) for s in range(1, last + 1)) / passes


@pytest.mark.parametrize("every", [2, 1, 0.5])
def test_the_pass_budget_gives_n_100_and_n_100000_the_same_evaluations_per_pass(every):
    """In updates of batch 32, an evaluation every 250 updates is one every 80 passes at N = 100 and
    one every 0.08 pass at N = 100,000; in passes, both get 1 / `every` evaluations a pass (while
    `every` passes take at least one update: at 0.25 pass, 25 examples, N = 100 is held to one
    evaluation per update of 32)."""
    assert evaluations_per_pass(100, eval_every_passes=every) == evaluations_per_pass(100_000, eval_every_passes=every)
    assert evaluations_per_pass(100_000, eval_every_passes=every) == 1 / every
    assert evaluations_per_pass(100, eval_every_passes=0.25) == 13 / 4  # the floor: one per update
    steps = make_selection("converged", 10**7, 0, 250, 3, n_records=100, batch_size=32)
    assert sum(steps.due(s) for s in range(1, 13)) == 0  # 12 updates = 3.84 passes at N = 100: no evaluation


def test_the_pass_budget_stops_only_after_one_pass_and_says_whether_the_floor_held_it():
    # N = 100,000 in batches of 32: 3,125 updates a pass; evaluations every 0.25 pass; the untrained
    # student is the best, so patience 2 runs out at 0.5 pass, and the run goes on to the first pass.
    curve = collections.defaultdict(lambda: 0.1, {0: 0.5})
    selection, step, stopped = run_rule(curve, max_steps=10**6, patience=2, n_records=100_000, batch_size=32,
                                        eval_every_passes=0.25, min_passes=1)
    assert (step, stopped, selection.floor) == (3125, "min", 3125)
    summary = selection.summary(step, stopped)
    assert summary["passes"] == 1.0 and summary["examples_seen"] == 100_000 and summary["passes_at_best"] == 0
    # At N = 100 (4 updates a pass at batch 32, the last batch wrapping into the next pass) the same rule.
    selection, step, stopped = run_rule(curve, max_steps=10**6, patience=2, n_records=100, batch_size=32,
                                        eval_every_passes=0.25, min_passes=1)
    assert (step, stopped) == (4, "min") and selection.summary(step, stopped)["passes"] == 1.28


def test_a_climbing_pass_budget_is_cap_bound_at_max_steps():
    curve = {s: s / 1000 for s in range(0, 101)}
    selection, step, stopped = run_rule(curve, max_steps=100, patience=2, n_records=320, batch_size=32,
                                        eval_every_passes=1, min_passes=1)
    assert (step, stopped, selection.best_step) == (100, "cap", 100)
    assert [s for s, _ in selection.curve] == list(range(0, 101, 10))
    assert selection.summary(step, stopped)["cap_bound"] is True


@pytest.mark.parametrize("n, steps, stopped", [(100, 13, "fixed"), (1000, 125, "fixed"), (10_000, 200, "cap")])
def test_fixed_passes_runs_the_same_passes_for_every_n_within_the_cap(n, steps, stopped):
    curve = collections.defaultdict(lambda: 0.2)
    selection, step, why = run_rule(curve, budget="fixed_passes", max_steps=200, n_records=n, batch_size=32,
                                    passes=4, eval_every_passes=1)
    assert (step, why) == (steps, stopped)
    summary = selection.summary(step, why)
    assert summary["steps_at_best"] == step and summary["cap_bound"] is (why == "cap")
    assert summary["passes"] >= 4 or why == "cap"


def test_the_warm_up_is_linear_then_constant():
    from swimscale.model._train import warmed_up_lr

    assert [warmed_up_lr(1e-3, 4, t) for t in (1, 2, 4, 5, 100)] == pytest.approx([2.5e-4, 5e-4, 1e-3, 1e-3, 1e-3])
    assert warmed_up_lr(2e-5, 0, 1) == 2e-5


def test_fixed_passes_needs_its_passes():
    with pytest.raises(InputError, match="set train.passes"):
        train_settings(budget="fixed_passes")
    assert train_settings(budget="fixed_passes", passes=2.5).passes == 2.5
    # The pass spelling frees a converged run from eval_every ≤ max_steps (eval_every is then unused).
    assert train_settings(eval_every_passes=1, eval_every=5000, max_steps=100).eval_every_passes == 1


def test_summaries_count_examples_and_round_passes_to_four_places():
    """Batches of 2 over 3 records: the examples are updates × 2, the passes 2/3 of the updates."""
    curve = {0: 0.1, 10: 0.3, 20: 0.1, 30: 0.1}
    converged, step, stopped = run_rule(curve, patience=2, max_steps=30, n_records=3, batch_size=2)
    summary = converged.summary(step, stopped)
    assert (summary["steps_at_best"], summary["examples_at_best"], summary["examples_seen"]) == (10, 20, 60)
    assert summary["passes_at_best"] == 6.6667 and summary["passes"] == 20.0
    fixed, step, stopped = run_rule(curve, budget="fixed", max_steps=10, n_records=3, batch_size=2)
    summary = fixed.summary(step, stopped)
    assert (step, summary["examples_at_best"], summary["passes"], summary["passes_at_best"]) == (10, 20, 6.6667, 6.6667)


class _OnMeta(Identity):
    """A stand-in student whose parameters are on another device than the CPU."""

    def parameters(self):
        return iter([torch.zeros(1, device="meta")])


def test_dev_recall_moves_the_collection_to_the_students_device_once(monkeypatch):
    from swimscale.model import _select

    made, real = [], _select.DeviceIndex

    def recording(corpus, device):
        made.append(torch.device(device))
        if torch.device(device).type == "meta":
            raise LookupError("recorded")
        return real(corpus, device)

    monkeypatch.setattr(_select, "DeviceIndex", recording)
    dev = known_dev()
    first = dev.recall(Identity(), dev.states)
    index = dev._index
    assert dev.recall(Identity(), dev.states) == first and dev._index is index  # the index is kept
    assert made == [torch.device("cpu")]
    with pytest.raises(LookupError, match="recorded"):
        dev.recall(_OnMeta(), dev.states)
    assert made[-1] == torch.device("meta")
    assert _select._device_of(torch.nn.Linear(2, 2, device="meta")) == torch.device("meta")
    assert _select._device_of(torch.nn.Module()) == torch.device("cpu")  # a module without parameters


def test_the_rule_of_a_run_takes_every_budget_setting_and_the_sample():
    cfg = train_settings(budget="fixed_passes", max_steps=900, min_steps=7, eval_every=11, patience=4,
                         eval_every_passes=0.5, min_passes=1.5, passes=3.0)
    rule = Selection.from_settings(cfg, 1234, 16, evaluates=False)
    got = {name: getattr(rule, name) for name in ("budget", "max_steps", "min_steps", "eval_every", "patience",
                                                  "eval_every_passes", "min_passes", "passes", "n_records",
                                                  "batch_size", "evaluates")}
    assert got == {"budget": "fixed_passes", "max_steps": 900, "min_steps": 7, "eval_every": 11, "patience": 4,
                   "eval_every_passes": 0.5, "min_passes": 1.5, "passes": 3.0, "n_records": 1234, "batch_size": 16,
                   "evaluates": False}
    assert Selection.from_settings(cfg, 1234, 16, evaluates=True).evaluates is True
