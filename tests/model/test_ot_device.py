"""The Sinkhorn solver's path without host checks (the accelerator's), run on the CPU: which domain the
static cost bound picks, the early stop at a tolerance met exactly, the device and dtype of the
iteration count, the switch HOST_CHECKS_ON_CPU, and the unpadded batch's shortcut of the host path."""

import pytest
import torch

from swimscale.model import _ot, optical_loss, semi_relaxed_sinkhorn, sinkhorn
from tests.model.syncs import HostSyncs

SOLVERS = {
    "balanced": lambda cost, a, b, eps, n_iters, **kw: sinkhorn(cost, a, b, eps, n_iters, **kw),
    "semi_relaxed": lambda cost, a, b, eps, n_iters, **kw: semi_relaxed_sinkhorn(cost, a, b, eps, 0.5, n_iters, **kw),
}


def problems(seed, batch=3, n=5, m=7, padded=True):
    gen = torch.Generator().manual_seed(seed)
    cost = 2 * torch.rand(batch, n, m, generator=gen)
    a, b = torch.rand(batch, n, generator=gen) + 0.1, torch.rand(batch, m, generator=gen) + 0.1
    if padded:
        a[1, 3:], b[2, 4:] = 0, 0
    return cost, a / a.sum(1, keepdim=True), b / b.sum(1, keepdim=True)


@pytest.mark.parametrize("kind", SOLVERS)
@pytest.mark.parametrize("eps, domain", [(0.1, "scaling"), (0.02, "log")])
def test_the_static_cost_range_picks_the_domain_without_reading(kind, eps, domain):
    cost, a, b = problems(0)
    with HostSyncs() as syncs:
        _, info = SOLVERS[kind](cost, a, b, eps, 50, return_info=True, host_checks=False, cost_range=2.0)
        _, unbounded = SOLVERS[kind](cost, a, b, eps, 50, return_info=True, host_checks=False)
    assert syncs.count == 0
    assert info.domain == domain and info.fell_back is False  # 2/0.1 = 20 <= 50, 2/0.02 = 100 > 50 (float32)
    assert unbounded.domain == "log" and unbounded.fell_back is False  # no bound: the log domain


@pytest.mark.parametrize("kind", SOLVERS)
def test_the_bound_at_the_limit_itself_still_uses_the_scaling_domain(kind):
    cost, a, b = problems(0)
    _, info = SOLVERS[kind](cost, a, b, 0.125, 20, return_info=True, host_checks=False, cost_range=6.25)
    assert 6.25 / 0.125 == 50.0 and info.domain == "scaling"
    _, info = SOLVERS[kind](cost.double(), a.double(), b.double(), 0.125, 20, return_info=True, host_checks=False,
                            cost_range=25.0)
    assert info.domain == "scaling"  # 200 in float64


def test_a_dtype_without_a_scaling_limit_is_solved_in_the_log_domain_whatever_the_bound():
    cost, a, b = (x.to(torch.bfloat16) for x in problems(0))
    for bound in (0.5, 2.0):
        plan, info = sinkhorn(cost, a, b, 1.0, 10, return_info=True, host_checks=False, cost_range=bound)
        assert info.domain == "log" and plan.dtype == torch.bfloat16


@pytest.mark.parametrize("kind", SOLVERS)
def test_the_cost_of_padded_entries_takes_no_part_in_the_device_scaling(kind):
    """Padding's cost can be anything (here far below the unpadded minimum, whose exp would overflow):
    the device path masks it out of the kernel as the host path does."""
    cost, a, b = problems(6)
    garbage = cost.clone()
    garbage[1, 3:, :], garbage[2, :, 4:] = -100.0, -100.0
    plan, info = SOLVERS[kind](garbage, a, b, 0.1, 30, tol=0, domain="scaling", return_info=True, host_checks=False)
    assert info.domain == "scaling" and torch.isfinite(plan).all()
    assert torch.equal(plan, SOLVERS[kind](cost, a, b, 0.1, 30, tol=0, domain="scaling", host_checks=False))


@pytest.mark.parametrize("tau", [None, 0.5])
@pytest.mark.parametrize("eps, domain", [(0.1, "scaling"), (0.02, "log")])
def test_optical_loss_bounds_the_cosine_cost_by_two(tau, eps, domain):
    gen = torch.Generator().manual_seed(3)
    student, teacher = torch.randn(2, 4, 8, generator=gen), torch.randn(2, 6, 8, generator=gen)
    masks = torch.ones(2, 4), torch.ones(2, 6)
    masks[1][1, 4:] = 0
    loss, info = optical_loss(student, teacher, *masks, eps=eps, n_iters=30, tau=tau, return_info=True,
                              host_checks=False)
    assert info.domain == domain and isinstance(info.iterations, torch.Tensor)
    host_loss, host_info = optical_loss(student, teacher, *masks, eps=eps, n_iters=30, tau=tau, return_info=True)
    assert isinstance(host_info.iterations, int)
    assert int(info.iterations) == host_info.iterations
    assert float(loss) == pytest.approx(float(host_loss), rel=1e-5)


@pytest.mark.parametrize("kind, checks", [("balanced", 1), ("balanced", 2), ("semi_relaxed", 2), ("semi_relaxed", 3)])
@pytest.mark.parametrize("domain", ["scaling", "log"])
@pytest.mark.parametrize("host_checks", [True, False])
def test_an_error_equal_to_the_tolerance_stops_at_that_check(kind, checks, domain, host_checks):
    """"Within tolerance" includes equality, on either path, at the first check that can stop (the
    semi-relaxed error needs a previous check) or a later one: the error of a check taken as `tol`."""
    cost, a, b = problems(1)
    solve = SOLVERS[kind]
    _, reference = solve(cost, a, b, 0.1, 5 * checks, tol=1e-30, domain=domain, return_info=True)
    assert reference.iterations == 5 * checks and reference.marginal_error > 0
    plan, info = solve(cost, a, b, 0.1, 100, tol=reference.marginal_error, domain=domain, return_info=True,
                       host_checks=host_checks)
    assert int(info.iterations) == 5 * checks
    assert float(info.marginal_error) == reference.marginal_error
    assert torch.equal(plan, solve(cost, a, b, 0.1, 5 * checks, tol=0, domain=domain))


@pytest.mark.parametrize("kind", SOLVERS)
@pytest.mark.parametrize("domain", ["scaling", "log"])
@pytest.mark.parametrize("tol", [0.0, 1e-4])
def test_the_device_iteration_count_is_an_int64_on_the_costs_device(kind, domain, tol):
    """Shapes only, on the meta device (nothing is computed): the count and the error stay where the
    cost is, 0-d; the count is int64."""
    cost, a, b = (x.to("meta") for x in problems(2))
    plan, info = SOLVERS[kind](cost, a, b, 0.1, 12, tol=tol, domain=domain, return_info=True, host_checks=False)
    assert plan.device.type == "meta" and plan.shape == cost.shape
    assert info.iterations.device.type == "meta" and info.iterations.dtype == torch.int64
    assert info.iterations.shape == ()
    if tol:
        assert info.marginal_error.device.type == "meta" and info.marginal_error.shape == ()


def test_host_checks_on_cpu_off_makes_the_cpu_run_the_device_path(monkeypatch):
    cost, a, b = problems(4)
    monkeypatch.setattr(_ot, "HOST_CHECKS_ON_CPU", False)
    with HostSyncs() as syncs:
        _, info = sinkhorn(cost, a, b, 0.1, 40, return_info=True)
    assert syncs.count == 0 and isinstance(info.iterations, torch.Tensor)
    monkeypatch.setattr(_ot, "HOST_CHECKS_ON_CPU", True)
    _, info = sinkhorn(cost, a, b, 0.1, 40, return_info=True)
    assert isinstance(info.iterations, int)


@pytest.mark.parametrize("padded_side", [None, "a", "b"])
def test_the_host_range_builds_the_padding_mask_only_when_something_is_padded(padded_side):
    cost, a, b = problems(5, padded=False)
    if padded_side == "a":
        a[0, -1] = 0
    elif padded_side == "b":
        b[1, -1] = 0
    low, high, valid = _ot._masked_range(cost, a, b)
    assert (valid is None) == (padded_side is None)
    if valid is not None:
        assert torch.equal(valid, (a > 0).unsqueeze(2) & (b > 0).unsqueeze(1))
    masked = cost.masked_fill(~((a > 0).unsqueeze(2) & (b > 0).unsqueeze(1)), float("nan"))
    assert torch.equal(low, masked.flatten(1).nan_to_num(float("inf")).amin(1))
    assert torch.equal(high, masked.flatten(1).nan_to_num(float("-inf")).amax(1))
    # without host checks the mask is always built (knowing that nothing is padded needs a read)
    assert _ot._masked_range(cost, a, b, host_checks=False)[2] is not None
