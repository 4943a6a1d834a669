"""The Sinkhorn solvers' behaviour that the plans alone do not show: the gradient of the OPTICAL loss,
when the iterations stop, which numerical domain computes the plan, and the kernel's shift.

A wrong implementation of any of these can still return plans that match POT (the fallback and the
iteration cap hide it), so each is checked through :class:`swimscale.model.SinkhornInfo` or against an
independent computation (POT's plan, an unrolled solver).
"""

import numpy as np
import ot as pot
import pytest
import torch

from swimscale.model import optical_loss, semi_relaxed_sinkhorn, sinkhorn, uniform_marginal

pytestmark = pytest.mark.filterwarnings("ignore:If reg_type = entropy")

SOLVERS = {
    "balanced": lambda cost, a, b, eps, n_iters, **kw: sinkhorn(cost, a, b, eps, n_iters, **kw),
    "semi_relaxed": lambda cost, a, b, eps, n_iters, **kw: semi_relaxed_sinkhorn(cost, a, b, eps, 0.5, n_iters, **kw),
}


def problems(seed, batch=4, n=6, m=9, dtype=torch.float64, low=0.0, high=2.0, pad_rows=True, pad_cols=True):
    """Costs uniform in [low, high] with ragged padding (problem 0 unpadded; the last problem padded
    on each side that is padded at all) and non-uniform masses."""
    gen = torch.Generator().manual_seed(seed)
    cost = low + (high - low) * torch.rand(batch, n, m, generator=gen, dtype=torch.float64)
    rows = torch.randint(2, n, (batch,), generator=gen) if pad_rows else torch.full((batch,), n)
    cols = torch.randint(2, m, (batch,), generator=gen) if pad_cols else torch.full((batch,), m)
    rows[0], cols[0] = n, m
    a = (torch.arange(n)[None] < rows[:, None]) * (0.5 + torch.rand(batch, n, generator=gen, dtype=torch.float64))
    b = (torch.arange(m)[None] < cols[:, None]) * (0.5 + torch.rand(batch, m, generator=gen, dtype=torch.float64))
    a, b = a / a.sum(1, keepdim=True), b / b.sum(1, keepdim=True)
    return cost.to(dtype), a.to(dtype), b.to(dtype), rows.tolist(), cols.tolist()


def pot_plan(cost, a, b, eps, tau=None, stop=1e-14):
    """POT's plan of one unpadded problem (float64 numpy; float32 masses renormalised in float64, or
    balanced POT would never meet a mass off by 1e-8)."""
    cost, a, b = (np.asarray(x, dtype=np.float64) for x in (cost, a, b))
    a, b = a / a.sum(), b / b.sum()
    if tau is None:
        return pot.sinkhorn(a, b, cost, eps, numItermax=100000, stopThr=stop)
    return pot.unbalanced.sinkhorn_unbalanced(a, b, cost, eps, reg_m=(float("inf"), tau), reg_type="entropy",
                                              numItermax=100000, stopThr=stop)


# --------------------------------------------------------------------------- the gradient of optical_loss


def cosine_distance(x, y):
    return 1 - torch.nn.functional.normalize(x, dim=-1) @ torch.nn.functional.normalize(y, dim=-1).T


@pytest.mark.parametrize("tau", [None, 0.2])
def test_optical_loss_gradient_is_the_cost_gradient_under_pots_plan_held_fixed(tau):
    """d loss / d tokens = d/d tokens of 1/B Σ_i <T*_i, C_i> with T*_i from POT, a constant."""
    gen = torch.Generator().manual_seed(21)
    lengths_s, lengths_t = [5, 3, 4], [7, 6, 2]
    student = torch.randn(3, 5, 8, generator=gen, dtype=torch.float64, requires_grad=True)
    teacher = torch.randn(3, 7, 8, generator=gen, dtype=torch.float64)
    s_mask = (torch.arange(5)[None] < torch.tensor(lengths_s)[:, None]).double()
    t_mask = (torch.arange(7)[None] < torch.tensor(lengths_t)[:, None]).double()
    optical_loss(student, teacher, s_mask, t_mask, eps=0.1, n_iters=20000, tau=tau, tol=1e-13).backward()

    reference = student.detach().clone().requires_grad_(True)
    total = 0
    for i, (n, m) in enumerate(zip(lengths_s, lengths_t)):
        cost = cosine_distance(reference[i, :n], teacher[i, :m])
        plan = pot_plan(cost.detach().numpy(), np.full(n, 1 / n), np.full(m, 1 / m), 0.1, tau)
        total = total + (torch.from_numpy(plan) * cost).sum()
    (total / 3).backward()
    assert torch.allclose(student.grad, reference.grad, atol=1e-8)

    # The test can fail: back-propagating through the (log-domain) iterations gives another gradient.
    unrolled = student.detach().clone().requires_grad_(True)
    cost = torch.stack([cosine_distance(unrolled[i], teacher[i]) for i in range(3)])
    a, b = uniform_marginal(s_mask), uniform_marginal(t_mask)
    solve = sinkhorn if tau is None else (lambda *args, **kw: semi_relaxed_sinkhorn(*args[:4], tau, *args[4:], **kw))
    plan = solve(cost, a, b, 0.1, 300, tol=0, domain="log")
    (plan * cost).sum(dim=(1, 2)).mean().backward()
    assert (unrolled.grad - reference.grad).abs().max() > 1e-3


# --------------------------------------------------------------------------- early stopping


@pytest.mark.parametrize("kind", SOLVERS)
@pytest.mark.parametrize("domain", ["scaling", "log"])
def test_iterations_stop_at_the_first_check_within_tolerance(kind, domain):
    solve = SOLVERS[kind]
    cost, a, b, _, _ = problems(1)
    plan, info = solve(cost, a, b, 0.1, 10000, tol=1e-9, domain=domain, return_info=True)
    assert info.domain == domain and not info.fell_back
    assert 5 <= info.iterations < 10000 and info.iterations % 5 == 0  # checked every 5 iterations
    assert info.marginal_error <= 1e-9

    def criterion(iterations):
        """The stopping criterion after `iterations`, recomputed from the plans (no early stop)."""
        plan_now = solve(cost, a, b, 0.1, iterations, tol=0, domain=domain)
        if kind == "balanced":
            return float((plan_now.sum(2) - a).abs().sum(1).max())
        before = solve(cost, a, b, 0.1, iterations - 5, tol=0, domain=domain)
        return float((plan_now.sum(1) - before.sum(1)).abs().sum(1).max())

    assert criterion(info.iterations) == pytest.approx(info.marginal_error, rel=1e-6, abs=1e-15)
    assert criterion(info.iterations - 5) > 1e-9  # the check before did not stop it
    assert torch.equal(plan, solve(cost, a, b, 0.1, info.iterations, tol=0, domain=domain))
    # "Within tolerance" includes equality; the worst problem decides, so a batch of it twice stops alike.
    _, at_tol = solve(cost, a, b, 0.1, 10000, tol=info.marginal_error, domain=domain, return_info=True)
    assert at_tol.iterations == info.iterations
    worst = int((plan.sum(2) - a).abs().sum(1).argmax()) if kind == "balanced" else None
    twice = [0, 0] if worst is None else [worst, worst]
    _, single = solve(cost[twice[:1]], a[twice[:1]], b[twice[:1]], 0.1, 10000, tol=1e-9, domain=domain, return_info=True)
    _, double = solve(cost[twice], a[twice], b[twice], 0.1, 10000, tol=1e-9, domain=domain, return_info=True)
    # the same stop; the error itself up to float rounding (a batch of two may be summed in another order)
    assert double.iterations == single.iterations
    assert double.marginal_error == pytest.approx(single.marginal_error, rel=1e-5, abs=1e-15)


@pytest.mark.parametrize("kind", SOLVERS)
@pytest.mark.parametrize("domain", ["scaling", "log"])
def test_tolerance_zero_runs_every_iteration_and_one_iteration_is_allowed(kind, domain):
    cost, a, b, _, _ = problems(2)
    _, info = SOLVERS[kind](cost, a, b, 0.1, 37, tol=0, domain=domain, return_info=True)
    assert info.iterations == 37
    plan, info = SOLVERS[kind](cost, a, b, 0.1, 1, domain=domain, return_info=True)
    assert info.iterations == 1 and torch.isfinite(plan).all()


@pytest.mark.parametrize("tau", [None, 0.5])
def test_default_tolerance_converges_and_stops_early(tau):
    cost, a, b, rows, cols = problems(3)
    solve = sinkhorn if tau is None else (lambda *args, **kw: semi_relaxed_sinkhorn(*args[:4], tau, *args[4:], **kw))
    plan, info = solve(cost, a, b, 0.1, 5000, return_info=True)
    assert info.iterations < 5000
    for i, (r, c) in enumerate(zip(rows, cols)):
        expected = pot_plan(cost[i, :r, :c], a[i, :r], b[i, :c], 0.1, tau)
        assert np.abs(plan[i, :r, :c].numpy() - expected).max() <= 1e-5


@pytest.mark.parametrize("tau", [None, 0.5])
def test_optical_loss_passes_its_tolerance_to_the_solver(tau):
    gen = torch.Generator().manual_seed(4)
    student, teacher = torch.randn(2, 4, 8, generator=gen), torch.randn(2, 6, 8, generator=gen)
    masks = torch.ones(2, 4), torch.ones(2, 6)
    _, exhaustive = optical_loss(student, teacher, *masks, 0.1, 500, tau=tau, tol=0, return_info=True)
    _, loose = optical_loss(student, teacher, *masks, 0.1, 500, tau=tau, tol=1e-2, return_info=True)
    _, default = optical_loss(student, teacher, *masks, 0.1, 500, tau=tau, return_info=True)
    assert exhaustive.iterations == 500 and loose.iterations < default.iterations < 500
    assert loose.marginal_error <= 1e-2 and default.marginal_error <= 1e-6


# --------------------------------------------------------------------------- the numerical domain


@pytest.mark.parametrize(
    ("dtype", "eps", "domain"),
    [
        (torch.float32, 0.1, "scaling"),  # (max C - min C)/eps <= 20: the kernel is representable
        (torch.float32, 0.005, "log"),  # 400: exp(-400) under-flows float32
        (torch.float64, 0.02, "scaling"),  # 100 <= 200
        (torch.float64, 0.005, "log"),  # 400 > 200
        (torch.float16, 0.5, "log"),  # half precision: always the log domain
        (torch.float16, 5.0, "log"),
        (torch.bfloat16, 0.5, "log"),
    ],
)
@pytest.mark.parametrize("kind", SOLVERS)
def test_auto_chooses_the_domain_up_front_by_the_cost_range(dtype, eps, domain, kind):
    cost, a, b, _, _ = problems(5, dtype=dtype)
    plan, info = SOLVERS[kind](cost, a, b, eps, 300, return_info=True)
    assert (info.domain, info.fell_back) == (domain, False)  # chosen, not reached by an overflow
    assert torch.isfinite(plan).all()


@pytest.mark.parametrize(("dtype", "limit"), [(torch.float32, 50), (torch.float64, 200)])
def test_the_range_limit_itself_still_uses_the_scaling_domain(dtype, limit):
    cost = torch.tensor([[[0.0, 1.0], [6.25, 3.0]]], dtype=dtype)  # range 6.25, exact in binary
    a = b = torch.full((1, 2), 0.5, dtype=dtype)
    _, at_limit = sinkhorn(cost, a, b, 6.25 / limit, 50, return_info=True)
    _, above = sinkhorn(cost, a, b, 6.25 / limit * 0.99, 50, return_info=True)
    assert (at_limit.domain, above.domain) == ("scaling", "log")


@pytest.mark.parametrize(("pad_rows", "pad_cols"), [(True, True), (True, False), (False, True)])
def test_padding_takes_no_part_in_the_range_nor_the_plan(pad_rows, pad_cols):
    cost, a, b, rows, cols = problems(6, dtype=torch.float32, pad_rows=pad_rows, pad_cols=pad_cols)
    garbage = cost.clone()
    for i, (r, c) in enumerate(zip(rows, cols)):  # padded entries: huge costs of either sign
        garbage[i, r:, :] = -1e4
        garbage[i, :, c:] = 1e4
    assert (rows[-1] < 6) == pad_rows and (cols[-1] < 9) == pad_cols
    for kind, solve in SOLVERS.items():
        clean, clean_info = solve(cost, a, b, 0.1, 300, return_info=True)
        dirty, dirty_info = solve(garbage, a, b, 0.1, 300, return_info=True)
        assert clean_info.domain == dirty_info.domain == "scaling", kind
        assert torch.equal(clean, dirty), kind


@pytest.mark.parametrize("kind", SOLVERS)
@pytest.mark.parametrize("domain", ["auto", "scaling"])
@pytest.mark.parametrize("padded", [True, False])
def test_the_kernel_is_shifted_by_each_problems_own_minimum_cost(kind, domain, padded):
    """Problem 1's costs lie 100 above problem 0's: exp(-C/eps) of them under-flows float32, so the
    scaling domain works only with each problem's kernel shifted by its own minimum cost."""
    cost, a, b, rows, cols = problems(7, batch=2, dtype=torch.float32, high=1.0, pad_rows=padded, pad_cols=padded)
    cost[1] += 100.0
    plan, info = SOLVERS[kind](cost, a, b, 0.1, 3000, tol=1e-7, domain=domain, return_info=True)
    assert (info.domain, info.fell_back) == ("scaling", False)
    tau = None if kind == "balanced" else 0.5
    for i, (r, c) in enumerate(zip(rows, cols)):
        expected = pot_plan(cost[i, :r, :c] - (100.0 if i else 0.0), a[i, :r], b[i, :c], 0.1, tau, stop=1e-9)
        assert np.abs(plan[i, :r, :c].double().numpy() - expected).max() <= 1e-5


def test_forced_domains_are_honoured():
    cost, a, b, _, _ = problems(10)
    # (max C - min C)/eps is about 220: auto takes the log domain, but exp(-220) is a normal float64.
    _, auto = sinkhorn(cost, a, b, 0.009, 5000, tol=1e-10, return_info=True)
    plan, info = sinkhorn(cost, a, b, 0.009, 5000, tol=1e-10, domain="scaling", return_info=True)
    log, log_info = sinkhorn(cost, a, b, 0.009, 5000, tol=1e-10, domain="log", return_info=True)
    assert (auto.domain, info.domain, log_info.domain) == ("log", "scaling", "log")
    assert info.iterations < 5000 and torch.allclose(plan, log, atol=1e-9)
    _, info = sinkhorn(cost, a, b, 0.1, 100, domain="log", return_info=True)
    assert info.domain == "log"
    with pytest.raises(ValueError, match=r"^sinkhorn: domain must be 'auto', 'scaling' or 'log', got 'exp'$"):
        sinkhorn(cost, a, b, 0.1, 100, domain="exp")


@pytest.mark.parametrize("kind", SOLVERS)
def test_forced_scaling_raises_when_its_scalings_overflow(kind):
    cost, a, b, _, _ = problems(9, dtype=torch.float32)
    with pytest.raises(FloatingPointError, match=r"^sinkhorn: scaling domain overflowed at eps=0.005; use the log"):
        SOLVERS[kind](cost, a, b, 0.005, 300, domain="scaling")


def test_auto_falls_back_to_the_log_domain_when_the_scalings_overflow():
    """Masses of 1e36 (unnormalised) overflow float32 scalings although the kernel is representable."""
    cost, a, b, _, _ = problems(10, dtype=torch.float32)
    a, b = a * 1e36, b * 1e36
    plan, info = sinkhorn(cost, a, b, 0.04, 200, return_info=True)
    assert (info.domain, info.fell_back) == ("log", True)
    assert torch.isfinite(plan).all() and torch.equal(plan, sinkhorn(cost, a, b, 0.04, 200, domain="log"))


# --------------------------------------------------------------------------- inputs, marginals, precision


def test_rejected_inputs_say_what_is_wrong():
    cost, a, b, _, _ = problems(11)
    for bad_b in (b.clone().index_fill_(0, torch.tensor([1]), 0.0),):  # a problem without any column
        with pytest.raises(ValueError, match=r"^sinkhorn: every problem needs at least one unpadded row and column$"):
            sinkhorn(cost, a, bad_b, 0.1, 10)
    with pytest.raises(ValueError, match=r"^sinkhorn: eps must be > 0 and n_iters >= 1 \(got eps=0.1, n_iters=0\)$"):
        sinkhorn(cost, a, b, 0.1, 0)
    with pytest.raises(ValueError, match=r"^semi_relaxed_sinkhorn: tau must be > 0, got 0$"):
        semi_relaxed_sinkhorn(cost, a, b, 0.1, 0, 10)


def test_uniform_marginal_masses_and_precision():
    mask = torch.tensor([[1, 1, 0, 1], [0, 1, 0, 0], [0, 0, 0, 0]])
    expected = torch.tensor([[1 / 3, 1 / 3, 0, 1 / 3], [0, 1, 0, 0], [0, 0, 0, 0]], dtype=torch.float64)
    for dtype, out in [(torch.float64, torch.float64), (torch.float32, torch.float32), (torch.float16, torch.float32),
                       (torch.bool, torch.float32), (torch.int64, torch.float32)]:
        masses = uniform_marginal(mask.to(dtype))
        assert masses.dtype == out, dtype
        assert torch.allclose(masses.double(), expected, atol=1e-7 if out == torch.float32 else 0), dtype


def test_optical_loss_precision_follows_the_tokens():
    gen = torch.Generator().manual_seed(12)
    student, teacher = torch.randn(2, 3, 8, generator=gen, dtype=torch.float64), torch.randn(2, 5, 8, generator=gen)
    s_mask, t_mask = torch.ones(2, 3, dtype=torch.bool), torch.ones(2, 5, dtype=torch.bool)
    # float64 tokens with boolean masks: solved in float64 throughout (masses 1/3 exact to 1e-16).
    cost = [cosine_distance(student[i], teacher[i].double()).numpy() for i in range(2)]
    for tau in (None, 0.5):
        loss = optical_loss(student, teacher.double(), s_mask, t_mask, 0.1, 5000, tau=tau, tol=1e-14)
        expected = np.mean([(pot_plan(c, np.full(3, 1 / 3), np.full(5, 0.2), 0.1, tau) * c).sum() for c in cost])
        assert loss.dtype == torch.float64 and abs(loss.item() - expected) <= 1e-12, tau
    # Half-precision tokens (autocast) are transported in float32.
    half = optical_loss(student.bfloat16(), teacher.bfloat16(), s_mask, t_mask, 0.1, 500, None)
    assert half.dtype == torch.float32
    rounded = optical_loss(student.bfloat16().float(), teacher.bfloat16().float(), s_mask, t_mask, 0.1, 500, None)
    assert half.item() == pytest.approx(rounded.item(), abs=1e-7)
    assert optical_loss(student.float(), teacher, s_mask, t_mask, 0.1, 500, None).dtype == torch.float32
