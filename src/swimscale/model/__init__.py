"""Encoders, optimal transport, training methods, the student and its training with dev selection.

- encoders: :func:`load_encoder` (Hub id, local directory or ``bundled:all-MiniLM-L6-v2``),
  :func:`encode_texts`, pooling;
- transport: :func:`sinkhorn`, :func:`semi_relaxed_sinkhorn`, :func:`optical_loss`;
- training methods: one loss object each in :mod:`swimscale.model.losses`, registered in
  :data:`METHODS` (``optical``: :class:`OpticalLoss`, ``optical_pooled``: :class:`OpticalPooledLoss`,
  ``pooled``: :class:`PooledLoss`, ``contrastive``: :class:`ContrastiveLoss`);
- the teacher's view of a run's records, precomputed (:func:`build_teacher_cache`) or on the fly
  (:class:`TeacherOnTheFly`);
- the student (:class:`StudentModel`: which layers train, the frozen prefix), its queries as token ids
  (:class:`TextQueries`) or cached prefix states (:class:`QueryStates`, :func:`encode_query_states`),
  their embeddings (:func:`encode_queries`), its file (:func:`save_student`, :func:`load_student`);
- training: :func:`train_student` with :class:`TrainConfig` (built from the config's ``train``
  section: :meth:`TrainConfig.from_config`; cross-key checks: ``swimscale.config._train``), dev selection
  (:class:`DevSet`, :class:`Selection`).

Modules, lowest first (imports flow one way): ``_encode``, ``_ot``, ``_config`` → ``losses``,
``_teacher``, ``_student`` → ``_queries`` → ``_select``, ``_checkpoint`` → ``_train``.

Needs torch (the ``torch`` conda environment).
"""

from swimscale.model._config import TrainConfig
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
from swimscale.model._ot import (
    cosine_cost,
    optical_loss,
    semi_relaxed_sinkhorn,
    sinkhorn,
    uniform_marginal,
)
from swimscale.model._queries import (
    QueryStates,
    StudentEncoder,
    TextQueries,
    encode_queries,
    encode_query_states,
    query_inputs,
    state_settings,
)
from swimscale.model._select import DEV_CUTOFF, DevSet, Selection
from swimscale.model._student import StudentModel, load_student, save_student
from swimscale.model._teacher import (
    TeacherCache,
    TeacherEncoder,
    TeacherOnTheFly,
    TeacherView,
    build_teacher_cache,
    counterpart,
    resolve_teacher_tokens,
    transport_kind,
)
from swimscale.model._train import train_student
from swimscale.model.losses import (
    METHODS,
    ContrastiveLoss,
    OpticalLoss,
    OpticalPooledLoss,
    PooledLoss,
    StudentOutputs,
    TrainingBatch,
    TrainingLoss,
)

__all__ = [
    "BUNDLED",
    "DEV_CUTOFF",
    "METHODS",
    "POOLINGS",
    "ContrastiveLoss",
    "DevSet",
    "OpticalLoss",
    "OpticalPooledLoss",
    "PooledLoss",
    "QueryStates",
    "Selection",
    "StudentEncoder",
    "StudentModel",
    "StudentOutputs",
    "TeacherCache",
    "TeacherEncoder",
    "TeacherOnTheFly",
    "TeacherView",
    "TextQueries",
    "TrainConfig",
    "TrainingBatch",
    "TrainingLoss",
    "batches_by_length",
    "build_teacher_cache",
    "cosine_cost",
    "counterpart",
    "device",
    "encode_queries",
    "encode_query_states",
    "encode_texts",
    "load_encoder",
    "load_student",
    "mean_pool",
    "optical_loss",
    "pool",
    "query_inputs",
    "resolve_model",
    "resolve_teacher_tokens",
    "save_student",
    "semi_relaxed_sinkhorn",
    "set_threads",
    "sinkhorn",
    "state_settings",
    "tokenize_for_transport",
    "train_student",
    "transport_kind",
    "uniform_marginal",
]
