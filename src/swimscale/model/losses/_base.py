"""What every training loss reads and the interface it offers.

A loss is called once per (micro-)batch as ``loss(student_outputs, batch) -> (loss, parts)``:
``student_outputs`` is the student's forward pass over the batch's queries (:class:`StudentOutputs`),
``batch`` the records with the frozen teacher's cached view of them (:class:`TrainingBatch`); it
returns the scalar to back-propagate and its named parts (detached 0-d tensors, for the training log:
the training loop reads them with the loss in one host synchronisation per update).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch

if TYPE_CHECKING:
    from swimscale.config import TeacherSettings, TrainSettings
    from swimscale.model._teacher import TeacherView


@dataclass(frozen=True)
class StudentOutputs:
    """The student's view of a batch of queries.

    tokens: (B, n, d) last hidden states, float32; transport_mask: (B, n), 1 on the tokens that take
    part in the transport — the content tokens and the tokens the teacher's pooling reads ([CLS] for
    ``cls``, every attended token for ``mean``: :func:`swimscale.model.scored_transport_mask`), 0 on
    padding; pooled: (B, d) sentence embeddings with the teacher's pooling (not normalised) — the
    vector the search scores, before ``teacher.normalize``.
    """

    tokens: torch.Tensor
    transport_mask: torch.Tensor
    pooled: torch.Tensor


@dataclass(frozen=True)
class TrainingBatch:
    """A batch of training records and the frozen teacher's view of them (precomputed or computed
    on the fly: :class:`swimscale.model.TeacherView`)."""

    records: list[dict]
    teacher: TeacherView
    device: torch.device | str

    @property
    def ids(self) -> list[str]:
        return [r["_id"] for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def split(self, size: int) -> list[TrainingBatch]:
        """Consecutive micro-batches of at most `size` records (gradient accumulation)."""
        return [TrainingBatch(self.records[first : first + size], self.teacher, self.device)
                for first in range(0, len(self.records), size)]


class TrainingLoss(ABC):
    """A training method's objective. Subclasses state their maths and references in their
    docstring, build themselves from the run's :class:`swimscale.config.TrainSettings`
    (:meth:`from_config`) and are registered under their `name` in :data:`swimscale.model.losses.METHODS`."""

    name: ClassVar[str]
    #: Whether each pair's loss reads the other pairs of its batch (in-batch negatives): then gradient
    #: accumulation over micro-batches changes the loss, and a run refuses a micro-batch smaller than
    #: its batch (:func:`swimscale.model.check_micro_batch`).
    in_batch_negatives: ClassVar[bool] = False
    #: The kind of optimal transport the loss solves ('balanced' or 'semi_relaxed'; None: none),
    #: recorded in the training log.
    transport: str | None = None
    #: What the loss reads from the teacher besides the counterpart's pooled embedding: its token
    #: embeddings, the passage's pooled embedding. The teacher computes nothing else.
    needs_tokens: ClassVar[bool] = False
    needs_passages: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def from_config(cls, cfg: TrainSettings, transport: str, teacher: TeacherSettings) -> TrainingLoss:
        """The loss of a run with settings `cfg` on a pool of the given transport kind ('balanced'
        for translation pairs, 'semi_relaxed' for query–passage pairs; see ``transport_kind``), for
        the `teacher` whose index the student is scored on (a method reads what it needs of it: the
        contrastive similarity follows ``teacher.normalize``); a method that transports nothing
        ignores `transport`."""

    @abstractmethod
    def __call__(self, student: StudentOutputs, batch: TrainingBatch) -> tuple[torch.Tensor, dict[str, float]]:
        """(the loss to back-propagate, its named parts as detached 0-d tensors)."""
