"""Host synchronisations of a training update, counted on CPU with a TorchDispatchMode
(tests/model/syncs.py): the Sinkhorn solver's accelerator path reads nothing and gives the host path's
plan to the bit; a whole update of every arm reads the device at most twice."""

import pytest
import torch

from swimscale.model import _ot, optical_loss, semi_relaxed_sinkhorn, sinkhorn
from swimscale.model._teacher import TeacherEncoder
from swimscale.model._train import _Training, host_values
from tests.model.bible import records, teacher_settings, train_settings
from tests.model.states import write_states
from tests.model.syncs import HostSyncs

TEACHER = teacher_settings(max_length=64, batch_size=8)
METHODS = ["optical", "optical_pooled", "pooled", "contrastive"]


def problems(seed, batch=5, n=7, m=11, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    cost = 2 * torch.rand(batch, n, m, generator=gen, dtype=dtype)
    a_mask = (torch.arange(n)[None] < torch.randint(1, n + 1, (batch, 1), generator=gen)).to(dtype)
    b_mask = (torch.arange(m)[None] < torch.randint(1, m + 1, (batch, 1), generator=gen)).to(dtype)
    return cost, a_mask / a_mask.sum(1, keepdim=True), b_mask / b_mask.sum(1, keepdim=True)


@pytest.mark.parametrize("kind", ["balanced", "semi_relaxed"])
@pytest.mark.parametrize("domain", ["scaling", "log"])
@pytest.mark.parametrize("tol", [1e-6, 0.0])
def test_the_device_path_reads_nothing_and_returns_the_early_stops_plan(kind, domain, tol):
    cost, a, b = problems(0)
    solve = (lambda **kw: sinkhorn(cost, a, b, 0.1, 200, tol=tol, domain=domain, return_info=True, **kw)) \
        if kind == "balanced" else \
        (lambda **kw: semi_relaxed_sinkhorn(cost, a, b, 0.1, 0.5, 200, tol=tol, domain=domain, return_info=True, **kw))
    host_plan, host_info = solve(host_checks=True)
    with HostSyncs() as syncs:
        plan, info = solve(host_checks=False)
    assert syncs.count == 0
    assert torch.equal(plan, host_plan)
    assert int(info.iterations) == host_info.iterations
    if tol:
        assert host_info.iterations < 200  # the tolerance stopped the host path early
        assert float(info.marginal_error) == host_info.marginal_error


def test_optical_loss_without_host_checks_reads_nothing():
    gen = torch.Generator().manual_seed(1)
    student, teacher = torch.randn(4, 6, 8, generator=gen), torch.randn(4, 9, 8, generator=gen)
    masks = torch.ones(4, 6), torch.ones(4, 9)
    masks[1][2, 5:] = 0
    for tau in (None, 0.1):
        with HostSyncs() as syncs:
            loss = optical_loss(student, teacher, *masks, eps=0.02, n_iters=50, tau=tau, host_checks=False)
        assert syncs.count == 0
        assert float(loss) == pytest.approx(float(optical_loss(student, teacher, *masks, 0.02, 50, tau)), rel=1e-5)


def test_host_values_reads_once_and_gives_what_item_gives():
    values = [torch.tensor(0.1234567), torch.tensor(2.5, dtype=torch.float64), 3.0]
    with HostSyncs() as syncs:
        read = host_values(values)
    assert syncs.count == 1
    assert read == [values[0].item(), 2.5, 3.0]


@pytest.fixture
def device_path(monkeypatch):
    """The CPU runs the accelerator's path: Sinkhorn without host checks."""
    monkeypatch.setattr(_ot, "HOST_CHECKS_ON_CPU", False)


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """The language's teacher states (teacher_tokens: language) of a pool the runs' records come from."""
    return write_states(tmp_path_factory.mktemp("states") / "pool.safetensors", TEACHER, records(30))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("teacher_tokens", ["precompute", "on_the_fly", "language"])
def test_a_training_update_of_every_arm_reads_the_device_at_most_twice(device_path, states, method, teacher_tokens):
    torch.set_num_threads(1)
    cfg = train_settings(batch_size=4, max_length=64, budget="fixed", max_steps=3, teacher_tokens=teacher_tokens,
                         trainable_layers=None, freeze_embeddings=False, dropout=0.0)
    run = _Training(records(24), TEACHER, cfg, 0, method, None, None, states)
    run.step()
    with HostSyncs() as syncs:
        run.step()
    # Ours: the one read of the loss and its parts. transformers' mask helper reads once per model
    # forward in eager mode (the student's; and the teacher's when it runs on the fly).
    assert syncs.ours == 1, syncs.calls
    forwards = 1 + (teacher_tokens == "on_the_fly")
    assert syncs.count == 1 + forwards
    if teacher_tokens != "on_the_fly":
        assert syncs.count <= 2


@pytest.mark.parametrize("method", METHODS)
def test_an_update_that_trains_sampled_embedding_rows_reads_the_device_as_often(device_path, method):
    """train.embedding_rows: sample — the sampled rows' forward and their decay read nothing."""
    torch.set_num_threads(1)
    cfg = train_settings(batch_size=4, max_length=64, budget="fixed", max_steps=3, teacher_tokens="precompute",
                         trainable_layers=None, freeze_embeddings=False, dropout=0.0, embedding_rows="sample")
    run = _Training(records(24), TEACHER, cfg, 0, method, None, None)
    assert run.student.sampled is not None
    run.step()
    with HostSyncs() as syncs:
        run.step()
    assert syncs.ours == 1 and syncs.count == 2, syncs.calls


@pytest.mark.parametrize("method", ["optical_pooled", "optical", "pooled"])
@pytest.mark.parametrize(("teacher_tokens", "per_step"), [("on_the_fly", 1), ("precompute", 0), ("language", 0)])
def test_the_teacher_runs_at_most_once_per_step_and_never_with_the_cache(monkeypatch, states, method, teacher_tokens,
                                                                         per_step):
    torch.set_num_threads(1)
    cfg = train_settings(batch_size=4, max_length=64, budget="fixed", max_steps=3, teacher_tokens=teacher_tokens)
    run = _Training(records(24), TEACHER, cfg, 0, method, None, None, states)
    calls = []
    forward = TeacherEncoder.__call__
    monkeypatch.setattr(TeacherEncoder, "__call__", lambda self, texts, device, enc=None: calls.append(1) or forward(self, texts, device, enc))
    for _ in range(3):
        run.step()
    assert len(calls) == 3 * per_step


class Clock:
    """A wall clock the test moves by hand (minutes)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_run_shorter_than_the_interval_writes_no_checkpoint_and_writes_are_in_the_background(tmp_path):
    from swimscale.model._checkpoint import Checkpoints

    clock = Clock()
    checkpoints = Checkpoints(tmp_path / "c.pt", 1, "run", 30.0, clock)
    checkpoints.start()
    written = [step for step in range(1, 200) if checkpoints.due(step, 200) and not checkpoints.save({"step": step})]
    assert written == [] and checkpoints.writes == 0 and not checkpoints.path.exists()
    threads = []
    original = checkpoints._write
    checkpoints._write = lambda host: threads.append(__import__("threading").current_thread().name) or original(host)
    for minute, step in ((31, 200), (45, 201), (62, 202)):
        clock.now = 60.0 * minute
        if checkpoints.due(step, 1000):
            checkpoints.save({"step": torch.tensor(step)}, background=True)
    checkpoints.wait()
    assert checkpoints.writes == 2 and threads == ["checkpoint-writer"] * 2  # at 31 and 62 minutes
    assert torch.load(checkpoints.path, weights_only=True)["step"] == 202


def test_a_training_job_shorter_than_the_interval_writes_at_most_two_checkpoints(tmp_path, monkeypatch):
    from swimscale.model import _checkpoint, train_student

    saves = []
    original = _checkpoint.Checkpoints.save
    monkeypatch.setattr(_checkpoint.Checkpoints, "save", lambda self, state, background=False: saves.append(
        state["step"]) or original(self, state, background))
    cfg = train_settings(batch_size=4, max_length=64, budget="fixed", max_steps=6, trainable_layers=1,
                         freeze_embeddings=True)
    train_student(records(12), TEACHER, cfg, "optical", 0, checkpoint=tmp_path / "c.pt", checkpoint_every=1,
                  checkpoint_minutes=30)
    assert len(saves) <= 2
    saves.clear()
    train_student(records(12), TEACHER, cfg, "optical", 1, checkpoint=tmp_path / "d.pt", checkpoint_every=1,
                  checkpoint_minutes=0)
    assert saves == [1, 2, 3, 4, 5]  # interval 0: every considered step, as before
