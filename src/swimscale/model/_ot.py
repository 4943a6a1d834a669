"""Entropic optimal transport for OPTICAL distillation.

Batched Sinkhorn in torch: every problem of a training batch is solved at once. Two kinds of problem:

- balanced (`sinkhorn`): both marginals fixed — the English side is a translation of the query;
- semi-relaxed (`semi_relaxed_sinkhorn`): the query-side marginal fixed, the English-side marginal
  relaxed by a KL penalty τ — the English side is the passage the query was generated from and the
  query covers only part of it.

Both minimise <T, C> + ε Σ T (log T − 1) (+ τ KL(Tᵀ1 | b) when semi-relaxed), as POT's
`ot.sinkhorn` and `ot.unbalanced.sinkhorn_unbalanced(..., reg_type="entropy")` do; the tests check
both against POT. Padding is zero mass: padded rows and columns of the plan are exactly zero.

Two numerical domains, chosen per batch: the scaling domain (batched matrix–vector products, fast)
when the Gibbs kernel exp(−C/ε) is representable in the tensor's precision, the log domain
(logsumexp, slower, accurate at any ε) otherwise. Iterations stop once the marginal error is below
`tol` (checked every few iterations) or after `n_iters`. With ``return_info=True`` every solver also
returns a :class:`SinkhornInfo`: the domain used, whether it was a fallback, the iterations run and
the last marginal error — what the tests (and a training log) can check.

Host checks. On CPU reading a tensor's value costs nothing, so the solver validates its masses, picks
the domain from the cost's range, stops at the first check within `tol` and checks the scalings for
overflow by reading values. On an accelerator each such read is a host synchronisation that stalls the
launch queue (about 20 per OPTICAL step), so with ``host_checks=False`` (the default off CPU) the solver
reads nothing: the domain follows from a static bound on the cost's range (``cost_range``; the cosine
cost of :func:`optical_loss` lies in [0, 2]) or is the log domain, the iterations always run `n_iters`
times, and from the first check within `tol` on every further update is discarded on the device
(``torch.where`` on a converged flag), so the plan is the one the early stop would have returned, to
the bit. A scaling that overflowed is then not retried in the log domain: it makes the loss non-finite,
which the training loop sees when it reads the loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

# Largest (max C − min C)/ε for which the scaling domain is used: exp(−50) ≈ 2e−22 stays a normal
# float32 and the scalings u, v stay far from overflow.
_SCALING_RANGE = {torch.float64: 200.0, torch.float32: 50.0}
_CHECK_EVERY = 5
# host_checks=None reads values on the host when the cost is on the CPU (free there). False here makes the
# CPU run the accelerator's path, which reads nothing (what the host-synchronisation tests count).
HOST_CHECKS_ON_CPU = True
COSINE_COST_RANGE = 2.0  # 1 − cos lies in [0, 2]: a bound on max C − min C known without reading C


@dataclass(frozen=True)
class SinkhornInfo:
    """How a batch was solved.

    domain: "scaling" or "log", where the returned plan was computed; fell_back: True when the
    scaling domain was tried and overflowed, so the log domain computed the plan (never with
    ``domain="scaling"``, which raises instead); iterations: the iterations run, ``n_iters`` unless
    the tolerance stopped them (then a multiple of the check interval, 5); marginal_error: the
    stopping criterion at the last check (NaN if none was made): the largest row-marginal L1 error
    (balanced) or the largest L1 change of the column marginal since the previous check
    (semi-relaxed). Solved without host checks, `iterations` and `marginal_error` are 0-d tensors on
    the device (reading them synchronises; ``int()``/``float()`` do).
    """

    domain: str
    fell_back: bool
    iterations: int | torch.Tensor
    marginal_error: float | torch.Tensor


def _validate(cost, a, b, eps, n_iters, host_checks=True):
    if cost.dim() != 3 or a.shape != cost.shape[:2] or b.shape != (cost.shape[0], cost.shape[2]):
        raise ValueError(
            f"sinkhorn: shapes do not match: cost {tuple(cost.shape)}, a {tuple(a.shape)}, b {tuple(b.shape)}"
        )
    if eps <= 0 or n_iters < 1:
        raise ValueError(f"sinkhorn: eps must be > 0 and n_iters >= 1 (got eps={eps}, n_iters={n_iters})")
    if host_checks and (bool(((a > 0).sum(1) == 0).any()) or bool(((b > 0).sum(1) == 0).any())):
        raise ValueError("sinkhorn: every problem needs at least one unpadded row and column")


def _masked_range(cost, a, b, host_checks=True):
    """Per-problem (min, max) of the cost over unpadded entries, and the (B, n, m) validity mask —
    None when nothing is padded (known only by reading the masses: with host checks), which spares the
    full-size mask and its passes over the batch."""
    if host_checks and bool((a > 0).all()) and bool((b > 0).all()):
        return cost.amin((1, 2)), cost.amax((1, 2)), None
    valid = (a > 0).unsqueeze(2) & (b > 0).unsqueeze(1)
    low = cost.masked_fill(~valid, float("inf")).amin((1, 2))
    high = cost.masked_fill(~valid, float("-inf")).amax((1, 2))
    return low, high, valid


def _iterate(update, check, state, n_iters, tol, host_checks):
    """Runs `update` (state → state) up to `n_iters` times, testing convergence every 5 iterations with
    `check` (state → (error or None, column marginal or None), given the previous check's marginal).

    With host checks the loop stops at the first check whose error is ≤ tol. Without, it runs every
    iteration and reads nothing: a device-side flag, set at that same check, discards every later
    update (``torch.where``), so the state returned is the early stop's, and the iteration count and
    the error stay on the device. Returns (state, iterations, error)."""
    device = state[0].device
    previous, error, done, it = None, None, None, 0
    runs = None if host_checks else torch.zeros((), dtype=torch.int64, device=device)
    for it in range(n_iters):
        new = update(state)
        state = new if done is None else tuple(torch.where(done, old, x) for old, x in zip(state, new))
        if runs is not None:
            runs = runs + (1 if done is None else (~done).to(torch.int64))
        if not tol or (it + 1) % _CHECK_EVERY:
            continue
        checked, marginal = check(state, previous)
        previous = marginal if done is None or previous is None else torch.where(done, previous, marginal)
        if checked is None:
            continue
        error = checked if done is None or error is None else torch.where(done, error, checked)
        if host_checks:
            if error <= tol:
                break
        else:
            done = (checked <= tol) if done is None else done | (checked <= tol)
    return state, (it + 1 if host_checks else runs), error


def _scaling(cost, a, b, eps, n_iters, fi, tol, low, valid, host_checks=True):
    # K = exp(−(C − min C)/ε): shifting a problem's cost by a constant leaves its plan unchanged and
    # keeps K ≤ 1. Built in place: the batch is large and each pass over it costs as much as an iteration.
    kernel = (low.view(-1, 1, 1) - cost).mul_(1.0 / eps)
    if valid is not None:  # padding is filled before exp, so no inf × 0 = NaN can arise
        kernel.masked_fill_(~valid, float("-inf"))
    kernel.exp_()
    # K v as multiply-and-sum, Kᵀu as a row-vector × matrix product: the fastest forms on CPU
    # (batched matrix × column-vector GEMMs were 4–8× slower here).
    rows_of = lambda v: (kernel * v.unsqueeze(1)).sum(2)  # noqa: E731
    cols_of = lambda u: torch.bmm(u.unsqueeze(1), kernel).squeeze(1)  # noqa: E731

    def update(state):
        u, v = state
        if fi == 1.0:  # balanced: rows, then columns (the columns end exact)
            u = torch.where(a > 0, a / rows_of(v), 0.0)
            return u, torch.where(b > 0, b / cols_of(u), 0.0)
        v = torch.where(b > 0, (b / cols_of(u)) ** fi, 0.0)  # semi-relaxed: relaxed columns, then fixed rows
        return torch.where(a > 0, a / rows_of(v), 0.0), v

    def check(state, previous):
        u, v = state
        if fi == 1.0:
            return (u * rows_of(v) - a).abs().sum(1).max(), None
        marginal = v * cols_of(u)
        return (None if previous is None else (marginal - previous).abs().sum(1).max()), marginal

    start = ((a > 0).to(cost.dtype), (b > 0).to(cost.dtype))
    (u, v), iterations, error = _iterate(update, check, start, n_iters, tol, host_checks)
    if host_checks and not (bool(torch.isfinite(u).all()) and bool(torch.isfinite(v).all())):
        return None  # the scalings overflowed: the caller falls back to the log domain
    return kernel.mul_(u.unsqueeze(2)).mul_(v.unsqueeze(1)), iterations, _as_float(error, host_checks)


def _as_float(error, host_checks=True):
    """The last marginal error: a float, or without host checks the device tensor (reading it syncs)."""
    if error is None:
        return math.nan
    return float(error) if host_checks else error


def _log(cost, a, b, eps, n_iters, fi, tol, host_checks=True):
    # log(0) = −inf marks padding; logsumexp ignores −inf terms as long as one finite term remains,
    # which _validate guarantees, so no NaN can arise.
    log_a, log_b = a.log(), b.log()
    log_k = -cost / eps
    rows_of = lambda log_v: torch.logsumexp(log_k + log_v.unsqueeze(1), dim=2)  # noqa: E731
    cols_of = lambda log_u: torch.logsumexp(log_k + log_u.unsqueeze(2), dim=1)  # noqa: E731

    def update(state):
        log_u, log_v = state
        if fi == 1.0:
            log_u = log_a - rows_of(log_v)
            return log_u, log_b - cols_of(log_u)
        log_v = fi * (log_b - cols_of(log_u))
        return log_a - rows_of(log_v), log_v

    def check(state, previous):
        log_u, log_v = state
        if fi == 1.0:
            return (torch.exp(log_u + rows_of(log_v)) - a).abs().sum(1).max(), None
        marginal = torch.exp(log_v + cols_of(log_u))
        return (None if previous is None else (marginal - previous).abs().sum(1).max()), marginal

    start = (torch.zeros_like(log_a), torch.zeros_like(log_b))
    (log_u, log_v), iterations, error = _iterate(update, check, start, n_iters, tol, host_checks)
    return torch.exp(log_u.unsqueeze(2) + log_k + log_v.unsqueeze(1)), iterations, _as_float(error, host_checks)


def _solve(cost, a, b, eps, n_iters, fi, tol, domain, return_info, host_checks=None, cost_range=None):
    if host_checks is None:
        host_checks = cost.device.type == "cpu" and HOST_CHECKS_ON_CPU
    _validate(cost, a, b, eps, n_iters, host_checks)
    if domain not in ("auto", "scaling", "log"):
        raise ValueError(f"sinkhorn: domain must be 'auto', 'scaling' or 'log', got {domain!r}")
    if not host_checks:
        return _solve_on_device(cost, a, b, eps, n_iters, fi, tol, domain, return_info, cost_range)
    tried_scaling = False
    if domain != "log":
        low, high, valid = _masked_range(cost, a, b)
        representable = bool(((high - low) / eps).max() <= _SCALING_RANGE.get(cost.dtype, 0.0))
        if domain == "scaling" or representable:
            solved = _scaling(cost, a, b, eps, n_iters, fi, tol, low, valid)
            if solved is not None:
                return _result(solved, "scaling", False, return_info)
            if domain == "scaling":
                raise FloatingPointError(f"sinkhorn: scaling domain overflowed at eps={eps}; use the log domain")
            tried_scaling = True
    return _result(_log(cost, a, b, eps, n_iters, fi, tol), "log", tried_scaling, return_info)


def _solve_on_device(cost, a, b, eps, n_iters, fi, tol, domain, return_info, cost_range):
    """Without host checks: the domain from the static bound `cost_range` on max C − min C (auto: the
    scaling domain when cost_range/ε is within the dtype's limit; without a bound, the log domain),
    no overflow test, no fallback."""
    limit = _SCALING_RANGE.get(cost.dtype, 0.0)
    if domain == "scaling" or (domain == "auto" and cost_range is not None and cost_range / eps <= limit):
        low, _, valid = _masked_range(cost, a, b, host_checks=False)
        return _result(_scaling(cost, a, b, eps, n_iters, fi, tol, low, valid, host_checks=False),
                       "scaling", False, return_info)
    return _result(_log(cost, a, b, eps, n_iters, fi, tol, host_checks=False), "log", False, return_info)


def _result(solved, domain, fell_back, return_info):
    plan, iterations, error = solved
    return (plan, SinkhornInfo(domain, fell_back, iterations, error)) if return_info else plan


def sinkhorn(
    cost: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    eps: float,
    n_iters: int,
    tol: float = 1e-6,
    domain: str = "auto",
    return_info: bool = False,
    host_checks: bool | None = None,
    cost_range: float | None = None,
) -> torch.Tensor | tuple[torch.Tensor, SinkhornInfo]:
    """Balanced entropic OT plans for a batch of problems.

    cost: (B, n, m); a: (B, n) and b: (B, m), each summing to 1 per problem, zeros marking padding.
    Returns T (B, n, m) with row sums a and column sums b. Stops when the row-marginal L1 error of
    every problem is ≤ tol (checked every 5 iterations; tol=0 disables) or after n_iters.

    domain: "auto" (the scaling domain when (max C − min C)/ε over the unpadded entries of every
    problem is ≤ 50 in float32 or ≤ 200 in float64, else — and for other dtypes — the log domain,
    which is also the fallback should the scalings overflow), "scaling" (FloatingPointError if they
    overflow) or "log". return_info: also return a :class:`SinkhornInfo`.

    host_checks: read values on the host (validation, the domain from the measured range, the early
    stop, the overflow test); None = only when `cost` is on the CPU. False: no read at all (module
    docstring), the domain from `cost_range`, a static bound on max C − min C (None: the log domain).
    """
    return _solve(cost, a, b, eps, n_iters, 1.0, tol, domain, return_info, host_checks, cost_range)


def semi_relaxed_sinkhorn(
    cost: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    eps: float,
    tau: float,
    n_iters: int,
    tol: float = 1e-6,
    domain: str = "auto",
    return_info: bool = False,
    host_checks: bool | None = None,
    cost_range: float | None = None,
) -> torch.Tensor | tuple[torch.Tensor, SinkhornInfo]:
    """Semi-relaxed entropic OT: row sums fixed to a, column sums pulled towards b by τ·KL.

    Equals POT's `sinkhorn_unbalanced(a, b, M, eps, reg_m=(inf, tau), reg_type="entropy")`.
    Small τ lets query tokens concentrate on the part of the passage they match; τ → ∞ recovers the
    balanced problem. Stops when the column marginal T^T 1 of every problem moved by ≤ tol (L1) since
    the previous check (every 5 iterations; tol=0 disables) or after n_iters; `domain` and
    `return_info`, `host_checks`, `cost_range` as in :func:`sinkhorn`.
    """
    if tau <= 0:
        raise ValueError(f"semi_relaxed_sinkhorn: tau must be > 0, got {tau}")
    return _solve(cost, a, b, eps, n_iters, tau / (tau + eps), tol, domain, return_info, host_checks, cost_range)


def cosine_cost(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """C = 1 - cos between every token of x (B, n, d) and every token of y (B, m, d): (B, n, m)."""
    x = torch.nn.functional.normalize(x, dim=-1)
    y = torch.nn.functional.normalize(y, dim=-1)
    return 1.0 - x @ y.transpose(1, 2)


def uniform_marginal(mask: torch.Tensor) -> torch.Tensor:
    """Uniform mass over the unmasked tokens of each row of a (B, n) mask; zero on masked tokens (and
    on every token of an all-masked row). float64 for a float64 mask, float32 for any other."""
    mass = mask.to(torch.float64 if mask.dtype == torch.float64 else torch.float32)
    return mass / mass.sum(1, keepdim=True).clamp_min(1.0)


def optical_loss(
    student_tokens: torch.Tensor,
    teacher_tokens: torch.Tensor,
    student_mask: torch.Tensor,
    teacher_mask: torch.Tensor,
    eps: float,
    n_iters: int,
    tau: float | None,
    tol: float = 1e-6,
    return_info: bool = False,
    host_checks: bool | None = None,
) -> torch.Tensor | tuple[torch.Tensor, SinkhornInfo]:
    """OPTICAL's transport loss: the batch mean of <T, C>.

    student_tokens (B, n, d) and teacher_tokens (B, m, d) are token embeddings; the masks (B, n) and
    (B, m) are 1 on tokens that take part in the transport (special tokens and padding are 0).
    C = 1 - cos (computed in float32 even under autocast); T is the entropic plan between uniform
    masses on the unmasked tokens — balanced when `tau` is None, else semi-relaxed on the teacher side
    with KL penalty `tau`.

    The gradient flows through C only: T is computed without autograd. By the envelope theorem,
    dOT_eps/dC = T*, so holding T fixed gives the exact gradient of the regularised transport cost
    while saving the memory and time of back-propagating through every Sinkhorn iteration.
    `tol` and `host_checks` are the solver's (:func:`sinkhorn`, :func:`semi_relaxed_sinkhorn`; the
    cosine cost's range is at most 2, the static bound that chooses the domain without host checks);
    return_info: also return its :class:`SinkhornInfo`.
    """
    dtype = torch.float64 if student_tokens.dtype == torch.float64 else torch.float32
    cost = cosine_cost(student_tokens.to(dtype), teacher_tokens.to(dtype))
    a = uniform_marginal(student_mask.to(dtype))  # masses in the tokens' precision, whatever the mask's dtype
    b = uniform_marginal(teacher_mask.to(dtype))
    with torch.no_grad():
        if tau is None:
            plan, info = sinkhorn(cost.detach(), a, b, eps, n_iters, tol=tol, return_info=True,
                                  host_checks=host_checks, cost_range=COSINE_COST_RANGE)
        else:
            plan, info = semi_relaxed_sinkhorn(cost.detach(), a, b, eps, tau, n_iters, tol=tol, return_info=True,
                                               host_checks=host_checks, cost_range=COSINE_COST_RANGE)
    loss = (plan * cost).sum(dim=(1, 2)).mean()
    return (loss, info) if return_info else loss
