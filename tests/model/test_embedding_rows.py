"""train.embedding_rows: sample trains only the word-embedding rows of the training queries (and the
special tokens) and decays the others by Π(1 − lr_t·wd): the same student as `all` up to float
rounding (every parameter, the losses, the dev curve), with fewer trained parameters and no optimiser
state outside the rows; it resumes bit-identically, reads nothing from the device in its forward,
compiles, and its saved student is a plain model."""

import dataclasses

import pytest
import torch

from swimscale.model import (
    DevSet,
    StudentModel,
    _compile,
    encode_texts,
    load_encoder,
    load_student,
    save_student,
    train_student,
)
from swimscale.model._rows import SampledRows, sample_ids
from swimscale.model._train import _Training
from tests.model.bible import dev_parts, records, teacher_settings, train_settings
from tests.model.syncs import HostSyncs

TEACHER = teacher_settings(max_length=64, batch_size=8)
# Full fine-tuning with warm-up, weight decay and a clip that binds (the gradient norms are above 0.5),
# dev-selected: the kept student is an earlier one than the last (its own step's decay must be kept).
CFG = train_settings(batch_size=4, max_length=64, budget="converged", max_steps=8, eval_every=2, patience=10,
                     min_passes=0, lr=1e-3, warmup_steps=3, weight_decay=0.1, grad_clip=0.5,
                     trainable_layers=None, freeze_embeddings=False)
PAIRS = 12
# The tightest tolerance the two ways agree within on the tiny model. Measured: 102 of the 103 parameter
# tensors are bit-equal; the word matrix differs by at most 6.0e-8 absolute, 2.1e-7 relative, from
# taking the decay as one product instead of row by row (1e-7/1e-8 fails).
RTOL, ATOL = 3e-7, 3e-8
FIXED = dataclasses.replace(CFG, budget="fixed")  # the same updates without a dev set


def train(rows, dev, seed=0, **kwargs):
    cfg = dataclasses.replace(CFG, embedding_rows=rows)
    return train_student(records(PAIRS), TEACHER, cfg, "optical", seed, dev=dev,
                         **{"checkpoint_every": 0, "checkpoint_minutes": 0, **kwargs})


@pytest.fixture(scope="module")
def teacher():
    """(tokenizer, model) of the tiny teacher, on one CPU thread."""
    torch.set_num_threads(1)
    return load_encoder(TEACHER.model, torch.device("cpu"))


@pytest.fixture(scope="module")
def ids(teacher):
    """R of the runs' sample."""
    tokenizer, model = teacher
    return sample_ids(tokenizer, [r["query"] for r in records(PAIRS)], CFG.max_length,
                      model.get_input_embeddings().padding_idx)


@pytest.fixture(scope="module")
def dev(teacher):
    """The dev set of a full fine-tuning student: it reads the dev queries as token ids (no states)."""
    queries, texts, docids, qrels = dev_parts()
    corpus = encode_texts(*teacher, texts, dataclasses.replace(TEACHER, batch_size=16))
    return DevSet(queries, corpus, docids, qrels, TEACHER)


@pytest.fixture(scope="module")
def runs(dev):
    """{setting: (student, log, gradient norms before the clip)} of the same run both ways."""
    out = {}
    real_clip = torch.nn.utils.clip_grad_norm_
    for rows in ("all", "sample"):
        norms = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(torch.nn.utils, "clip_grad_norm_", lambda *a, **k: norms.append(float(real_clip(*a, **k))))
            student, log = train(rows, dev)
        out[rows] = student, log, norms
    return out


def parameters(student):
    return dict(student.model.named_parameters())


def test_sample_trains_the_same_student_as_all(runs, teacher, ids):
    (full, full_log, norms), (sampled, log, _) = runs["all"], runs["sample"]
    assert max(norms) > CFG.grad_clip  # the clip binds
    assert 0 < log["steps_at_best"] < log["steps"] == full_log["steps"]  # an earlier student is kept
    assert log["loss"] == pytest.approx(full_log["loss"], rel=1e-6, abs=1e-6)
    assert log["dev_curve"] == full_log["dev_curve"]
    assert log["steps_at_best"] == full_log["steps_at_best"]
    a, b = parameters(full), parameters(sampled)
    assert a.keys() == b.keys() and "embeddings.word_embeddings.weight" in b
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=RTOL, atol=ATOL, msg=name)
    # The rows outside the sample did move (weight decay), as far as the decay takes them.
    _, model = teacher
    initial = model.get_input_embeddings().weight
    outside = torch.ones(initial.shape[0], dtype=torch.bool)
    outside[ids] = False
    moved = b["embeddings.word_embeddings.weight"][outside]
    assert not torch.equal(moved, initial[outside])
    factor = 1.0
    for step in range(1, log["steps_at_best"] + 1):
        factor *= 1 - CFG.lr * min(1.0, step / CFG.warmup_steps) * CFG.weight_decay
    torch.testing.assert_close(moved, initial[outside] * factor, rtol=RTOL, atol=ATOL)


def test_without_the_decay_the_untouched_rows_differ(runs, dev, ids, monkeypatch):
    """The check above can fail: drop the decay and the rows outside the sample are off by
    1 − Π(1 − lr_t·wd), beyond the tolerance, while the sampled rows still agree."""
    monkeypatch.setattr(SampledRows, "decayed", lambda self, lr, weight_decay: None)
    undecayed, _ = train("sample", dev)
    a = parameters(runs["all"][0])["embeddings.word_embeddings.weight"]
    b = parameters(undecayed)["embeddings.word_embeddings.weight"]
    assert not torch.allclose(a, b, rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(b[ids], a[ids], rtol=RTOL, atol=ATOL)


def test_sample_trains_fewer_parameters_and_no_optimiser_state_outside_the_rows(runs, teacher, ids):
    _, model = teacher
    vocabulary, width = model.get_input_embeddings().weight.shape
    full_log, log = runs["all"][1], runs["sample"][1]
    assert (full_log["embedding_rows"], log["embedding_rows"]) == ("all", "sample")
    assert full_log["trained_embedding_rows"] == vocabulary
    assert log["trained_embedding_rows"] == len(ids) < vocabulary // 10
    assert full_log["trained_parameters"] - log["trained_parameters"] == (vocabulary - len(ids)) * width
    run = _Training(records(PAIRS), TEACHER, dataclasses.replace(FIXED, embedding_rows="sample"), 0, "optical",
                    None, None)
    run.step()
    state = run.optimiser.state_dict()["state"].values()
    assert all(tensor.shape[0] != vocabulary for moments in state for tensor in moments.values() if tensor.dim())
    assert run.student.sampled.rows.shape == (len(ids), width)
    assert any(moments["exp_avg"].shape == (len(ids), width) for moments in state)


def test_every_row_outside_the_sample_gets_a_zero_gradient_under_all(ids):
    """The premise: under `all` the rows outside R get exactly zero gradient (so AdamW only decays them)."""
    run = _Training(records(PAIRS), TEACHER, FIXED, 0, "optical", None, None)
    for _ in range(2):
        run.step()
        grad = run.student.model.get_input_embeddings().weight.grad
        outside = torch.ones(grad.shape[0], dtype=torch.bool)
        outside[ids] = False
        assert torch.count_nonzero(grad[outside]) == 0 and torch.count_nonzero(grad[ids]) > 0


def test_a_killed_sample_run_resumes_to_the_same_student(runs, dev, tmp_path, monkeypatch):
    reference, reference_log, _ = runs["sample"]
    calls = {"n": 0}
    real_clip = torch.nn.utils.clip_grad_norm_

    def dying_clip(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 7:  # inside update 7, after the checkpoint of update 6
            raise KeyboardInterrupt("killed")
        return real_clip(*args, **kwargs)

    checkpoint = tmp_path / "checkpoint.pt"
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", dying_clip)
    with pytest.raises(KeyboardInterrupt):
        train("sample", dev, checkpoint=checkpoint, checkpoint_every=3)
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", real_clip)
    held = torch.load(checkpoint, weights_only=True)
    assert held["model"]["embeddings.word_embeddings.decay"] < 1  # the decay is part of the checkpoint
    assert "embeddings.word_embeddings.decay" in held["best"]
    resumed, log = train("sample", dev, checkpoint=checkpoint, checkpoint_every=3)
    assert log["resumed_from_step"] == 6
    for key in ("loss", "dev_curve", "steps", "steps_at_best", "stopped_by"):
        assert log[key] == reference_log[key], key
    a, b = parameters(reference), parameters(resumed)
    assert all(torch.equal(a[name], b[name]) for name in a)


def test_the_saved_sample_student_is_a_plain_model(runs, teacher, tmp_path):
    student = runs["sample"][0]
    assert student.sampled is None and type(student.model.get_input_embeddings()) is torch.nn.Embedding
    path = tmp_path / "student.safetensors"
    save_student(student, path)
    _, loaded = load_student(TEACHER, dataclasses.replace(CFG, embedding_rows="sample"), path, torch.device("cpu"))
    _, model = teacher
    assert loaded.model.get_input_embeddings().weight.shape == model.get_input_embeddings().weight.shape
    assert all(torch.equal(a, b) for a, b in zip(student.model.state_dict().values(),
                                                 loaded.model.state_dict().values()))


def test_the_sampled_forward_is_the_merged_matrix_and_reads_nothing(teacher, ids):
    _, model = teacher
    weight = model.get_input_embeddings().weight.detach().clone()
    layer = SampledRows(weight, ids)
    with torch.no_grad():
        layer.rows.add_(1.0)
    layer.decayed(0.1, 0.5)
    batch = torch.tensor([[ids[3], 5, ids[-1], 0], [ids[0], ids[1], 7, 29000]])
    with HostSyncs() as syncs:
        out = layer(batch)
    assert syncs.count == 0
    assert torch.equal(out, torch.nn.functional.embedding(batch, layer.merged()))
    assert torch.equal(out[0, 1], weight[5] * torch.tensor(0.95))
    assert torch.equal(out[0, 0], weight[ids[3]] + 1.0)


def test_a_compiled_sample_forward_equals_eager(monkeypatch):
    monkeypatch.setattr(_compile, "BACKEND", "aot_eager")
    cfg = dataclasses.replace(FIXED, embedding_rows="sample", dropout=0.0)
    eager = _Training(records(PAIRS), TEACHER, cfg, 0, "optical", None, None)
    compiled = _Training(records(PAIRS), TEACHER, dataclasses.replace(cfg, compile="always"), 0, "optical", None,
                         None)
    assert compiled.log["compile"] == "compiled (aot_eager)"
    losses = [(eager.step(), compiled.step()) for _ in range(3)]
    assert [c for _, c in losses] == pytest.approx([e for e, _ in losses], rel=1e-4)
    for a, b in zip(eager.student.parameters(), compiled.student.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)
    # The compiled graph reads the decay as it is now (a buffer changed in place), not as it was traced.
    compiled.student.sampled.decay.fill_(0.5)
    compiled.student.eval()
    outside = [i for i in range(2000, 2100) if compiled.student.sampled.index[i] < 0][:6]
    batch = {"input_ids": torch.tensor([[101, *outside, 102]]), "attention_mask": torch.ones(1, 8, dtype=torch.long)}
    with torch.no_grad():
        torch.testing.assert_close(compiled.encoder.forward(batch), compiled.student.forward(batch))
        assert not torch.allclose(compiled.encoder.forward(batch), eager.student.forward(batch), atol=1e-3)


def test_with_a_frozen_prefix_sample_does_nothing():
    cfg = train_settings(batch_size=4, max_length=64, budget="fixed", max_steps=2, trainable_layers=1,
                         freeze_embeddings=True, embedding_rows="sample")
    run = _Training(records(PAIRS), TEACHER, cfg, 0, "optical", None, None)
    plain = _Training(records(PAIRS), TEACHER, dataclasses.replace(cfg, embedding_rows="all"), 0, "optical", None,
                      None)
    assert run.student.sampled is None and run.log["trained_embedding_rows"] == 0
    assert run.log["trained_parameters"] == plain.log["trained_parameters"]
    with pytest.raises(ValueError, match="do not train"):
        StudentModel(load_encoder(TEACHER.model, torch.device("cpu"))[1], 1, True, None).sample_rows([1, 2])


def test_the_rows_of_a_jobs_tokenised_queries_are_those_of_the_texts(teacher):
    """In a training job the seed's queries are tokenised once (swimscale.model.JobShared): R of a nested
    sample, read from them (its first N texts), is R of its own texts tokenised again."""
    from swimscale.model._encode import TokenisedTexts

    tokenizer, model = teacher
    padding = model.get_input_embeddings().padding_idx
    largest = records(40)
    tokenised = TokenisedTexts(tokenizer, [r["_id"] for r in largest], [r["query"] for r in largest], 16)
    for n in (1, 12, 40):
        texts = [r["query"] for r in largest[:n]]
        own = sample_ids(tokenizer, texts, 16, padding)
        assert sample_ids(tokenizer, texts, 16, padding, tokenised.first_token_ids(n)) == own
    # a shorter max_length cuts the queries, and so R: the comparison can fail
    assert sample_ids(tokenizer, texts, 4, padding) != own
