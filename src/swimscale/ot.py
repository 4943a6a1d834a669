"""Entropic optimal transport for OPTICAL distillation.

A batched, log-domain Sinkhorn in torch: every problem of a training batch is solved at once, and the
log domain stays accurate in float32 at the small ε that token alignment needs (the scaling domain
under- and overflows there). Padding is expressed as zero mass, so padded rows and columns of the plan
are exactly zero.
"""

from __future__ import annotations

import torch


def sinkhorn(
    cost: torch.Tensor, a: torch.Tensor, b: torch.Tensor, eps: float, n_iters: int
) -> torch.Tensor:
    """Entropic OT plans for a batch of problems.

    cost: (B, n, m); a: (B, n) and b: (B, m), each summing to 1 per problem, zeros marking padding.
    Returns T of shape (B, n, m) minimising <T, C> - eps * H(T) with row sums a and column sums b
    (after n_iters alternating updates; the last update fits the columns exactly).
    """
    if cost.dim() != 3 or a.shape != cost.shape[:2] or b.shape != (cost.shape[0], cost.shape[2]):
        raise ValueError(
            f"sinkhorn: shapes do not match: cost {tuple(cost.shape)}, a {tuple(a.shape)}, b {tuple(b.shape)}"
        )
    if eps <= 0 or n_iters < 1:
        raise ValueError(f"sinkhorn: eps must be > 0 and n_iters >= 1 (got eps={eps}, n_iters={n_iters})")
    if bool(((a > 0).sum(1) == 0).any()) or bool(((b > 0).sum(1) == 0).any()):
        raise ValueError("sinkhorn: every problem needs at least one unpadded row and column")
    # log(0) = -inf marks padding; logsumexp ignores -inf terms as long as one finite term remains,
    # which the check above guarantees, so no NaN can arise.
    log_a, log_b = a.log(), b.log()
    log_k = -cost / eps  # log of the Gibbs kernel
    log_u = torch.zeros_like(log_a)
    log_v = torch.zeros_like(log_b)
    for _ in range(n_iters):
        log_u = log_a - torch.logsumexp(log_k + log_v.unsqueeze(1), dim=2)
        log_v = log_b - torch.logsumexp(log_k + log_u.unsqueeze(2), dim=1)
    return torch.exp(log_u.unsqueeze(2) + log_k + log_v.unsqueeze(1))


def cosine_cost(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """C = 1 - cos between every token of x (B, n, d) and every token of y (B, m, d): (B, n, m)."""
    x = torch.nn.functional.normalize(x, dim=-1)
    y = torch.nn.functional.normalize(y, dim=-1)
    return 1.0 - x @ y.transpose(1, 2)


def uniform_marginal(mask: torch.Tensor) -> torch.Tensor:
    """Uniform mass over the unmasked tokens of each row of a (B, n) mask; zero on masked tokens."""
    mass = mask.to(torch.float64 if mask.dtype == torch.float64 else torch.float32)
    return mass / mass.sum(1, keepdim=True).clamp_min(1.0)


def optical_loss(
    student_tokens: torch.Tensor,
    teacher_tokens: torch.Tensor,
    student_mask: torch.Tensor,
    teacher_mask: torch.Tensor,
    eps: float,
    n_iters: int,
) -> torch.Tensor:
    """OPTICAL's transport loss: the batch mean of <T, C>.

    student_tokens (B, n, d) and teacher_tokens (B, m, d) are token embeddings; the masks (B, n) and
    (B, m) are 1 on tokens that take part in the transport (special tokens and padding are 0).
    C = 1 - cos; T is the entropic plan between uniform masses on the unmasked tokens.

    The gradient flows through C only: T is computed without autograd. By the envelope theorem,
    dOT_eps/dC = T*, so holding T fixed gives the exact gradient of the regularised transport cost
    while saving the memory and time of back-propagating through every Sinkhorn iteration.
    """
    cost = cosine_cost(student_tokens, teacher_tokens)
    a = uniform_marginal(student_mask).to(cost.dtype)
    b = uniform_marginal(teacher_mask).to(cost.dtype)
    with torch.no_grad():
        plan = sinkhorn(cost.detach(), a, b, eps, n_iters)
    return (plan * cost).sum(dim=(1, 2)).mean()
