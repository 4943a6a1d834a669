import json

import pytest
import torch

from swimscale import encode
from swimscale.train import (
    TeacherCache,
    TrainConfig,
    build_teacher_cache,
    load_student,
    save_student,
    steps_for,
    train_student,
)

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


def test_budget_rule():
    cfg = TrainConfig(batch_size=32, epochs=2, min_steps=5, max_steps=50)
    assert steps_for(0, cfg) == 0
    assert steps_for(16, cfg) == 5  # 2 passes over a batch-sized sample, raised to min_steps
    assert steps_for(320, cfg) == 20
    assert steps_for(10_000, cfg) == 50


@pytest.fixture(scope="module")
def teacher():
    torch.set_num_threads(1)
    return encode.load_encoder(TEACHER, torch.device("cpu"))


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
    expected = encode.encode_texts(tokenizer, model, ["Jesus wept."], 1, 32)[0]
    assert torch.allclose(torch.nn.functional.normalize(pooled[0], dim=0), torch.tensor(expected), atol=1e-5)
    with pytest.raises(KeyError, match="not in the teacher cache"):
        loaded.batch(["missing"], "cpu")


def test_training_is_deterministic_and_moves_towards_teacher(tmp_path, teacher):
    tokenizer, model = teacher
    cache = build_teacher_cache(tokenizer, model, RECORDS, max_length=32, batch_size=5)
    cfg = TrainConfig(batch_size=4, max_length=32, lr=1e-4, epochs=3, seed=3)
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
