"""The cheap student: which parameters train, the frozen prefix's cached states reproduce the whole
model, dropout, and the student file (trained parameters only)."""

import numpy as np
import pytest
import torch
from safetensors import safe_open

from swimscale.errors import InputError
from swimscale.model import (
    QueryStates,
    StudentModel,
    TextQueries,
    encode_queries,
    encode_query_states,
    encode_texts,
    load_encoder,
    load_student,
    save_student,
    state_settings,
)
from tests.model.bible import TEACHER, dev_parts, teacher_settings, train_settings

SPLITS = [(None, False), (None, True), (1, True), (2, True)]
FROZEN = train_settings(trainable_layers=1, freeze_embeddings=True)  # the top layer trains


@pytest.fixture(scope="module")
def teacher():
    torch.set_num_threads(1)
    return load_encoder(TEACHER, torch.device("cpu"))


@pytest.mark.parametrize(("trainable_layers", "freeze_embeddings"), SPLITS)
def test_only_the_named_parameters_train(teacher, trainable_layers, freeze_embeddings):
    _, model = load_encoder(TEACHER, torch.device("cpu"))
    student = StudentModel(model, trainable_layers, freeze_embeddings, dropout=0.0)
    trained = set(student.trained)
    layers = {name.split(".")[2] for name in trained if name.startswith("encoder.layer.")}
    assert layers == ({"5"} if trainable_layers == 1 else {"4", "5"} if trainable_layers == 2 else set("012345"))
    assert any(name.startswith("embeddings.") for name in trained) == (not freeze_embeddings)
    assert not any(name.startswith("pooler.") for name in trained)
    assert [p for p in student.parameters()] == [p for n, p in model.named_parameters() if n in trained]
    assert all(m.p == 0.0 for m in model.modules() if isinstance(m, torch.nn.Dropout))
    assert student.cached == (trainable_layers is not None or freeze_embeddings)
    student.train()  # the frozen prefix stays in eval mode, the rest trains
    if student.cached:
        assert not model.embeddings.training and model.encoder.layer[-1].training
    with pytest.raises(InputError, match="trainable_layers.*7.*6 layers"):
        StudentModel(load_encoder(TEACHER, torch.device("cpu"))[1], 7, True, None)


@pytest.mark.parametrize(("trainable_layers", "freeze_embeddings"), SPLITS[1:])
def test_top_layers_on_cached_prefix_states_reproduce_the_whole_model(teacher, trainable_layers, freeze_embeddings):
    tokenizer, model = teacher
    queries, _, _, _ = dev_parts()
    ids, texts = list(queries), list(queries.values())
    student = StudentModel(load_encoder(TEACHER, torch.device("cpu"))[1], trainable_layers, freeze_embeddings, None)
    states = encode_query_states(tokenizer, student, ids, texts, teacher_settings(batch_size=5),
                                 train_settings(max_length=64))
    # The cached path, the token-id path and the plain encoder give the same query embeddings.
    cached = encode_queries(student, states, ids, teacher_settings(batch_size=7))
    whole = encode_texts(tokenizer, model, texts, teacher_settings(batch_size=7, max_length=64))
    assert np.abs(cached - whole).max() < 1e-5
    plain = StudentModel(load_encoder(TEACHER, torch.device("cpu"))[1], None, False, None)
    from_text = encode_queries(plain, TextQueries(tokenizer, 64, queries), ids, teacher_settings(batch_size=3))
    assert np.abs(from_text - whole).max() < 1e-5
    # Token states too, with the special tokens flagged as the transport mask expects.
    batch = states.batch(ids[:3], "cpu")
    enc = tokenizer(texts[:3], padding=True, truncation=True, max_length=64, return_tensors="pt")
    with torch.no_grad():
        expected = model(**enc).last_hidden_state
        got = student.top(batch["hidden"], batch["attention_mask"])
    assert torch.equal(batch["attention_mask"], enc["attention_mask"])
    assert torch.allclose(got * batch["attention_mask"][..., None], expected * enc["attention_mask"][..., None], atol=1e-5)
    lengths = enc["attention_mask"].sum(1)
    assert batch["transport_mask"].sum(1).tolist() == (lengths - 2).tolist()  # [CLS] and [SEP] out
    assert batch["transport_mask"][:, 0].sum() == 0


def test_query_states_round_trip_and_refuse_other_settings(tmp_path, teacher):
    tokenizer, _ = teacher
    queries, _, _, _ = dev_parts(6)
    student = StudentModel(load_encoder(TEACHER, torch.device("cpu"))[1], 1, True, None)
    teacher, train = teacher_settings(batch_size=4), train_settings(max_length=32)
    settings = state_settings(teacher, train, student)
    states = encode_query_states(tokenizer, student, list(queries), list(queries.values()), teacher, train)
    states.save(tmp_path / "states.safetensors")
    loaded = QueryStates.load(tmp_path / "states.safetensors")
    loaded.check(settings)
    assert loaded.ids == states.ids and torch.equal(loaded.states, states.states)
    assert max(loaded.length(q) for q in loaded.ids) <= 32
    with pytest.raises(InputError, match="states.safetensors: computed with .*prefix_depth.: 5"):
        loaded.check({**settings, "prefix_depth": 4})
    with pytest.raises(KeyError, match="no cached prefix states"):
        loaded.batch(["unknown"], "cpu")


def test_student_file_holds_the_trained_parameters_only(tmp_path, teacher):
    _, model = load_encoder(TEACHER, torch.device("cpu"))
    student = StudentModel(model, 1, True, None)
    with torch.no_grad():
        for p in student.parameters():
            p.add_(0.01)
    save_student(student, tmp_path / "student.safetensors")
    with safe_open(str(tmp_path / "student.safetensors"), framework="pt") as handle:
        assert sorted(handle.keys()) == sorted(student.trained)
    _, loaded = load_student(teacher_settings(), FROZEN, tmp_path / "student.safetensors", torch.device("cpu"))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.model.state_dict().values()))
    assert not loaded.model.training
    _, untrained = load_student(teacher_settings(), train_settings(), None, torch.device("cpu"))
    assert not torch.equal(untrained.model.encoder.layer[5].output.dense.weight, model.encoder.layer[5].output.dense.weight)
    with pytest.raises(InputError, match="frozen prefix of 5 layers.*give 4"):
        load_student(teacher_settings(), train_settings(trainable_layers=2, freeze_embeddings=True),
                     tmp_path / "student.safetensors", torch.device("cpu"))


def test_a_float16_student_file_is_half_the_size_and_loads_to_the_rounded_weights(tmp_path, teacher):
    """student_dtype: float16 stores every trained parameter in half precision (half the bytes); the
    loaded student holds exactly those values in float32, and its query embeddings stay those of the
    float32 student to within half precision's rounding."""
    tokenizer, _ = teacher
    _, model = load_encoder(TEACHER, torch.device("cpu"))
    student = StudentModel(model, 1, True, None)
    with torch.no_grad():
        for p in student.parameters():
            p.add_(0.01)
    full, half = tmp_path / "full.safetensors", tmp_path / "half.safetensors"
    save_student(student, full)
    save_student(student, half, "float16")
    with safe_open(str(half), framework="pt") as handle:
        assert {handle.get_tensor(name).dtype for name in handle.keys()} == {torch.float16}
        assert sorted(handle.keys()) == sorted(student.trained)
    assert 0.49 < half.stat().st_size / full.stat().st_size < 0.51
    _, from_full = load_student(teacher_settings(), FROZEN, full, torch.device("cpu"))
    _, from_half = load_student(teacher_settings(), FROZEN, half, torch.device("cpu"))
    for name, value in student.trainable_state().items():
        loaded = dict(from_half.model.named_parameters())[name]
        assert loaded.dtype == torch.float32 and torch.equal(loaded, value.to(torch.float16).to(torch.float32))
    queries, _, _, _ = dev_parts()
    ids = list(queries)[:16]
    teacher = teacher_settings(batch_size=8)
    states = encode_query_states(tokenizer, from_full, ids, [queries[q] for q in ids], teacher,
                                 train_settings(max_length=64))  # the frozen prefix: the same for both
    a = encode_queries(from_full, states, ids, teacher)
    b = encode_queries(from_half, states, ids, teacher)
    cosine = (a * b).sum(axis=1)  # both L2-normalised
    assert cosine.min() > 0.9999 and not np.array_equal(a, b)
