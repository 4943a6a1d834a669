"""Sentence-embedding distillation: the student's pooled query embedding onto the teacher's."""

from __future__ import annotations

import torch

from swimscale.config import TeacherSettings, TrainSettings
from swimscale.model.losses._base import StudentOutputs, TrainingBatch, TrainingLoss


def pooled_distance(student: StudentOutputs, batch: TrainingBatch) -> torch.Tensor:
    """1/B Σ_i (1 − cos(s_i, t_i)): the student's pooled query embeddings s_i against the teacher's
    pooled embeddings t_i of the records' English counterparts."""
    t_pooled = batch.teacher.pooled(batch.records, batch.device)
    return (1 - torch.nn.functional.cosine_similarity(student.pooled, t_pooled, dim=-1)).mean()


class PooledLoss(TrainingLoss):
    r"""Sentence-embedding distillation alone: L = 1/B Σ_i (1 − cos(s_i, t_i)), with s_i the student's
    pooled embedding of query i and t_i the frozen teacher's pooled embedding of its English counterpart
    (the translation ``query_en`` when the record has one, else the passage), both with the teacher's
    pooling. No tokens are matched.

    Reference: N. Reimers, I. Gurevych, "Making Monolingual Sentence Embeddings Multilingual using
    Knowledge Distillation", EMNLP 2020, arXiv 2004.09813 — a student trained so that its embedding of
    a source sentence matches the teacher's embedding of the translation. They minimise the mean squared
    error; we use 1 − cos, the term that ``optical_pooled`` adds to the transport, so that the arms
    differ by one term each.
    """

    name = "pooled"
    needs_tokens = False

    @classmethod
    def from_config(cls, cfg: TrainSettings, transport: str, teacher: TeacherSettings) -> PooledLoss:
        return cls()

    def __call__(self, student: StudentOutputs, batch: TrainingBatch) -> tuple[torch.Tensor, dict[str, float]]:
        loss = pooled_distance(student, batch)
        return loss, {"pooled_loss": loss.detach()}
