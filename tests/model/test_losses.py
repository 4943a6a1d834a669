"""Each training method's loss object against its formula, computed independently (POT for the plans)."""

import numpy as np
import ot as pot
import pytest
import torch
from scipy.special import log_softmax

from swimscale.model import (
    METHODS,
    ContrastiveLoss,
    OpticalLoss,
    OpticalPooledLoss,
    PooledLoss,
    StudentOutputs,
    TeacherCache,
    TrainingBatch,
    TrainingLoss,
)
from tests.model.bible import teacher_settings, train_settings

D = 8
TEACHER = teacher_settings()  # the bundled MiniLM's settings: mean pooling, normalised (cosine)
IDS = ["a", "b", "c", "d"]
TEACHER_LENGTHS = [5, 9, 3, 7]  # tokens of each record's English counterpart
STUDENT_LENGTHS = [4, 6, 2, 6]  # tokens of the batch's queries, in batch order (d, b, a, c)
BATCH_ORDER = ["d", "b", "a", "c"]  # not the cache's order: rows must be looked up by id


def synthetic_cache(gen):
    tokens = torch.randn(sum(TEACHER_LENGTHS), D, generator=gen)
    offsets = torch.cumsum(torch.tensor([0, *TEACHER_LENGTHS]), 0)
    return TeacherCache(IDS, tokens, offsets, torch.randn(4, D, generator=gen), torch.randn(4, D, generator=gen))


def synthetic_student(gen):
    n = max(STUDENT_LENGTHS)
    mask = (torch.arange(n)[None] < torch.tensor(STUDENT_LENGTHS)[:, None]).float()
    return StudentOutputs(torch.randn(4, n, D, generator=gen), mask, torch.randn(4, D, generator=gen))


def cosine(x, y):
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    y = y / np.linalg.norm(y, axis=-1, keepdims=True)
    return x @ y.T


def config(**overrides):
    return train_settings(**overrides)


@pytest.fixture
def batch_and_student():
    gen = torch.Generator().manual_seed(11)
    cache = synthetic_cache(gen)
    return TrainingBatch([{"_id": i} for i in BATCH_ORDER], cache, "cpu"), synthetic_student(gen)


def reference_terms(batch, student, transport, eps, tau):
    """Per pair, computed independently: the transport cost <T*, C> (POT's plan) and 1 − cos of the
    pooled embeddings."""
    cache = batch.teacher
    transport_costs, pooled_terms = [], []
    for i, record_id in enumerate(BATCH_ORDER):
        row = IDS.index(record_id)
        x = student.tokens[i, : STUDENT_LENGTHS[i]].double().numpy()
        y = cache.tokens[cache.offsets[row] : cache.offsets[row + 1]].double().numpy()
        cost = 1 - cosine(x, y)
        a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
        if transport == "balanced":
            plan = pot.sinkhorn(a, b, cost, eps, numItermax=100000, stopThr=1e-13)
        else:
            plan = pot.unbalanced.sinkhorn_unbalanced(a, b, cost, eps, reg_m=(float("inf"), tau), reg_type="entropy",
                                                      numItermax=100000, stopThr=1e-13)
        transport_costs.append((plan * cost).sum())
        s, t = student.pooled[i].double().numpy(), cache.pooled([{"_id": record_id}], "cpu")[0].double().numpy()
        pooled_terms.append(1 - cosine(s[None], t[None])[0, 0])
    return np.mean(transport_costs), np.mean(pooled_terms)


@pytest.mark.filterwarnings("ignore:If reg_type = entropy")
@pytest.mark.parametrize("transport", ["balanced", "semi_relaxed"])
def test_each_arm_optimises_what_it_is_named_for(batch_and_student, transport):
    """optical = the transport cost alone; optical_pooled = it + w × the pooled term; pooled = that
    term alone; the transport kind sets τ."""
    batch, student = batch_and_student
    cfg = config(eps=0.1, tau=0.2, sinkhorn_iters=2000, pooled_weight=0.5)
    transport_cost, pooled_term = reference_terms(batch, student, transport, 0.1, 0.2)
    optical = OpticalLoss.from_config(cfg, transport, TEACHER)
    assert optical.transport == transport and optical.tau == (0.2 if transport == "semi_relaxed" else None)
    loss, parts = optical(student, batch)
    assert set(parts) == {"ot_loss"} and loss.item() == pytest.approx(transport_cost, abs=2e-5)
    loss, parts = OpticalPooledLoss.from_config(cfg, transport, TEACHER)(student, batch)
    assert parts["ot_loss"] == pytest.approx(transport_cost, abs=2e-5)
    assert parts["pooled_loss"] == pytest.approx(pooled_term, abs=1e-6)
    assert loss.item() == pytest.approx(transport_cost + 0.5 * pooled_term, abs=2e-5)
    loss, parts = PooledLoss.from_config(cfg, transport, TEACHER)(student, batch)
    assert set(parts) == {"pooled_loss"} and loss.item() == pytest.approx(pooled_term, abs=1e-6)
    assert PooledLoss.transport is None and not PooledLoss.needs_tokens and OpticalLoss.needs_tokens


def test_optical_loss_refuses_an_unknown_transport():
    with pytest.raises(ValueError, match="unknown transport kind 'partial'"):
        OpticalLoss.from_config(config(), "partial", TEACHER)


@pytest.mark.parametrize("normalize", [True, False])
def test_contrastive_similarity_follows_the_teachers_normalize(batch_and_student, normalize):
    """In-batch InfoNCE against the teacher's passages on the score the index uses: cosine for a
    normalised teacher (MiniLM), the raw inner product for a DPR-style one (mDPR, normalize: false)."""
    batch, student = batch_and_student
    loss_fn = ContrastiveLoss.from_config(config(temperature=0.1), "semi_relaxed", teacher_settings(normalize=normalize))
    assert loss_fn.transport is None and loss_fn.in_batch_negatives
    loss, parts = loss_fn(student, batch)
    queries = student.pooled.double().numpy()
    passages = batch.teacher.passages(batch.records, "cpu").double().numpy()
    scores = cosine(queries, passages) if normalize else queries @ passages.T
    expected = -np.mean(np.diag(log_softmax(scores / 0.1, axis=1)))
    assert loss.item() == pytest.approx(expected, rel=1e-5) and parts == {"contrastive_loss": loss.item()}
    other = -np.mean(np.diag(log_softmax((queries @ passages.T if normalize else cosine(queries, passages)) / 0.1, axis=1)))
    assert abs(loss.item() - other) > 1e-3  # the other similarity would be another loss


def test_registry_builds_every_method_from_the_config(batch_and_student):
    batch, student = batch_and_student
    for name, cls in METHODS.items():
        assert issubclass(cls, TrainingLoss) and cls.name == name
        loss, parts = cls.from_config(config(), "balanced", TEACHER)(student, batch)
        assert loss.dim() == 0 and torch.isfinite(loss) and parts


def test_training_batch_splits_into_micro_batches(batch_and_student):
    batch, _ = batch_and_student
    chunks = batch.split(3)
    assert [c.ids for c in chunks] == [["d", "b", "a"], ["c"]]
    assert all(c.teacher is batch.teacher for c in chunks)
    assert all(c.device == batch.device for c in chunks) and [len(c) for c in chunks] == [3, 1]


class RecordingTeacher:
    """The batch's teacher view, noting the device each of its tensors is asked for (and building them
    with the CPU as the default device: the teacher's own code is not under test here)."""

    def __init__(self, view):
        self.view, self.devices = view, []

    def __getattr__(self, name):
        def fetch(records, dev):
            self.devices.append((name, dev))
            with torch.device("cpu"):
                return getattr(self.view, name)(records, dev)

        return fetch


def test_every_loss_works_on_the_batchs_device_not_the_default_one(batch_and_student):
    """Each loss asks the teacher for its tensors on the batch's device and creates none on the default
    device (here 'meta', where any tensor made without a device would land and fail)."""
    batch, student = batch_and_student
    for name, cls in METHODS.items():
        expected, _ = cls.from_config(config(), "semi_relaxed", TEACHER)(student, batch)
        teacher = RecordingTeacher(batch.teacher)
        with torch.device("meta"):
            loss, _ = cls.from_config(config(), "semi_relaxed", TEACHER)(student, TrainingBatch(batch.records, teacher, "cpu"))
        assert loss.device.type == "cpu" and loss.item() == pytest.approx(expected.item(), rel=1e-6), name
        assert teacher.devices and all(dev == "cpu" for _, dev in teacher.devices), name
