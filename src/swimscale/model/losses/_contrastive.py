"""Contrastive fine-tuning with in-batch negatives (SWIM-X style)."""

from __future__ import annotations

import torch

from swimscale.config import TrainSettings
from swimscale.model.losses._base import StudentOutputs, TrainingBatch, TrainingLoss


class ContrastiveLoss(TrainingLoss):
    r"""In-batch-negative InfoNCE between the student's queries and the frozen teacher's passages.

    With q_i the student's pooled embedding of query i and p_j the teacher's pooled embedding of
    passage j (``text``) of the same batch of B pairs, both L2-normalised, and temperature T:

        L = −1/B Σ_i log( exp(q_i·p_i / T) / Σ_j exp(q_i·p_j / T) )

    — a B-way classification of each query's own passage against the batch's other passages.

    Reference: SWIM-X — N. Thakur et al., "Leveraging LLMs for Synthesizing Training Data Across Many
    Languages in Multilingual Dense Retrieval", NAACL 2024, arXiv 2311.05800, which trains a dual
    encoder with in-batch negatives on SWIM-IR. Here only the query encoder learns: the passage side
    is the frozen teacher's cached embedding, so the corpus index stays the teacher's. With
    micro-batches (a retry after running out of memory) each query sees only its micro-batch's
    passages as negatives.
    """

    name = "contrastive"
    needs_passages = True

    def __init__(self, temperature: float):
        self.temperature = temperature

    @classmethod
    def from_config(cls, cfg: TrainSettings, transport: str) -> ContrastiveLoss:
        return cls(cfg.temperature)

    def __call__(self, student: StudentOutputs, batch: TrainingBatch) -> tuple[torch.Tensor, dict[str, float]]:
        queries = torch.nn.functional.normalize(student.pooled, dim=-1)
        passages = torch.nn.functional.normalize(batch.teacher.passages(batch.records, batch.device), dim=-1)
        logits = queries @ passages.T / self.temperature
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch), device=batch.device))
        return loss, {"contrastive_loss": loss.detach()}
