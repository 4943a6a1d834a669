"""Training methods: one loss object per method, registered in :data:`METHODS`.

Each arm is named for what it optimises: ``optical`` the transport cost alone (OPTICAL),
``optical_pooled`` the transport plus a pooled sentence-embedding term, ``pooled`` that pooled term
alone (sentence-embedding distillation), ``contrastive`` in-batch InfoNCE against the teacher's
passages (the fine-tuning baseline).

Each loss is built from the run's settings, ``METHODS[name].from_config(cfg, transport)``, and called
once per (micro-)batch as ``loss(student_outputs, batch) -> (loss, parts)``
(:class:`StudentOutputs`, :class:`TrainingBatch`). Adding a method = one module defining a
:class:`TrainingLoss` subclass + one entry here (and in the schema's ``methods`` enum, which a test
keeps equal to this registry).
"""

from swimscale.model.losses._base import StudentOutputs, TrainingBatch, TrainingLoss
from swimscale.model.losses._contrastive import ContrastiveLoss
from swimscale.model.losses._optical import OpticalLoss, OpticalPooledLoss
from swimscale.model.losses._pooled import PooledLoss

#: Training methods by name, in the order error messages list them.
METHODS: dict[str, type[TrainingLoss]] = {
    cls.name: cls for cls in (OpticalLoss, OpticalPooledLoss, PooledLoss, ContrastiveLoss)
}

__all__ = [
    "METHODS",
    "ContrastiveLoss",
    "OpticalLoss",
    "OpticalPooledLoss",
    "PooledLoss",
    "StudentOutputs",
    "TrainingBatch",
    "TrainingLoss",
]
