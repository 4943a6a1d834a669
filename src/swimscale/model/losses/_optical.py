"""OPTICAL: token-level optimal-transport distillation from the frozen English teacher."""

from __future__ import annotations

import torch

from swimscale.model import _ot as ot
from swimscale.model._config import TrainConfig
from swimscale.model.losses._base import StudentOutputs, TrainingBatch, TrainingLoss


class OpticalLoss(TrainingLoss):
    r"""Optimal-transport distillation of the student's query tokens onto the teacher's English tokens.

    For pair i of a batch of B, with the student's token embeddings x_1..x_n of the query and the
    teacher's token embeddings y_1..y_m of its English counterpart (special tokens and padding left
    out), the cost is C_jk = 1 − cos(x_j, y_k) and the masses are uniform, a = 1/n, b = 1/m. The plan
    T* minimises

    - balanced (the counterpart is a translation, ``query_en``):
      <T, C> + ε Σ T (log T − 1) subject to T1 = a, Tᵀ1 = b;
    - semi-relaxed (the counterpart is the passage the query was generated from):
      <T, C> + ε Σ T (log T − 1) + τ KL(Tᵀ1 | b) subject to T1 = a — the passage side is relaxed, so
      the query's tokens may concentrate on the part of the passage they cover.

    With s_i, t_i the student's and the teacher's pooled sentence embeddings, the loss is

        L = 1/B Σ_i <T*_i, C_i>  +  w · 1/B Σ_i (1 − cos(s_i, t_i)),     w = ``pooled_weight``.

    T* is held fixed (computed without autograd): by the envelope theorem dOT_ε/dC = T*, the exact
    gradient of the regularised transport cost (see :func:`swimscale.model.optical_loss`).

    Reference: OPTICAL — Z. Huang, P. Yu, J. Allan, "Improving Cross-lingual Information Retrieval
    on Low-Resource Languages via Optimal Transport Distillation", WSDM 2023, arXiv 2301.12566
    (token-level OT distillation from an English teacher on parallel text). OUR additions, not in
    OPTICAL: the semi-relaxed transport for query–passage pairs (SWIM-IR has no translations of its
    queries) and the pooled term (``pooled_weight`` = 0 gives the transport term alone).
    """

    name = "optical"

    def __init__(self, eps: float, sinkhorn_iters: int, pooled_weight: float, tau: float | None = None):
        """`tau` None: balanced transport; a number: semi-relaxed with KL penalty τ."""
        self.eps, self.sinkhorn_iters, self.pooled_weight, self.tau = eps, sinkhorn_iters, pooled_weight, tau
        self.transport = "balanced" if tau is None else "semi_relaxed"

    @classmethod
    def from_config(cls, cfg: TrainConfig, transport: str) -> OpticalLoss:
        if transport not in ("balanced", "semi_relaxed"):
            raise ValueError(f"unknown transport kind {transport!r}; known: balanced, semi_relaxed")
        tau = cfg.tau if transport == "semi_relaxed" else None
        return cls(cfg.eps, cfg.sinkhorn_iters, cfg.pooled_weight, tau=tau)

    def __call__(self, student: StudentOutputs, batch: TrainingBatch) -> tuple[torch.Tensor, dict[str, float]]:
        t_tokens, t_mask, t_pooled = batch.teacher.batch(batch.ids, batch.device)
        ot_loss = ot.optical_loss(student.tokens, t_tokens, student.transport_mask, t_mask, self.eps,
                                  self.sinkhorn_iters, tau=self.tau)
        pooled_loss = (1 - torch.nn.functional.cosine_similarity(student.pooled, t_pooled, dim=-1)).mean()
        loss = ot_loss + self.pooled_weight * pooled_loss
        return loss, {"ot_loss": ot_loss.item(), "pooled_loss": pooled_loss.item()}
