"""Training runs: the budget (converged with dev selection, fixed), resumption after a kill, the
teacher's view computed before the run or on the fly, micro-batches, every method."""

import dataclasses
import json

import pytest
import torch

from swimscale.model import (
    DevSet,
    OpticalLoss,
    StudentEncoder,
    StudentModel,
    TeacherEncoder,
    TextQueries,
    TrainingBatch,
    build_teacher_cache,
    encode_query_states,
    encode_texts,
    load_encoder,
    load_student,
    save_student,
    state_settings,
    train_student,
    transport_kind,
)
from swimscale.model._train import BatchStream, accumulate_gradients
from tests.model.bible import dev_parts, records, teacher_settings, train_settings

CHEAP = {"trainable_layers": 1, "freeze_embeddings": True, "dropout": 0.0}
# The teacher as these runs read it: counterparts up to 64 tokens, no-gradient passes in batches of 8.
TEACHER = teacher_settings(max_length=64, batch_size=8)


def train_config(**overrides):
    """The schema's training defaults with `overrides`."""
    return train_settings(**{"batch_size": 4, "max_length": 64, **overrides})


def train(pairs, cfg, method="optical", seed=0, teacher=TEACHER, **kwargs):
    """train_student with the run's seed, without checkpoints unless `kwargs` say so."""
    return train_student(pairs, teacher, cfg, method, seed, **{"checkpoint_every": 0, "checkpoint_minutes": 0, **kwargs})


@pytest.fixture(scope="module")
def teacher():
    torch.set_num_threads(1)
    return load_encoder(TEACHER.model, torch.device("cpu"))


@pytest.fixture(scope="module")
def dev(teacher):
    """The dev set with the cached prefix states of a top-1-layer student."""
    tokenizer, model = teacher
    queries, texts, docids, qrels = dev_parts()
    student = StudentModel(load_encoder(TEACHER.model, torch.device("cpu"))[1], 1, True, None)
    states = encode_query_states(tokenizer, student, list(queries), list(queries.values()), TEACHER, train_config())
    corpus = encode_texts(tokenizer, model, texts, dataclasses.replace(TEACHER, batch_size=16))
    return DevSet(queries, corpus, docids, qrels, TEACHER, states)


def dev_recall(student, dev, tokenizer):
    return dev.recall(student, dev.inputs(student, tokenizer, state_settings(TEACHER, train_config(), student)))


def same_weights(m1, m2):
    return all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))


def test_fixed_budget_is_deterministic_moves_towards_the_teacher_and_logs_its_run(tmp_path, teacher):
    tokenizer, model = teacher
    cfg = train_config(budget="fixed", max_steps=4, lr=1e-4)
    first, log = train(records(5), cfg, seed=3)
    second, _ = train(records(5), cfg, seed=3)
    assert (log["steps"], log["steps_at_best"], log["examples_seen"], len(log["loss"])) == (4, 4, 16, 4)
    assert (log["budget"], log["stopped_by"], log["cap_bound"], log["dev_curve"]) == ("fixed", "fixed", None, [])
    assert log["loss"][-1] < log["loss"][0] and log["examples_per_second"] > 0 and log["device"] == "cpu"
    assert same_weights(first.model, second.model)
    assert not torch.equal(first.model.embeddings.word_embeddings.weight, model.embeddings.word_embeddings.weight)
    save_student(first, tmp_path / "student.safetensors")
    _, reloaded = load_student(TEACHER, cfg, tmp_path / "student.safetensors", torch.device("cpu"))
    assert same_weights(first.model, reloaded.model)
    json.dumps(log)  # the log is JSON-serialisable
    # The budget is the same for every N: 4 updates whether the sample holds 3 pairs or 40.
    _, small = train(records(3), dataclasses.replace(cfg, **CHEAP), seed=3)
    _, large = train(records(40), dataclasses.replace(cfg, **CHEAP), seed=3)
    assert small["steps"] == large["steps"] == 4 and (small["batch_size"], large["batch_size"]) == (3, 4)


@pytest.mark.parametrize(("lr", "seed"), [(0.5, 0), (3e-3, 1), (3e-4, 2)])
def test_converged_budget_never_keeps_a_student_worse_on_dev_than_the_untrained_one(teacher, dev, lr, seed):
    """Whatever training does to dev Recall@50 — destroy the model (lr 0.5), help or hurt — the kept
    student is the best dev point of the run, step 0 (the untrained student) included."""
    tokenizer, model = teacher
    cfg = train_config(budget="converged", max_steps=12, eval_every=3, patience=2, min_passes=0, lr=lr, **CHEAP)
    student, log = train(records(40), cfg, seed=seed, dev=dev)
    curve = dict(log["dev_curve"])
    untrained = curve[0]
    kept = dev_recall(student, dev, tokenizer)
    assert kept == pytest.approx(max(curve.values()), abs=1e-6) and kept >= untrained
    assert log["steps_at_best"] == min(step for step, recall in curve.items() if recall == max(curve.values()))
    assert log["dev_recall_at_best"] == pytest.approx(kept, abs=1e-6)
    if lr == 0.5:  # training only hurt: the kept student is the teacher itself
        assert log["steps_at_best"] == 0 and max(r for s, r in curve.items() if s) < untrained
        assert same_weights(student.model, model) and log["stopped_by"] == "patience"


def test_killed_run_resumes_from_checkpoint_to_the_same_student_and_dev_curve(tmp_path, teacher, dev, monkeypatch):
    # Dropout on: the resumed run must restore the RNG as well.
    cfg = train_config(budget="converged", max_steps=7, eval_every=2, patience=10, lr=1e-3, dropout=0.1,
                       trainable_layers=1, freeze_embeddings=True)
    reference, reference_log = train(records(10), cfg, seed=5, dev=dev)
    assert reference_log["stopped_by"] == "cap" and reference_log["cap_bound"] is True

    # Die inside update 5, after the checkpoint written at update 4 (as a SIGKILL would, mid-update).
    calls = {"n": 0}
    real_clip = torch.nn.utils.clip_grad_norm_

    def dying_clip(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt("killed")
        return real_clip(*args, **kwargs)

    checkpoint = tmp_path / "checkpoint.pt"
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", dying_clip)
    with pytest.raises(KeyboardInterrupt):
        train(records(10), cfg, seed=5, dev=dev, checkpoint=checkpoint, checkpoint_every=2)
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", real_clip)
    assert checkpoint.exists()

    resumed, log = train(records(10), cfg, seed=5, dev=dev, checkpoint=checkpoint, checkpoint_every=2)
    assert log["resumed_from_step"] == 4
    for key in ("loss", "dev_curve", "steps", "steps_at_best", "stopped_by", "examples_seen"):
        assert log[key] == reference_log[key], key
    assert same_weights(resumed.model, reference.model)
    # A checkpoint of another configuration is ignored, not resumed from.
    _, other_log = train(records(10), cfg, seed=6, dev=dev, checkpoint=checkpoint)
    assert other_log["resumed_from_step"] == 0


@pytest.mark.parametrize("method", ["optical_pooled", "contrastive"])
def test_teacher_tokens_precomputed_or_on_the_fly_train_the_same_student(teacher, method):
    cfg = train_config(budget="fixed", max_steps=3, lr=1e-3, **CHEAP)
    small_batches = dataclasses.replace(TEACHER, batch_size=3)
    ahead, ahead_log = train(records(8), dataclasses.replace(cfg, teacher_tokens="precompute"), method, seed=2,
                             teacher=small_batches)
    fly, fly_log = train(records(8), dataclasses.replace(cfg, teacher_tokens="on_the_fly"), method, seed=2,
                         teacher=small_batches)
    assert (ahead_log["teacher_tokens"], fly_log["teacher_tokens"]) == ("precompute", "on_the_fly")
    assert ahead_log["loss"] == pytest.approx(fly_log["loss"], abs=1e-5)
    # The updates agree up to rounding (padding differs between the two ways): Adam's normalised steps
    # let rounding move near-zero gradients, so compare the whole update, not each entry.
    _, untrained = load_student(TEACHER, cfg, None, torch.device("cpu"))
    moved = torch.cat([(a - u).flatten() for a, u in zip(ahead.parameters(), untrained.parameters())])
    apart = torch.cat([(a - b).flatten() for a, b in zip(ahead.parameters(), fly.parameters())])
    assert apart.norm() < 0.02 * moved.norm()


def test_micro_batches_accumulate_the_full_batch_gradient(teacher):
    tokenizer, _ = teacher
    _, model = load_encoder(TEACHER.model, torch.device("cpu"))
    student = StudentModel(model, None, False, 0.0)  # no dropout: the two gradients must agree up to rounding
    pairs = records(5)
    cfg = train_config()
    cache = build_teacher_cache(TeacherEncoder(tokenizer, model, dataclasses.replace(TEACHER, batch_size=5)), pairs)
    encoder = StudentEncoder(student, TextQueries(tokenizer, 64, {r["_id"]: r["query"] for r in pairs}), "mean")
    loss_fn = OpticalLoss.from_config(cfg, "balanced", TEACHER)

    def gradient(micro):
        model.zero_grad()
        loss, parts = accumulate_gradients(encoder, loss_fn, TrainingBatch(pairs, cache, "cpu"), micro)
        return loss, parts, [p.grad.clone() for p in model.parameters() if p.grad is not None]

    whole, whole_parts, whole_grad = gradient(5)
    split, split_parts, split_grad = gradient(2)  # micro-batches of 2, 2 and 1
    assert split == pytest.approx(whole, abs=1e-6)
    assert split_parts == pytest.approx(whole_parts, abs=1e-6)
    assert len(whole_grad) == len(split_grad) > 0
    for a, b in zip(whole_grad, split_grad):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("method", ["optical", "optical_pooled", "pooled", "contrastive"])
def test_every_method_trains_towards_its_objective(teacher, method):
    cfg = train_config(budget="fixed", max_steps=4, batch_size=5, lr=1e-3, **CHEAP)
    _, log = train(records(5), cfg, method, seed=1)
    assert log["method"] == method and log["steps"] == 4 and log["loss"][-1] < log["loss"][0]
    expected = {"optical": {"ot_loss"}, "optical_pooled": {"ot_loss", "pooled_loss"}, "pooled": {"pooled_loss"},
                "contrastive": {"contrastive_loss"}}[method]
    assert set(log["parts"][0]) == expected
    with pytest.raises(ValueError, match="unknown method 'dpr'"):
        train(records(5), cfg, "dpr", seed=1)
    with pytest.raises(ValueError, match="converged.*selects on a dev set"):
        train(records(5), dataclasses.replace(cfg, budget="converged"), method, seed=1)


def test_semi_relaxed_training_on_passages(teacher):
    passages = [{**r, "text": r["text"] + " And it was so, and the evening and the morning were the day."}
                for r in records(5, translations=False)]
    assert transport_kind(passages) == "semi_relaxed"
    cfg = train_config(budget="fixed", max_steps=2, batch_size=5, **CHEAP)
    _, log = train(passages, cfg)
    assert log["transport"] == "semi_relaxed" and all(p["ot_loss"] > 0 for p in log["parts"])
    with pytest.raises(ValueError, match="1 of 5 records have 'query_en'"):
        transport_kind(records(1) + passages[1:])


def test_length_grouped_batches_cover_every_pair_once_per_pass_with_less_padding():
    lengths = [int(x) for x in torch.randint(5, 100, (200,), generator=torch.Generator().manual_seed(0))]

    def one_pass(group):
        stream = BatchStream(200, 8, seed=4, lengths=lengths, group=group)
        return [stream.next() for _ in range(25)]

    def padding(batches):
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)

    for group in (0, 5):
        batches = one_pass(group)
        assert sorted(i for b in batches for i in b) == list(range(200))  # a pass sees each pair once
    assert padding(one_pass(5)) < 0.3 * padding(one_pass(0))
    flat = [i for b in one_pass(5) for i in b]
    assert flat == BatchStream(200, 8, seed=4, lengths=lengths, group=5).one_pass()  # seeded:
    assert flat != BatchStream(200, 8, seed=5, lengths=lengths, group=5).one_pass()  # the seed decides
