"""Training methods: one loss object per method, registered in :data:`METHODS`.

Each loss is built from the run's settings, ``METHODS[name].from_config(cfg, transport)``, and called
once per (micro-)batch as ``loss(student_outputs, batch) -> (loss, parts)``
(:class:`StudentOutputs`, :class:`TrainingBatch`). Adding a method = one module defining a
:class:`TrainingLoss` subclass + one entry here (and in the schema's ``methods`` enum, which a test
keeps equal to this registry).
"""

from swimscale.model.losses._base import StudentOutputs, TrainingBatch, TrainingLoss
from swimscale.model.losses._contrastive import ContrastiveLoss
from swimscale.model.losses._optical import OpticalLoss

#: Training methods by name, in the order error messages list them.
METHODS: dict[str, type[TrainingLoss]] = {
    OpticalLoss.name: OpticalLoss,
    ContrastiveLoss.name: ContrastiveLoss,
}

__all__ = ["METHODS", "ContrastiveLoss", "OpticalLoss", "StudentOutputs", "TrainingBatch", "TrainingLoss"]
