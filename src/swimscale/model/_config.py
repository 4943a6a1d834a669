"""The settings of one training run (:class:`TrainConfig`) and the training budget rule.

Every setting is a key of the config's ``train`` section except two that come from elsewhere: the
teacher's sentence ``pooling`` (``teacher.pooling``) and the ``seed`` (the run's seed). No default is
stated here: the schema (workflow/schemas/config.schema.yaml) is their one home — Snakemake fills them
into the config, library callers start from ``swimscale.config.defaults("train")``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from swimscale.errors import InputError

# Fields of TrainConfig that are not keys of the config's `train` section.
NOT_FROM_TRAIN_SECTION = ("pooling", "seed")


@dataclass(frozen=True)
class TrainConfig:
    """One run's training settings; the schema's ``train`` section documents each key.

    The field order is the order of the training log's ``config`` entry; the run's checkpoint
    fingerprint hashes the fields by name.
    """

    batch_size: int
    max_length: int
    lr: float
    weight_decay: float
    epochs: float
    min_steps: int
    max_steps: int
    eps: float
    tau: float
    sinkhorn_iters: int
    pooled_weight: float
    temperature: float
    pooling: str  # the teacher's sentence pooling (teacher.pooling)
    grad_clip: float
    seed: int  # the run's seed

    @classmethod
    def train_keys(cls) -> tuple[str, ...]:
        """The fields that are keys of the config's ``train`` section."""
        return tuple(f.name for f in fields(cls) if f.name not in NOT_FROM_TRAIN_SECTION)

    @classmethod
    def from_config(cls, train: Mapping[str, Any], *, pooling: str, seed: int) -> TrainConfig:
        """From a validated ``train`` section with its defaults filled in (Snakemake's config, or
        ``{**swimscale.config.defaults("train"), **overrides}``), the teacher's pooling and the seed."""
        keys = cls.train_keys()
        missing = [key for key in keys if key not in train]
        unknown = sorted(set(train) - set(keys))
        if missing or unknown:
            raise InputError(
                f"config 'train': missing keys {missing}, unknown keys {unknown} (start from "
                "swimscale.config.defaults('train'), which holds every key)"
            )
        return cls(**{key: train[key] for key in keys}, pooling=pooling, seed=seed)


def steps_for(size: int, cfg: TrainConfig) -> int:
    """The training budget rule: ``epochs`` passes over the sample, clamped to [min_steps, max_steps].

    steps = clamp(⌈epochs · N / min(batch_size, N)⌉, min_steps, max_steps); 0 for N = 0.
    """
    if size == 0:
        return 0
    steps = math.ceil(cfg.epochs * size / min(cfg.batch_size, size))
    return max(cfg.min_steps, min(cfg.max_steps, steps))
