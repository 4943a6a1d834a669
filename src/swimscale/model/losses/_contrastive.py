"""Contrastive fine-tuning with in-batch negatives (SWIM-X style), scored as the index scores."""

from __future__ import annotations

import torch

from swimscale.config import TeacherSettings, TrainSettings
from swimscale.model.losses._base import StudentOutputs, TrainingBatch, TrainingLoss


class ContrastiveLoss(TrainingLoss):
    r"""In-batch-negative InfoNCE between the student's queries and the frozen teacher's passages.

    With q_i the student's pooled embedding of query i and p_j the teacher's pooled embedding of
    passage j of the same batch of B pairs (the passage as the index encodes it: ``teacher.passage_format``),
    the similarity s(q, p) the index scores with, and temperature T (``train.temperature``):

        L = −1/B Σ_i log( exp(s(q_i, p_i) / T) / Σ_j exp(s(q_i, p_j) / T) )

    — a B-way classification of each query's own passage against the batch's other passages. The
    similarity follows ``teacher.normalize``, so that the student is trained on the score it is
    searched with: with ``normalize: true`` (Sentence-Transformers, e.g. MiniLM) s is the cosine, and
    T = 0.05 (the schema's default) spreads its [−1, 1] range; with ``normalize: false`` (DPR-style,
    e.g. mDPR) s is the raw inner product q·p, and T = 1 is DPR's own training objective (softmax over
    raw inner products with no temperature; the full study sets it). T scales the logits only: the
    argmax of the scores, and so the ranking, does not depend on it.

    Reference: SWIM-X — N. Thakur et al., "Leveraging LLMs for Synthesizing Training Data Across Many
    Languages in Multilingual Dense Retrieval", NAACL 2024, arXiv 2311.05800, which trains a dual
    encoder with in-batch negatives on SWIM-IR; DPR — V. Karpukhin et al., EMNLP 2020, arXiv
    2004.04906 (in-batch negatives on the raw inner product). Here only the query encoder learns: the
    passage side is the frozen teacher's cached embedding, so the corpus index stays the teacher's. The
    negatives are the batch's: a run never splits a contrastive batch into micro-batches
    (:attr:`in_batch_negatives`; :func:`swimscale.model.check_micro_batch`).
    """

    name = "contrastive"
    needs_passages = True
    in_batch_negatives = True

    def __init__(self, temperature: float, normalize: bool):
        self.temperature, self.normalize = temperature, normalize

    @classmethod
    def from_config(cls, cfg: TrainSettings, transport: str, teacher: TeacherSettings) -> ContrastiveLoss:
        return cls(cfg.temperature, teacher.normalize)

    def similarity(self, queries: torch.Tensor, passages: torch.Tensor) -> torch.Tensor:
        """(B, B) scores as the index computes them: cosine (``normalize``) or raw inner product."""
        if self.normalize:
            queries = torch.nn.functional.normalize(queries, dim=-1)
            passages = torch.nn.functional.normalize(passages, dim=-1)
        return queries @ passages.T

    def __call__(self, student: StudentOutputs, batch: TrainingBatch) -> tuple[torch.Tensor, dict[str, float]]:
        passages = batch.teacher.passages(batch.records, batch.device)
        logits = self.similarity(student.pooled, passages) / self.temperature
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch), device=batch.device))
        return loss, {"contrastive_loss": loss.detach()}
