"""What a training job's students share per seed (swimscale.model.JobShared): the queries tokenised once
give tokenize_for_transport's batches exactly; the teacher's states of the seed's largest sample,
computed once for the job, give a nested sample's run the loss and student of its own precomputed
states, with the teacher run once per (job, seed); a sample that is not a prefix falls back, saying
so; the update reads the device no more often than with the per-run cache; CPU `auto` is unchanged."""

import random

import pytest
import torch

from swimscale.model import (
    HostTeacherCache,
    JobShared,
    TeacherEncoder,
    TextQueries,
    TokenisedTexts,
    build_teacher_cache,
    load_encoder,
    load_tokenizer,
    resolve_teacher_tokens,
    tokenize_for_transport,
)
from swimscale.model import _ot
from swimscale.model._train import _Training
from tests.model.bible import records, teacher_settings, train_settings
from tests.model.syncs import HostSyncs

TEACHER = teacher_settings(max_length=64, batch_size=8)
LARGEST = records(24)  # a seed's largest sample of the job; its nested samples are its first records


@pytest.fixture(scope="module")
def tokenizer():
    torch.set_num_threads(1)
    return load_tokenizer(TEACHER.model)


def texts_of_every_length():
    """Bible verses, the empty text, one word, and texts far beyond max_length (truncated)."""
    texts = [r["query"] for r in records(40)] + ["", "a", "in the beginning " * 80, "x" * 700]
    return [f"t{i}" for i in range(len(texts))], texts


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("max_length", [8, 24, 64])
def test_pretokenised_batches_are_tokenize_for_transports_exactly(tokenizer, side, max_length, monkeypatch):
    monkeypatch.setattr(tokenizer, "padding_side", side)
    ids, texts = texts_of_every_length()
    tokenised = TokenisedTexts(tokenizer, ids, texts, max_length, chunk=7)  # several tokenizer calls
    draw = random.Random(max_length)
    for size in (1, 2, 5, 16, len(ids)):
        chosen = draw.sample(range(len(ids)), size)
        expected = tokenize_for_transport(tokenizer, [texts[i] for i in chosen], max_length, "cpu")
        got = tokenised.batch([ids[i] for i in chosen], "cpu")
        assert list(got) == list(expected)  # the same keys (token_type_ids included), in the same order
        for key, value in expected.items():
            assert got[key].dtype == value.dtype and torch.equal(got[key], value), (key, size)
    assert max(tokenised.length(i) for i in ids) == max_length  # the long texts were truncated


def test_text_queries_keep_the_text_length_and_read_a_shared_tokenisation(tokenizer):
    ids, texts = texts_of_every_length()
    queries = dict(zip(ids[:5], texts[:5]))
    shared = TokenisedTexts(tokenizer, ids, texts, 32)
    own, reading = TextQueries(tokenizer, 32, queries), TextQueries(tokenizer, 32, queries, shared)
    assert own == reading and reading.length(ids[2]) == len(texts[2])  # characters, for group_by_length
    for key, value in own.batch(ids[:5], "cpu").items():
        assert torch.equal(reading.batch(ids[:5], "cpu")[key], value)
    with pytest.raises(ValueError, match="max_length"):
        TextQueries(tokenizer, 64, queries, shared)


def test_the_host_cache_gives_the_per_run_caches_batches():
    tokenizer, model = load_encoder(TEACHER.model, torch.device("cpu"))
    encoder = TeacherEncoder(tokenizer, model, TEACHER)
    own = build_teacher_cache(encoder, LARGEST)
    host = HostTeacherCache(build_teacher_cache(encoder, LARGEST), pin=False)
    batch = [LARGEST[5], LARGEST[0], LARGEST[17]]
    for mine, theirs in zip(host.batch(batch, "cpu"), own.batch(batch, "cpu")):
        assert torch.equal(mine, theirs)
    assert torch.equal(host.passages(batch, "cpu"), own.passages(batch, "cpu"))
    assert torch.equal(host.pooled(batch, "cpu"), own.pooled(batch, "cpu"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="pinning fails only without an accelerator")
def test_a_batch_that_cannot_be_pinned_is_copied_from_pageable_memory_saying_why(capsys):
    tokenizer, model = load_encoder(TEACHER.model, torch.device("cpu"))
    encoder = TeacherEncoder(tokenizer, model, TEACHER)
    own = build_teacher_cache(encoder, LARGEST[:6])
    host = HostTeacherCache(build_teacher_cache(encoder, LARGEST[:6]), pin=True)
    for mine, theirs in zip(host.batch(LARGEST[:4], "cpu"), own.batch(LARGEST[:4], "cpu")):
        assert torch.equal(mine, theirs)
    assert "could not be pinned" in capsys.readouterr().out and not host.pin


def run(mode, method, sample, shared=None, seed=0, steps=3):
    cfg = train_settings(batch_size=4, max_length=64, budget="fixed", max_steps=steps, teacher_tokens=mode,
                         trainable_layers=None, freeze_embeddings=False, dropout=0.0)
    training = _Training(list(sample), TEACHER, cfg, seed, method, None, None, None, shared)
    return training, [training.step() for _ in range(steps)]


@pytest.fixture
def teacher_calls(monkeypatch):
    calls = []
    forward = TeacherEncoder.__call__
    monkeypatch.setattr(TeacherEncoder, "__call__",
                        lambda self, texts, device, enc=None: calls.append(len(texts)) or forward(self, texts, device, enc))
    return calls


@pytest.mark.parametrize("method", ["optical_pooled", "contrastive"])
def test_job_states_of_the_largest_sample_train_a_nested_sample_as_its_own_states_do(method, teacher_calls):
    reads = []
    shared = JobShared({0: lambda: reads.append(0) or list(LARGEST)}, [method])
    small, small_losses = run("job", method, LARGEST[:12], shared)
    built = len(teacher_calls)
    large, large_losses = run("job", method, LARGEST, shared)
    assert small.teacher_tokens == large.teacher_tokens == "job"
    assert len(teacher_calls) == built and shared.current.teacher_builds == 1 and reads == [0]  # once per seed
    assert sum(teacher_calls) == len(LARGEST)  # each counterpart once (the passages are the counterparts here)
    for sample, (job_run, losses) in ((LARGEST[:12], (small, small_losses)), (LARGEST, (large, large_losses))):
        own, own_losses = run("precompute", method, sample)
        assert own.teacher_tokens == "precompute"
        assert losses == pytest.approx(own_losses, rel=1e-6, abs=1e-7)
        for mine, theirs in zip(job_run.student.parameters(), own.student.parameters()):
            assert torch.allclose(mine, theirs, rtol=1e-5, atol=1e-7)
    assert len(teacher_calls) > built  # the per-run caches ran the teacher again, per student


def test_a_new_seed_frees_the_previous_seeds_data_and_reads_its_own_largest_sample(teacher_calls):
    other = records(30)[6:]  # another seed's sample: other records, another order
    shared = JobShared({0: LARGEST, 1: other[::-1]}, ["optical"])
    run("job", "optical", LARGEST[:8], shared, seed=0, steps=1)
    first = shared.current
    run("job", "optical", other[::-1][:8], shared, seed=1, steps=1)
    assert shared.current is not first and shared.current.seed == 1 and shared.seeds_started == 2
    assert shared.current.teacher_builds == 1 and sum(teacher_calls) == len(LARGEST) + len(other)


def test_a_sample_that_is_not_a_prefix_takes_the_per_run_path_and_says_so(capsys):
    shared = JobShared({0: LARGEST}, ["optical"])
    shifted, losses = run("job", "optical", LARGEST[1:13], shared)
    assert "not used" in capsys.readouterr().out
    assert shifted.teacher_tokens == "precompute"  # auto's per-run path on the CPU
    assert "is not the job's largest sample's record 0" in shifted.log["job_shared_unused"]
    assert losses == run("precompute", "optical", LARGEST[1:13])[1]
    edited = [dict(r) for r in LARGEST[:6]]
    edited[3]["query"] += " (edited)"
    assert "record 3" in run("job", "optical", edited, shared, steps=1)[0].log["job_shared_unused"]
    assert "more than" in run("job", "optical", records(30), shared, steps=1)[0].log["job_shared_unused"]
    assert "job_shared_unused" not in run("job", "optical", LARGEST[:6], shared, steps=1)[0].log


def test_cpu_auto_with_a_job_is_the_per_run_run_to_the_bit():
    """On the CPU `auto` precomputes per run whatever the job (the demo's results stay): only the queries
    come from the job's tokenisation, and they are the same tensors."""
    shared = JobShared({0: LARGEST}, ["optical"])
    with_job, losses = run("auto", "optical", LARGEST[:12], shared)
    alone, alone_losses = run("auto", "optical", LARGEST[:12])
    assert with_job.teacher_tokens == alone.teacher_tokens == "precompute" and losses == alone_losses
    assert all(torch.equal(a, b) for a, b in zip(with_job.student.parameters(), alone.student.parameters()))
    assert with_job.encoder.inputs.tokens is shared.current.queries(with_job.encoder.inputs.tokenizer, 64)


@pytest.mark.parametrize("method", ["optical", "optical_pooled", "pooled", "contrastive"])
def test_an_update_with_the_job_states_reads_the_device_no_more_than_with_the_per_run_cache(monkeypatch, method):
    monkeypatch.setattr(_ot, "HOST_CHECKS_ON_CPU", False)  # the accelerator's path
    counts = {}
    for mode in ("precompute", "job"):
        training, _ = run(mode, method, LARGEST[:12], JobShared({0: LARGEST}, [method]), steps=1)
        with HostSyncs() as syncs:
            training.step()
        counts[mode] = (syncs.count, syncs.ours)
    assert counts["job"] <= counts["precompute"] and counts["job"][1] == 1, counts


def test_auto_on_cuda_takes_the_job_states_after_the_languages_and_before_the_runs_own():
    cuda = torch.device("cuda")
    assert resolve_teacher_tokens("auto", cuda, language=True, run_fits=True, job_fits=True) == "language"
    assert resolve_teacher_tokens("auto", cuda, run_fits=True, job_fits=True) == "job"
    assert resolve_teacher_tokens("auto", cuda, run_fits=True) == "precompute"
    assert resolve_teacher_tokens("auto", torch.device("cpu"), job_fits=True) == "precompute"
    assert resolve_teacher_tokens("job", torch.device("cpu")) == "job"


def test_a_jobs_largest_sample_per_seed_and_its_students_seed_after_seed():
    students = [dict(seed=s, size=n) for n in (8, 16, 32) for s in (3, 1)]
    read = []
    shared = JobShared.of_students(students, lambda s: read.append((s["seed"], s["size"])) or LARGEST, ["pooled"])
    assert not read and not shared.tokens and not shared.passages  # read when the seed starts; pooled reads no tokens
    shared.seed(1)
    assert read == [(1, 32)]
    assert [(s["seed"], s["size"]) for s in JobShared.order(students)] == [
        (3, 8), (3, 16), (3, 32), (1, 8), (1, 16), (1, 32)]


def test_job_asked_for_without_a_jobs_data_is_a_job_of_the_run_alone(teacher_calls):
    alone, losses = run("job", "pooled", LARGEST[:12])
    assert alone.teacher_tokens == "job" and isinstance(alone.teacher, HostTeacherCache)
    assert alone.teacher.tokens is None and sum(teacher_calls) == 12  # pooled reads no tokens: none kept
    assert losses == pytest.approx(run("precompute", "pooled", LARGEST[:12])[1], rel=1e-6, abs=1e-7)


def test_a_seeds_counterparts_are_tokenised_once_for_sizing_and_for_the_teacher(monkeypatch):
    """The job's states of a seed are sized from the counterparts tokenised once, and the teacher's
    forward reads those same tokens: nothing tokenises a counterpart a second time, and the states are
    those of the teacher tokenising its own batches (the per-run cache's)."""
    from swimscale.model import _encode, build_teacher_cache, load_encoder

    called = []
    real = _encode.tokenize_for_transport
    monkeypatch.setattr(_encode, "tokenize_for_transport", lambda *a, **k: called.append(1) or real(*a, **k))
    shared = JobShared({0: LARGEST}, ["optical"])
    job, _ = run("job", "optical", LARGEST[:8], shared, steps=1)
    assert job.teacher_tokens == "job" and called == []  # the queries' batches: pre-tokenised too
    monkeypatch.setattr(_encode, "tokenize_for_transport", real)
    encoder = TeacherEncoder(*load_encoder(TEACHER.model, torch.device("cpu")), TEACHER)
    own = build_teacher_cache(encoder, LARGEST, tokens=True, passages=False)  # tokenising its own batches
    assert torch.equal(own.offsets, torch.tensor(shared.current.teacher_rows(encoder)))
    assert torch.allclose(own.tokens, job.teacher.tokens, rtol=1e-5, atol=1e-6)
