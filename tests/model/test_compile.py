"""torch.compile of the update's student forward (train.compile): equal to eager within tolerance on
the tiny model, eager on the CPU under auto, and a compile that fails falls back with the reason logged."""

import pytest
import torch

from swimscale.model import _compile, wants_compile
from swimscale.model._train import _Training
from tests.model.bible import records, teacher_settings, train_settings

TEACHER = teacher_settings(max_length=64, batch_size=8)


def run(mode, method="optical_pooled"):
    torch.set_num_threads(1)
    cfg = train_settings(batch_size=4, max_length=64, budget="fixed", max_steps=3, compile=mode,
                         trainable_layers=None, freeze_embeddings=False, dropout=0.0)
    return _Training(records(12), TEACHER, cfg, 0, method, None, None)


def test_auto_compiles_on_cuda_only():
    assert not wants_compile("auto", torch.device("cpu")) and wants_compile("auto", torch.device("cuda"))
    assert wants_compile("always", torch.device("cpu")) and not wants_compile("never", torch.device("cuda"))
    with pytest.raises(ValueError, match="train.compile"):
        wants_compile("on", torch.device("cpu"))


def test_a_compiled_update_equals_eager_within_tolerance(monkeypatch):
    monkeypatch.setattr(_compile, "BACKEND", "aot_eager")  # no C compiler needed; the same graph capture
    eager, compiled = run("auto"), run("always")
    assert eager.log["compile"] == "eager (train.compile auto on cpu)"
    assert compiled.log["compile"] == "compiled (aot_eager)" and compiled.encoder.forward is not None
    losses = [(eager.step(), compiled.step()) for _ in range(3)]
    assert [c for _, c in losses] == pytest.approx([e for e, _ in losses], rel=1e-4)
    for a, b in zip(eager.student.parameters(), compiled.student.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)


def test_a_compile_that_fails_falls_back_to_eager_with_the_reason(monkeypatch, capsys):
    def broken(function, **kwargs):
        def compiled(*args):
            raise RuntimeError("backend exploded")
        return compiled

    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr(_compile, "BACKEND", "broken")  # a backend no earlier test compiled (one per process)
    fallback = run("always", "pooled")
    assert fallback.log["compile"] == "eager (compile failed: RuntimeError: backend exploded)"
    _compile._compiled.cache_clear()
    assert fallback.encoder.forward is None
    assert "running eager: compile failed: RuntimeError: backend exploded" in capsys.readouterr().out
    assert fallback.step() == pytest.approx(run("never", "pooled").step(), rel=0, abs=0)


def test_the_students_of_one_job_share_the_compiled_graphs(monkeypatch):
    """students_per_job: the second student of a process compiles nothing new (the plan counts one
    compile per job)."""
    from torch._dynamo.utils import counters

    monkeypatch.setattr(_compile, "BACKEND", "aot_eager")
    first = run("always", "pooled")
    first.step()
    compiled_frames = counters["stats"]["unique_graphs"]
    assert compiled_frames > 0
    second = run("always", "pooled")
    second.step()
    assert second.log["compile"] == "compiled (aot_eager)"
    assert counters["stats"]["unique_graphs"] == compiled_frames


def test_a_compiled_forward_that_disagrees_falls_back(monkeypatch):
    """A compiled forward whose states differ from eager's beyond the tolerance is not used."""
    monkeypatch.setattr(_compile, "BACKEND", "aot_eager")
    monkeypatch.setattr(_compile, "TOLERANCE", {"float32": -1.0, "bf16": -1.0})  # nothing agrees
    refused = run("always", "pooled")
    assert refused.log["compile"].startswith("eager (compiled token states differ from eager by ")
    assert refused.encoder.forward is None
