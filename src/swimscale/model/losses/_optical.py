"""OPTICAL: token-level optimal-transport distillation from the frozen English teacher, alone
(``optical``) and with a pooled sentence-embedding term added (``optical_pooled``)."""

from __future__ import annotations

import torch

from swimscale.model import _ot as ot
from swimscale.config import TeacherSettings, TrainSettings
from swimscale.model.losses._base import StudentOutputs, TrainingBatch, TrainingLoss
from swimscale.model.losses._pooled import pooled_distance


class OpticalLoss(TrainingLoss):
    r"""Optimal-transport distillation of the student's query tokens onto the teacher's English tokens.

    For pair i of a batch of B, with the student's token embeddings x_1..x_n of the query and the
    teacher's token embeddings y_1..y_m of its English counterpart — the content tokens plus the
    tokens the teacher's pooling reads ([CLS] for ``cls``; every attended token, [CLS] and [SEP]
    included, for ``mean``), padding left out — the cost is C_jk = 1 − cos(x_j, y_k) and the masses are uniform, a = 1/n, b = 1/m. The plan
    T* minimises

    - balanced (the counterpart is a translation, ``query_en``):
      <T, C> + ε Σ T (log T − 1) subject to T1 = a, Tᵀ1 = b;
    - semi-relaxed (the counterpart is the passage the query was generated from):
      <T, C> + ε Σ T (log T − 1) + τ KL(Tᵀ1 | b) subject to T1 = a — the passage side is relaxed, so
      the query's tokens may concentrate on the part of the passage they cover.

    The loss is the transport cost alone, L = 1/B Σ_i <T*_i, C_i>: the method of the reference.
    T* is held fixed (computed without autograd): by the envelope theorem dOT_ε/dC = T*, the exact
    gradient of the regularised transport cost (see :func:`swimscale.model.optical_loss`).

    Reference: OPTICAL — Z. Huang, P. Yu, J. Allan, "Improving Cross-lingual Information Retrieval
    on Low-Resource Languages via Optimal Transport Distillation", WSDM 2023, arXiv 2301.12566
    (token-level OT distillation from an English teacher on parallel text, balanced transport). OUR
    extension, not in OPTICAL: the semi-relaxed transport for query–passage pairs (SWIM-IR has no
    translations of its queries). The scoring token(s) in the transport are our choice too: OPTICAL
    transports word tokens, but the retriever scored here reads [CLS] alone (mDPR) or the mean of every
    token (MiniLM), so the transported set includes what the search scores (docs/training.md,
    "Targets: the scoring vector").
    """

    name = "optical"
    needs_tokens = True

    def __init__(self, eps: float, sinkhorn_iters: int, tau: float | None):
        """`tau` None: balanced transport; a number: semi-relaxed with KL penalty τ."""
        self.eps, self.sinkhorn_iters, self.tau = eps, sinkhorn_iters, tau
        self.transport = "balanced" if tau is None else "semi_relaxed"

    @staticmethod
    def transport_settings(cfg: TrainSettings, transport: str) -> dict:
        """ε, the Sinkhorn cap and τ (None for balanced transport) of a run on a pool of this kind."""
        if transport not in ("balanced", "semi_relaxed"):
            raise ValueError(f"unknown transport kind {transport!r}; known: balanced, semi_relaxed")
        return {"eps": cfg.eps, "sinkhorn_iters": cfg.sinkhorn_iters,
                "tau": cfg.tau if transport == "semi_relaxed" else None}

    @classmethod
    def from_config(cls, cfg: TrainSettings, transport: str, teacher: TeacherSettings) -> OpticalLoss:
        return cls(**cls.transport_settings(cfg, transport))

    def transport_cost(self, student: StudentOutputs, batch: TrainingBatch) -> torch.Tensor:
        t_tokens, t_mask, _ = batch.teacher.batch(batch.records, batch.device)
        return ot.optical_loss(student.tokens, t_tokens, student.transport_mask, t_mask, self.eps,
                               self.sinkhorn_iters, tau=self.tau)

    def __call__(self, student: StudentOutputs, batch: TrainingBatch) -> tuple[torch.Tensor, dict[str, float]]:
        ot_loss = self.transport_cost(student, batch)
        return ot_loss, {"ot_loss": ot_loss.detach()}


class OpticalPooledLoss(OpticalLoss):
    r"""OPTICAL's transport cost plus a pooled sentence-embedding term — OUR addition, not in OPTICAL.

    With s_i, t_i the student's and the teacher's pooled sentence embeddings (the teacher's pooling),

        L = 1/B Σ_i <T*_i, C_i>  +  w · 1/B Σ_i (1 − cos(s_i, t_i)),     w = ``pooled_weight``,

    i.e. the ``optical`` loss plus w times the ``pooled`` loss (:class:`OpticalLoss`,
    :class:`swimscale.model.losses.PooledLoss`). In our first trials on the Bible pairs the pooled term
    removed the early dip below zero-shot that the transport alone showed; the two single-term arms
    isolate what each term contributes.
    """

    name = "optical_pooled"

    def __init__(self, eps: float, sinkhorn_iters: int, pooled_weight: float, tau: float | None):
        super().__init__(eps, sinkhorn_iters, tau)
        self.pooled_weight = pooled_weight

    @classmethod
    def from_config(cls, cfg: TrainSettings, transport: str, teacher: TeacherSettings) -> OpticalPooledLoss:
        return cls(pooled_weight=cfg.pooled_weight, **cls.transport_settings(cfg, transport))

    def __call__(self, student: StudentOutputs, batch: TrainingBatch) -> tuple[torch.Tensor, dict[str, float]]:
        ot_loss = self.transport_cost(student, batch)
        pooled_loss = pooled_distance(student, batch)
        loss = ot_loss + self.pooled_weight * pooled_loss
        return loss, {"ot_loss": ot_loss.detach(), "pooled_loss": pooled_loss.detach()}
