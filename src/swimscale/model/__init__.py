"""Encoders, optimal transport, training methods and the training of student query encoders.

- encoders: :func:`load_encoder` (Hub id, local directory or ``bundled:all-MiniLM-L6-v2``),
  :func:`encode_texts` (pooling, L2-normalised or raw), passages as the teacher reads them
  (:func:`format_passage`, :func:`read_passages`);
- devices: :func:`require_device` (a GPU job stops without a usable GPU unless ``allow_cpu``),
  :func:`cuda_problem`, :class:`DeviceError`;
- transport: :func:`sinkhorn`, :func:`semi_relaxed_sinkhorn`, :func:`optical_loss` (each can return
  a :class:`SinkhornInfo`: domain, fallback, iterations, marginal error);
- training methods: one loss object each in :mod:`swimscale.model.losses`, registered in
  :data:`METHODS` (``optical``: :class:`OpticalLoss`, ``contrastive``: :class:`ContrastiveLoss`);
- training: :func:`train_student` with :class:`TrainConfig` (built from the config's ``train``
  section: :meth:`TrainConfig.from_config`), the teacher's cached view (:class:`TeacherCache`),
  the student's weights (:func:`save_student`, :func:`load_student`).

Modules, lowest first (imports flow one way): ``_device`` → ``_encode``, ``_ot``, ``_config`` → ``_teacher_cache``,
``losses`` → ``_student``, ``_checkpoint`` → ``_train``.

Needs torch (the ``torch`` conda environment).
"""

from swimscale.model._config import TrainConfig, steps_for
from swimscale.model._device import DeviceError, cuda_problem, require_device
from swimscale.model._encode import (
    BUNDLED,
    POOLINGS,
    batches_by_length,
    check_passage_format,
    device,
    encode_texts,
    format_passage,
    load_encoder,
    mean_pool,
    pool,
    read_passages,
    resolve_model,
    set_threads,
    tokenize_for_transport,
)
from swimscale.model._ot import (
    SinkhornInfo,
    cosine_cost,
    optical_loss,
    semi_relaxed_sinkhorn,
    sinkhorn,
    uniform_marginal,
)
from swimscale.model._student import load_student, save_student
from swimscale.model._teacher_cache import (
    TeacherCache,
    build_teacher_cache,
    counterpart,
    transport_kind,
)
from swimscale.model._train import train_student
from swimscale.model.losses import (
    METHODS,
    ContrastiveLoss,
    OpticalLoss,
    StudentOutputs,
    TrainingBatch,
    TrainingLoss,
)

__all__ = [
    "BUNDLED",
    "METHODS",
    "POOLINGS",
    "ContrastiveLoss",
    "DeviceError",
    "OpticalLoss",
    "SinkhornInfo",
    "StudentOutputs",
    "TeacherCache",
    "TrainConfig",
    "TrainingBatch",
    "TrainingLoss",
    "batches_by_length",
    "build_teacher_cache",
    "check_passage_format",
    "cosine_cost",
    "counterpart",
    "cuda_problem",
    "device",
    "encode_texts",
    "format_passage",
    "load_encoder",
    "load_student",
    "mean_pool",
    "optical_loss",
    "pool",
    "read_passages",
    "require_device",
    "resolve_model",
    "save_student",
    "semi_relaxed_sinkhorn",
    "set_threads",
    "sinkhorn",
    "steps_for",
    "tokenize_for_transport",
    "train_student",
    "transport_kind",
    "uniform_marginal",
]
