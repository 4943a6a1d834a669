"""The settings of one training run (:class:`TrainConfig`) and the cross-key checks of the ``train``
section (:func:`train_problems`).

Every setting is a key of the config's ``train`` section except three that come from elsewhere: the
teacher's sentence ``pooling`` and its ``max_length`` (``teacher.pooling``, ``teacher.max_length``: the
English counterparts are encoded as the teacher encodes documents) and the run's ``seed``. No default is
stated here: the schema (workflow/schemas/config.schema.yaml) is their one home — Snakemake fills them
into the config, library callers start from ``swimscale.config.defaults("train")``. The cross-key
checks are :func:`swimscale.config._train.train_problems` (standard library only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from swimscale.config._train import train_problems
from swimscale.errors import InputError

# Fields of TrainConfig that are not keys of the config's `train` section.
NOT_FROM_TRAIN_SECTION = ("pooling", "teacher_max_length", "seed")


@dataclass(frozen=True)
class TrainConfig:
    """One run's training settings; the schema's ``train`` section documents each key.

    The field order is the order of the training log's ``config`` entry; the run's checkpoint
    fingerprint hashes the fields by name.
    """

    budget: str  # converged: dev-selected, early-stopped; fixed: max_steps updates for every N
    max_steps: int  # the cap (converged) or the number of updates (fixed)
    min_steps: int  # converged: no early stop before this many updates
    eval_every: int  # updates between dev evaluations
    patience: int  # converged: dev evaluations without improvement before the run stops
    batch_size: int
    group_by_length: int  # batches per length-sorted chunk (0: random batches)
    max_length: int  # token limit of the queries, in training and at search
    lr: float
    weight_decay: float
    trainable_layers: int | None  # the top k transformer layers train; None = every layer
    freeze_embeddings: bool
    dropout: float | None  # None = the model's own
    teacher_tokens: str  # auto | precompute | on_the_fly
    eps: float
    tau: float
    sinkhorn_iters: int
    pooled_weight: float
    temperature: float
    grad_clip: float
    pooling: str  # the teacher's sentence pooling (teacher.pooling)
    teacher_max_length: int  # token limit of the English counterparts (teacher.max_length)
    seed: int  # the run's seed

    @classmethod
    def train_keys(cls) -> tuple[str, ...]:
        """The fields that are keys of the config's ``train`` section."""
        return tuple(f.name for f in fields(cls) if f.name not in NOT_FROM_TRAIN_SECTION)

    @classmethod
    def from_config(cls, train: Mapping[str, Any], *, pooling: str, teacher_max_length: int, seed: int) -> TrainConfig:
        """From a validated ``train`` section with its defaults filled in (Snakemake's config, or
        ``{**swimscale.config.defaults("train"), **overrides}``), the teacher's pooling and max_length,
        and the seed."""
        keys = cls.train_keys()
        missing = [key for key in keys if key not in train]
        unknown = sorted(set(train) - set(keys))
        if missing or unknown:
            raise InputError(
                f"config 'train': missing keys {missing}, unknown keys {unknown} (start from "
                "swimscale.config.defaults('train'), which holds every key)"
            )
        problems = train_problems(train)
        if problems:
            raise InputError("; ".join(problems))
        return cls(**{key: train[key] for key in keys}, pooling=pooling, teacher_max_length=teacher_max_length,
                   seed=seed)
