import numpy as np
import ot as pot
import pytest
import torch

from swimscale.model import (
    cosine_cost,
    optical_loss,
    semi_relaxed_sinkhorn,
    sinkhorn,
    uniform_marginal,
)


def random_batch(seed, batch=6, n=9, m=13, dtype=torch.float64):
    """Random costs in [0, 2] with ragged padding: problem i has n_i <= n rows and m_i <= m columns."""
    gen = torch.Generator().manual_seed(seed)
    cost = 2 * torch.rand(batch, n, m, generator=gen, dtype=dtype)
    rows = torch.randint(1, n + 1, (batch,), generator=gen)
    cols = torch.randint(1, m + 1, (batch,), generator=gen)
    rows[0], cols[0] = n, m  # one problem without padding
    a_mask = (torch.arange(n)[None] < rows[:, None]).to(dtype)
    b_mask = (torch.arange(m)[None] < cols[:, None]).to(dtype)
    # Non-uniform masses, so the marginals are really tested.
    a = a_mask * (0.5 + torch.rand(batch, n, generator=gen, dtype=dtype))
    b = b_mask * (0.5 + torch.rand(batch, m, generator=gen, dtype=dtype))
    return cost, a / a.sum(1, keepdim=True), b / b.sum(1, keepdim=True), rows, cols


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("eps", [0.1, 0.5])
def test_plan_matches_pot_with_padding(seed, eps):
    cost, a, b, rows, cols = random_batch(seed)
    plan = sinkhorn(cost, a, b, eps=eps, n_iters=2000)
    for i in range(cost.shape[0]):
        r, c = int(rows[i]), int(cols[i])
        expected = pot.sinkhorn(
            a[i, :r].numpy(), b[i, :c].numpy(), cost[i, :r, :c].numpy(), eps, numItermax=100000, stopThr=1e-13
        )
        assert np.abs(plan[i, :r, :c].numpy() - expected).max() <= 1e-6
        # Padding carries no mass at all.
        assert plan[i, r:, :].abs().max().item() == 0 if r < cost.shape[1] else True
        assert plan[i, :, c:].abs().max().item() == 0 if c < cost.shape[2] else True


def test_plan_marginals_and_float32_small_eps_stay_finite():
    cost, a, b, _, _ = random_batch(3, dtype=torch.float32)
    plan = sinkhorn(cost, a, b, eps=0.005, n_iters=500)
    assert torch.isfinite(plan).all()
    assert torch.allclose(plan.sum(1), b, atol=1e-5)  # the last update fits the columns exactly
    assert torch.allclose(plan.sum(2), a, atol=1e-3)


def test_loss_matches_pot_inner_product():
    gen = torch.Generator().manual_seed(7)
    student = torch.randn(4, 6, 16, generator=gen, dtype=torch.float64)
    teacher = torch.randn(4, 8, 16, generator=gen, dtype=torch.float64)
    s_mask = torch.ones(4, 6, dtype=torch.float64)
    t_mask = torch.ones(4, 8, dtype=torch.float64)
    s_mask[1, 4:] = 0
    t_mask[2, 3:] = 0
    t_mask[3, 0] = 0  # a masked special token at the front
    loss = optical_loss(student, teacher, s_mask, t_mask, eps=0.1, n_iters=2000, tau=None)
    cost = cosine_cost(student, teacher)
    expected = []
    for i in range(4):
        s, t = s_mask[i].bool(), t_mask[i].bool()
        c = cost[i][s][:, t].numpy()
        a = np.full(c.shape[0], 1 / c.shape[0])
        b = np.full(c.shape[1], 1 / c.shape[1])
        expected.append((pot.sinkhorn(a, b, c, 0.1, numItermax=100000, stopThr=1e-13) * c).sum())
    assert abs(loss.item() - float(np.mean(expected))) <= 1e-6


def test_gradient_flows_through_cost_only():
    """d loss / d C is the plan itself (divided by the batch size): T is held fixed."""
    gen = torch.Generator().manual_seed(11)
    cost = torch.rand(3, 5, 7, generator=gen, dtype=torch.float64, requires_grad=True)
    a = uniform_marginal(torch.ones(3, 5, dtype=torch.float64))
    b = uniform_marginal(torch.ones(3, 7, dtype=torch.float64))
    with torch.no_grad():
        plan = sinkhorn(cost, a, b, 0.1, 100)
    loss = (plan * cost).sum(dim=(1, 2)).mean()
    loss.backward()
    assert torch.allclose(cost.grad, plan / 3)


def test_student_gradient_is_finite_with_padding():
    student = torch.randn(2, 5, 8, dtype=torch.float64, requires_grad=True)
    teacher = torch.randn(2, 4, 8, dtype=torch.float64)
    s_mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.float64)
    t_mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.float64)
    optical_loss(student, teacher, s_mask, t_mask, 0.1, 50, None).backward()
    assert torch.isfinite(student.grad).all()
    assert student.grad[0, 3:].abs().max() == 0  # padded tokens receive no gradient


def test_rejects_bad_input():
    cost = torch.rand(2, 3, 4)
    a, b = uniform_marginal(torch.ones(2, 3)), uniform_marginal(torch.ones(2, 4))
    with pytest.raises(ValueError, match="shapes"):
        sinkhorn(cost, a[:, :2], b, 0.1, 10)
    with pytest.raises(ValueError, match="eps"):
        sinkhorn(cost, a, b, 0.0, 10)
    a_empty = a.clone()
    a_empty[1] = 0
    with pytest.raises(ValueError, match="unpadded"):
        sinkhorn(cost, a_empty, b, 0.1, 10)


@pytest.mark.filterwarnings("ignore:If reg_type = entropy")
@pytest.mark.parametrize("domain", ["scaling", "log"])
@pytest.mark.parametrize("tau", [0.05, 1.0])
def test_semi_relaxed_plan_matches_pot_unbalanced(domain, tau):
    cost, a, b, rows, cols = random_batch(5)
    plan = semi_relaxed_sinkhorn(cost, a, b, eps=0.1, tau=tau, n_iters=5000, tol=1e-14, domain=domain)
    for i in range(cost.shape[0]):
        r, c = int(rows[i]), int(cols[i])
        expected = pot.unbalanced.sinkhorn_unbalanced(
            a[i, :r].numpy(), b[i, :c].numpy(), cost[i, :r, :c].numpy(), 0.1, reg_m=(float("inf"), tau),
            reg_type="entropy", numItermax=100000, stopThr=1e-14,
        )
        assert np.abs(plan[i, :r, :c].numpy() - expected).max() <= 1e-6
        assert torch.allclose(plan[i].sum(1), a[i], atol=1e-10)  # the query side stays fixed
        assert plan[i, r:].abs().sum() == 0 and plan[i, :, c:].abs().sum() == 0


@pytest.mark.filterwarnings("ignore:If reg_type = entropy")
def test_semi_relaxed_loss_matches_pot_and_relaxation_lowers_it():
    gen = torch.Generator().manual_seed(9)
    student = torch.randn(3, 5, 16, generator=gen, dtype=torch.float64)
    teacher = torch.randn(3, 12, 16, generator=gen, dtype=torch.float64)
    s_mask, t_mask = torch.ones(3, 5, dtype=torch.float64), torch.ones(3, 12, dtype=torch.float64)
    t_mask[1, 7:] = 0
    relaxed = optical_loss(student, teacher, s_mask, t_mask, eps=0.1, n_iters=5000, tau=0.1, tol=1e-14)
    balanced = optical_loss(student, teacher, s_mask, t_mask, eps=0.1, n_iters=5000, tau=None, tol=1e-14)
    cost = cosine_cost(student, teacher)
    expected = []
    for i in range(3):
        t = t_mask[i].bool()
        c = cost[i][:, t].numpy()
        plan = pot.unbalanced.sinkhorn_unbalanced(
            np.full(5, 0.2), np.full(c.shape[1], 1 / c.shape[1]), c, 0.1, reg_m=(float("inf"), 0.1),
            reg_type="entropy", numItermax=100000, stopThr=1e-14,
        )
        expected.append((plan * c).sum())
    assert abs(relaxed.item() - float(np.mean(expected))) <= 1e-6
    assert relaxed < balanced  # query tokens may skip the passage tokens they do not match


@pytest.mark.parametrize("seed", [0, 1])
def test_scaling_and_log_domains_agree_and_auto_falls_back(seed):
    cost, a, b, _, _ = random_batch(seed, dtype=torch.float32)
    scaling = sinkhorn(cost, a, b, 0.1, 500, domain="scaling")
    log = sinkhorn(cost, a, b, 0.1, 500, domain="log")
    assert (scaling - log).abs().max() <= 1e-5
    # At ε = 0.005 the float32 kernel under-flows: auto must pick the log domain and stay finite.
    tiny = sinkhorn(cost, a, b, 0.005, 300)
    assert torch.isfinite(tiny).all() and torch.allclose(tiny, sinkhorn(cost, a, b, 0.005, 300, domain="log"))


def test_early_stop_reaches_tolerance():
    cost, a, b, _, _ = random_batch(4)
    plan = sinkhorn(cost, a, b, 0.1, 10000, tol=1e-9)
    assert (plan.sum(2) - a).abs().sum(1).max() <= 1e-9
