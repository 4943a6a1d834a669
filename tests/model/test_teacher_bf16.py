"""The teacher's forward under the student's bf16 autocast agrees with fp32 (cosine ≥ 0.999 on the tiny
model; CPU bf16 autocast stands in for CUDA's), and the training run hands the teacher the student's
autocast policy."""

import contextlib

import pytest
import torch

from swimscale.model import TeacherEncoder, load_encoder
from tests.model.bible import records, teacher_settings

TEACHER = teacher_settings(max_length=64, batch_size=8)


def test_bf16_teacher_agrees_with_fp32():
    torch.manual_seed(0)
    tokenizer, model = load_encoder(TEACHER.model, torch.device("cpu"))
    texts = [r["text"] for r in records(16)]
    fp32 = TeacherEncoder(tokenizer, model, TEACHER)(texts, "cpu")
    bf16 = TeacherEncoder(tokenizer, model, TEACHER, lambda: torch.autocast("cpu", dtype=torch.bfloat16))(texts, "cpu")
    assert bf16[0].dtype == torch.float32  # handed on as float32 whatever the autocast
    assert torch.equal(bf16[1], fp32[1])
    assert not torch.equal(bf16[0], fp32[0])  # bf16 really ran
    pooled = torch.nn.functional.cosine_similarity(bf16[2], fp32[2], dim=-1)
    assert pooled.min() >= 0.999
    mask = fp32[1].bool()
    tokens = torch.nn.functional.cosine_similarity(bf16[0][mask], fp32[0][mask], dim=-1)
    assert tokens.mean() >= 0.999


def test_the_run_gives_the_teacher_the_students_autocast_policy(monkeypatch):
    from swimscale.model import _train
    from tests.model.bible import train_settings

    seen = []
    monkeypatch.setattr(_train, "autocast_for", lambda device: seen.append(device) or contextlib.nullcontext)
    cfg = train_settings(batch_size=4, max_length=64, budget="fixed", max_steps=1, teacher_tokens="on_the_fly")
    run = _train._Training(records(8), TEACHER, cfg, 0, "optical", None, None)
    assert run.teacher.teacher.autocast is contextlib.nullcontext and len(seen) == 2  # the teacher's and the student's


def test_cached_teacher_states_give_the_loss_of_recomputed_ones():
    from swimscale.model import METHODS, TeacherOnTheFly, TrainingBatch, build_teacher_cache
    from swimscale.model.losses import StudentOutputs
    from tests.model.bible import train_settings

    tokenizer, model = load_encoder(TEACHER.model, torch.device("cpu"))
    teacher = TeacherEncoder(tokenizer, model, TEACHER)
    pairs = records(12, translations=False)
    cache = build_teacher_cache(teacher, pairs)
    fly = TeacherOnTheFly(teacher)
    gen = torch.Generator().manual_seed(0)
    batch = pairs[2:8]
    width = cache.tokens.shape[1]
    student = StudentOutputs(torch.randn(6, 9, width, generator=gen), torch.ones(6, 9),
                             torch.randn(6, width, generator=gen))
    cfg = train_settings()
    for method in ("optical", "optical_pooled", "pooled", "contrastive"):
        loss = METHODS[method].from_config(cfg, "semi_relaxed", TEACHER)
        cached, _ = loss(student, TrainingBatch(batch, cache, "cpu"))
        recomputed, _ = loss(student, TrainingBatch(batch, fly, "cpu"))
        assert float(cached) == pytest.approx(float(recomputed), rel=1e-5, abs=1e-6), method


def test_a_bf16_teacher_cache_keeps_bf16_tokens_and_hands_on_float32():
    from swimscale.model import build_teacher_cache

    tokenizer, model = load_encoder(TEACHER.model, torch.device("cpu"))
    bf16 = TeacherEncoder(tokenizer, model, TEACHER, lambda: torch.autocast("cpu", dtype=torch.bfloat16))
    fp32 = build_teacher_cache(TeacherEncoder(tokenizer, model, TEACHER), records(6))
    cache = build_teacher_cache(bf16, records(6))
    assert cache.tokens.dtype == torch.bfloat16 and fp32.tokens.dtype == torch.float32
    assert cache.tokens.shape == fp32.tokens.shape  # the same tokens: only those the loss reads
    tokens, _, _ = cache.batch(records(6), "cpu")
    assert tokens.dtype == torch.float32
