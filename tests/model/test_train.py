import dataclasses
import json

import pytest
import torch

from swimscale.config import defaults
from swimscale.model import (
    OpticalLoss,
    TeacherCache,
    TrainConfig,
    TrainingBatch,
    build_teacher_cache,
    encode_texts,
    load_encoder,
    load_student,
    mean_pool,
    pool,
    save_student,
    steps_for,
    train_student,
    transport_kind,
)
from swimscale.model._student import StudentEncoder
from swimscale.model._train import accumulate_gradients

TEACHER = "bundled:all-MiniLM-L6-v2"
RECORDS = [
    {"_id": f"r{i}", "query": q, "text": t}
    for i, (q, t) in enumerate(
        [
            ("Pachiyambi Mulungu adalenga kumwamba ndi dziko lapansi.", "In the beginning God created the heaven and the earth."),
            ("Ndipo anati Mulungu, Kuyere; ndipo kunayera.", "And God said, Let there be light: and there was light."),
            ("Yesu analira.", "Jesus wept."),
            ("Ndipo Mulungu anapanga thambo.", "And God made the firmament."),
            ("Mulungu ndiye chikondi.", "God is love."),
        ]
    )
]


def train_config(seed=0, **overrides):
    """The schema's training defaults with `overrides`, as a run with mean pooling builds them."""
    return TrainConfig.from_config({**defaults("train"), **overrides}, pooling="mean", seed=seed)


def test_budget_rule():
    cfg = train_config(batch_size=32, epochs=2, min_steps=5, max_steps=50)
    assert steps_for(0, cfg) == 0
    assert steps_for(16, cfg) == 5  # 2 passes over a batch-sized sample, raised to min_steps
    assert steps_for(320, cfg) == 20
    assert steps_for(10_000, cfg) == 50


@pytest.fixture(scope="module")
def teacher():
    torch.set_num_threads(1)
    return load_encoder(TEACHER, torch.device("cpu"))


def test_teacher_cache_round_trip_drops_special_tokens(tmp_path, teacher):
    tokenizer, model = teacher
    cache = build_teacher_cache(tokenizer, model, RECORDS, max_length=32, batch_size=2)
    cache.save(tmp_path / "cache.safetensors")
    loaded = TeacherCache.load(tmp_path / "cache.safetensors")
    assert loaded.ids == [r["_id"] for r in RECORDS]
    n_tokens = len(tokenizer("Jesus wept.")["input_ids"]) - 2  # without [CLS] and [SEP]
    tokens, mask, pooled = loaded.batch(["r2", "r0"], "cpu")
    assert int(mask[0].sum()) == n_tokens and tokens[0, n_tokens:].abs().sum() == 0
    # The pooled embedding is the retriever's sentence embedding.
    expected = encode_texts(tokenizer, model, ["Jesus wept."], 1, 32)[0]
    assert torch.allclose(torch.nn.functional.normalize(pooled[0], dim=0), torch.tensor(expected), atol=1e-5)
    with pytest.raises(KeyError, match="not in the teacher cache"):
        loaded.batch(["missing"], "cpu")


def test_training_is_deterministic_and_moves_towards_teacher(tmp_path, teacher):
    tokenizer, model = teacher
    cache = build_teacher_cache(tokenizer, model, RECORDS, max_length=32, batch_size=5)
    cfg = train_config(batch_size=4, max_length=32, lr=1e-4, epochs=3, seed=3)
    first, log = train_student(RECORDS, TEACHER, cache, cfg)
    second, _ = train_student(RECORDS, TEACHER, cache, cfg)
    assert log["steps"] == 4 and log["examples_seen"] == 16 and len(log["loss"]) == 4
    assert log["loss"][-1] < log["loss"][0]
    for (name, p1), (_, p2) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(p1, p2), name
    save_student(first, tmp_path / "student.safetensors")
    _, reloaded = load_student(TEACHER, tmp_path / "student.safetensors", torch.device("cpu"))
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), reloaded.state_dict().values()))
    assert not torch.equal(first.state_dict()["embeddings.word_embeddings.weight"],
                           model.state_dict()["embeddings.word_embeddings.weight"])
    json.dumps(log)  # the log is JSON-serialisable


BITEXT = [{**r, "query_en": r["text"]} for r in RECORDS]


def test_transport_kind_follows_the_counterpart():
    assert transport_kind(BITEXT) == "balanced"
    assert transport_kind(RECORDS) == "semi_relaxed"
    with pytest.raises(ValueError, match="1 of 5 records have 'query_en'"):
        transport_kind([BITEXT[0]] + RECORDS[1:])


def same_weights(m1, m2):
    return all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))


def test_killed_run_resumes_from_checkpoint_bit_identically(tmp_path, teacher, monkeypatch):
    tokenizer, model = teacher
    cache = build_teacher_cache(tokenizer, model, BITEXT, max_length=32, batch_size=5)
    cfg = train_config(batch_size=2, max_length=32, lr=1e-4, epochs=2, seed=5)  # 5 steps
    reference, reference_log = train_student(BITEXT, TEACHER, cache, cfg)

    # Die inside step 4, after the checkpoint written at step 2 (as a SIGKILL would, mid-step).
    calls = {"n": 0}
    real_clip = torch.nn.utils.clip_grad_norm_

    def dying_clip(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("killed")
        return real_clip(*args, **kwargs)

    checkpoint = tmp_path / "checkpoint.pt"
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", dying_clip)
    with pytest.raises(KeyboardInterrupt):
        train_student(BITEXT, TEACHER, cache, cfg, checkpoint=checkpoint, checkpoint_every=2)
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", real_clip)
    assert checkpoint.exists()

    resumed, log = train_student(BITEXT, TEACHER, cache, cfg, checkpoint=checkpoint, checkpoint_every=2)
    assert log["resumed_from_step"] == 2 and log["loss"] == reference_log["loss"]
    assert same_weights(resumed, reference)
    # A checkpoint of another configuration is ignored, not resumed from.
    _, other_log = train_student(BITEXT, TEACHER, cache, dataclasses.replace(cfg, seed=6),
                                     checkpoint=checkpoint, checkpoint_every=0)
    assert other_log["resumed_from_step"] == 0


def test_micro_batches_accumulate_the_full_batch_gradient(teacher):
    tokenizer, _ = teacher
    _, model = load_encoder(TEACHER, torch.device("cpu"))
    model.eval()  # no dropout: the two gradients must then agree up to float rounding
    cache = build_teacher_cache(tokenizer, model, BITEXT, max_length=32, batch_size=5)
    cfg = train_config(max_length=32)
    student = StudentEncoder(tokenizer, model, cfg.max_length, cfg.pooling, "cpu")
    loss_fn = OpticalLoss.from_config(cfg, "balanced")

    def gradient(micro):
        model.zero_grad()
        loss, parts = accumulate_gradients(student, loss_fn, TrainingBatch(BITEXT, cache, "cpu"), micro)
        return loss, parts, [p.grad.clone() for p in model.parameters() if p.grad is not None]

    whole, whole_parts, whole_grad = gradient(5)
    split, split_parts, split_grad = gradient(2)  # micro-batches of 2, 2 and 1
    assert split == pytest.approx(whole, abs=1e-6)
    assert split_parts == pytest.approx(whole_parts, abs=1e-6)
    assert len(whole_grad) == len(split_grad) > 0
    for a, b in zip(whole_grad, split_grad):
        assert torch.allclose(a, b, atol=1e-6)


def test_contrastive_method_trains_towards_the_passages(teacher):
    tokenizer, model = teacher
    cache = build_teacher_cache(tokenizer, model, RECORDS, max_length=32, batch_size=5)
    cfg = train_config(batch_size=5, max_length=32, lr=1e-4, epochs=4, seed=1)
    _, log = train_student(RECORDS, TEACHER, cache, cfg, method="contrastive")
    assert log["method"] == "contrastive" and log["steps"] == 4 and "contrastive_loss" in log["parts"][0]
    assert log["loss"][-1] < log["loss"][0]
    with pytest.raises(ValueError, match="unknown method 'dpr'"):
        train_student(RECORDS, TEACHER, cache, cfg, method="dpr")


def test_semi_relaxed_training_on_passages(teacher):
    tokenizer, model = teacher
    passages = [{**r, "text": r["text"] + " And it was so, and the evening and the morning were the day."}
                for r in RECORDS]
    cache = build_teacher_cache(tokenizer, model, passages, max_length=32, batch_size=5)
    _, log = train_student(passages, TEACHER, cache, train_config(batch_size=5, max_length=32, epochs=2, seed=0))
    assert log["transport"] == "semi_relaxed" and all(p["ot_loss"] > 0 for p in log["parts"])


def test_pooling_choices(teacher):
    tokenizer, model = teacher
    enc = tokenizer(["Jesus wept.", "God is love."], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state
    assert torch.equal(pool(hidden, enc["attention_mask"], "cls"), hidden[:, 0])
    assert torch.allclose(pool(hidden, enc["attention_mask"], "mean"), mean_pool(hidden, enc["attention_mask"]))
    cls = encode_texts(tokenizer, model, ["Jesus wept."], 1, 32, pooling="cls")[0]
    assert abs(float((cls ** 2).sum()) - 1) < 1e-5
    assert torch.allclose(torch.tensor(cls), torch.nn.functional.normalize(hidden[0, 0], dim=0), atol=1e-5)
    with pytest.raises(ValueError, match="unknown pooling 'max'"):
        pool(hidden, enc["attention_mask"], "max")
