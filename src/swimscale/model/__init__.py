"""Encoders, optimal transport and the training of student query encoders.

- encoders: :func:`load_encoder` (Hub id, local directory or ``bundled:all-MiniLM-L6-v2``),
  :func:`encode_texts`, pooling;
- transport: :func:`sinkhorn`, :func:`semi_relaxed_sinkhorn`, :func:`optical_loss`;
- training: :func:`train_student` with :class:`TrainConfig`, the teacher's cached view
  (:class:`TeacherCache`), checkpoints.

Needs torch (the ``torch`` conda environment).
"""

from swimscale.model._encode import (
    BUNDLED,
    POOLINGS,
    batches_by_length,
    device,
    encode_texts,
    load_encoder,
    mean_pool,
    pool,
    resolve_model,
    set_threads,
    tokenize_for_transport,
)
from swimscale.model._ot import cosine_cost, optical_loss, semi_relaxed_sinkhorn, sinkhorn, uniform_marginal
from swimscale.model._train import (
    METHODS,
    TeacherCache,
    TrainConfig,
    build_teacher_cache,
    load_student,
    save_student,
    steps_for,
    train_student,
)

__all__ = [
    "BUNDLED",
    "METHODS",
    "POOLINGS",
    "TeacherCache",
    "TrainConfig",
    "batches_by_length",
    "build_teacher_cache",
    "cosine_cost",
    "device",
    "encode_texts",
    "load_encoder",
    "load_student",
    "mean_pool",
    "optical_loss",
    "pool",
    "resolve_model",
    "save_student",
    "semi_relaxed_sinkhorn",
    "set_threads",
    "sinkhorn",
    "steps_for",
    "tokenize_for_transport",
    "train_student",
    "uniform_marginal",
]
