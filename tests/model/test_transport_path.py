"""A pool's records decide the transport of the OPTICAL loss, and τ reaches the solver.

Passages (no ``query_en``) must be transported semi-relaxed with the run's τ; translations balanced,
whatever τ is. Checked on the loss object as training builds it (``METHODS[method].from_config(cfg,
transport_kind(records))``) against POT's plans, with τ values far apart so that a loss that ignored
τ, or fell back to balanced transport, could not pass. tests/model/test_training_checks.py checks the
same through ``train_student``.
"""

import types

import numpy as np
import ot as pot
import pytest
import torch

from swimscale.model import METHODS, StudentOutputs, TeacherCache, TrainingBatch, transport_kind

pytestmark = pytest.mark.filterwarnings("ignore:If reg_type = entropy")

D = 8
QUERY_TOKENS = [3, 5, 2]
PASSAGE_TOKENS = [9, 12, 7]
PASSAGES = [{"_id": f"p{i}", "query": f"q{i}", "text": f"t{i}"} for i in range(3)]
TRANSLATIONS = [{**r, "query_en": f"e{i}"} for i, r in enumerate(PASSAGES)]


def settings(tau):
    """The run settings the OPTICAL loss reads (a stand-in for swimscale.config.TrainSettings)."""
    return types.SimpleNamespace(eps=0.1, tau=tau, sinkhorn_iters=5000, pooled_weight=0.0, temperature=0.05)


@pytest.fixture(scope="module")
def batch_and_student():
    gen = torch.Generator().manual_seed(5)
    tokens = torch.randn(sum(PASSAGE_TOKENS), D, generator=gen)
    offsets = torch.cumsum(torch.tensor([0, *PASSAGE_TOKENS]), 0)
    ids = [r["_id"] for r in PASSAGES]
    cache = TeacherCache(ids, tokens, offsets, torch.randn(3, D, generator=gen), torch.randn(3, D, generator=gen))
    mask = (torch.arange(max(QUERY_TOKENS))[None] < torch.tensor(QUERY_TOKENS)[:, None]).float()
    student = StudentOutputs(torch.randn(3, max(QUERY_TOKENS), D, generator=gen), mask, torch.randn(3, D, generator=gen))
    return cache, student


def pot_transport_cost(cache, student, tau):
    """1/B Σ_i <T*_i, C_i> with POT's balanced (tau None) or semi-relaxed plans."""
    costs = []
    for i in range(3):
        x = student.tokens[i, : QUERY_TOKENS[i]].double().numpy()
        y = cache.tokens[cache.offsets[i] : cache.offsets[i + 1]].double().numpy()
        x, y = x / np.linalg.norm(x, axis=1, keepdims=True), y / np.linalg.norm(y, axis=1, keepdims=True)
        cost = 1 - x @ y.T
        a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
        if tau is None:
            plan = pot.sinkhorn(a, b, cost, 0.1, numItermax=100000, stopThr=1e-10)
        else:
            plan = pot.unbalanced.sinkhorn_unbalanced(a, b, cost, 0.1, reg_m=(float("inf"), tau), reg_type="entropy",
                                                      numItermax=100000, stopThr=1e-10)
        costs.append((plan * cost).sum())
    return float(np.mean(costs))


def transport_cost(records, tau, cache, student):
    loss_fn = METHODS["optical"].from_config(settings(tau), transport_kind(records), types.SimpleNamespace(normalize=True))
    _, parts = loss_fn(student, TrainingBatch(records, cache, "cpu"))
    return loss_fn.transport, parts["ot_loss"]


def test_passages_are_transported_semi_relaxed_with_the_runs_tau(batch_and_student):
    cache, student = batch_and_student
    results = {tau: transport_cost(PASSAGES, tau, cache, student) for tau in (0.01, 2.0)}
    for tau, (transport, ot_loss) in results.items():
        assert transport == "semi_relaxed"
        assert ot_loss == pytest.approx(pot_transport_cost(cache, student, tau), abs=1e-5), tau
    # A small τ lets the query tokens leave the passage tokens they do not match: a clearly lower cost.
    assert results[0.01][1] < results[2.0][1] - 0.02


def test_translations_are_transported_balanced_whatever_tau(batch_and_student):
    cache, student = batch_and_student
    # The translations' teacher tokens are the cache's rows of the same ids.
    results = {tau: transport_cost(TRANSLATIONS, tau, cache, student) for tau in (0.01, 2.0)}
    balanced = pot_transport_cost(cache, student, None)
    for tau, (transport, ot_loss) in results.items():
        assert transport == "balanced" and ot_loss == pytest.approx(balanced, abs=1e-5), tau
    assert results[0.01][1] == results[2.0][1]
