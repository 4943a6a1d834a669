"""Encoders, optimal transport, training methods, the student and its training with dev selection.

- encoders: :func:`load_encoder` (Hub id, local directory or ``bundled:all-MiniLM-L6-v2``),
  :func:`encode_texts` (pooling, L2-normalised or raw), passages as the teacher reads them
  (:func:`format_passage`, :func:`read_passages`);
- devices: :func:`require_device` (a GPU job stops without a usable GPU unless ``allow_cpu``),
  :func:`cuda_problem`, :class:`DeviceError`;
- transport: :func:`sinkhorn`, :func:`semi_relaxed_sinkhorn`, :func:`optical_loss` (each can return
  a :class:`SinkhornInfo`: domain, fallback, iterations, marginal error);
- training methods: one loss object each in :mod:`swimscale.model.losses`, registered in
  :data:`METHODS` (``optical``: :class:`OpticalLoss`, ``optical_pooled``: :class:`OpticalPooledLoss`,
  ``pooled``: :class:`PooledLoss`, ``contrastive``: :class:`ContrastiveLoss`);
- the teacher's view of a run's records, precomputed (:func:`build_teacher_cache`), on the fly
  (:class:`TeacherOnTheFly`), read from its language's teacher-states file, computed once per
  (language, teacher) (:func:`write_teacher_states`, :class:`TeacherStates`), or the job's, computed
  once per (training job, seed) and held in host memory (:class:`HostTeacherCache`); :func:`teacher_view`
  chooses (``train.teacher_tokens``);
- what a training job's students share, per seed (:class:`JobShared`): the largest sample, its
  queries tokenised once (:class:`TokenisedTexts`: :func:`tokenize_for_transport`'s batches without
  the tokenizer in the update) and its teacher states;
- ``torch.compile`` of the update's student forward, checked against eager (:func:`compile_encoder`);
- the student (:class:`StudentModel`: which layers train, the frozen prefix), its queries as token ids
  (:class:`TextQueries`) or cached prefix states (:class:`QueryStates`, :func:`encode_query_states`),
  their embeddings (:func:`encode_queries`), its file (:func:`save_student`, :func:`load_student`,
  :func:`as_stored`);
- a student's search of a test benchmark: :func:`search_benchmark` (encode, exact search, run file and
  its record) with :class:`BenchmarkFiles`; the run is scored apart, against the current judgements
  (:func:`swimscale.retrieval.evaluate_search`: the evaluate rules);
- training: :func:`train_student`, dev selection (:class:`DevSet`, :class:`Selection`);
- a training job's student, start to end (train, save, search each test benchmark):
  :func:`train_and_search`; several in one process read each model once (:func:`shared_encoders`).

Settings come as the typed objects of :mod:`swimscale.config` (:class:`~swimscale.config.TeacherSettings`,
:class:`~swimscale.config.TrainSettings`, :class:`~swimscale.config.Settings`), built once from the
validated config: no function here restates a default of the schema.

Modules, lowest first (imports flow one way): ``_device`` → ``_encode``, ``_ot`` → ``losses``,
``_teacher`` → ``_teacher_states``, ``_student`` → ``_queries`` → ``_compile``, ``_select``, ``_search``,
``_shared``, ``_checkpoint`` → ``_train`` → ``_students``.

Needs torch (the ``torch`` conda environment).
"""

from swimscale.model._checkpoint import Checkpoints
from swimscale.model._device import DeviceError, cuda_problem, device, require_device
from swimscale.model._encode import (
    BUNDLED,
    POOLINGS,
    batches_by_length,
    check_passage_format,
    encode_texts,
    format_passage,
    load_encoder,
    load_tokenizer,
    mean_pool,
    pool,
    read_passages,
    resolve_model,
    set_threads,
    scored_transport_mask,
    shared_encoders,
    tokenize_for_transport,
    TokenisedTexts,
)
from swimscale.model._ot import (
    SinkhornInfo,
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
    autocast_for,
    encode_queries,
    encode_query_states,
    query_inputs,
    state_settings,
)
from swimscale.model._devsearch import DeviceIndex
from swimscale.model._search import BenchmarkFiles, check_search_inputs, search_benchmark
from swimscale.model._select import DEV_CUTOFF, DevSet, Selection
from swimscale.model._student import StudentModel, as_stored, load_student, save_student
from swimscale.model._teacher import (
    TeacherCache,
    TeacherEncoder,
    TeacherOnTheFly,
    TeacherView,
    build_teacher_cache,
    counterpart,
    passage_text,
    resolve_teacher_tokens,
    transport_kind,
)
from swimscale.model._teacher_states import TeacherStates, TeacherStatesError, teacher_view, write_teacher_states
from swimscale.model._compile import compile_encoder, wants_compile
from swimscale.model._shared import HostTeacherCache, JobShared
from swimscale.model._train import MicroBatchError, check_micro_batch, train_student
from swimscale.model._students import train_and_search
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
    "BenchmarkFiles",
    "Checkpoints",
    "ContrastiveLoss",
    "DevSet",
    "DeviceIndex",
    "DeviceError",
    "HostTeacherCache",
    "JobShared",
    "MicroBatchError",
    "OpticalLoss",
    "OpticalPooledLoss",
    "PooledLoss",
    "QueryStates",
    "Selection",
    "SinkhornInfo",
    "StudentEncoder",
    "StudentModel",
    "StudentOutputs",
    "TeacherCache",
    "TeacherEncoder",
    "TeacherOnTheFly",
    "TeacherStates",
    "TeacherStatesError",
    "TeacherView",
    "TextQueries",
    "TokenisedTexts",
    "TrainingBatch",
    "TrainingLoss",
    "as_stored",
    "autocast_for",
    "batches_by_length",
    "build_teacher_cache",
    "check_micro_batch",
    "check_passage_format",
    "compile_encoder",
    "cosine_cost",
    "counterpart",
    "cuda_problem",
    "device",
    "check_search_inputs",
    "encode_queries",
    "encode_query_states",
    "encode_texts",
    "format_passage",
    "load_encoder",
    "load_student",
    "load_tokenizer",
    "mean_pool",
    "optical_loss",
    "passage_text",
    "pool",
    "query_inputs",
    "read_passages",
    "require_device",
    "resolve_model",
    "resolve_teacher_tokens",
    "save_student",
    "scored_transport_mask",
    "search_benchmark",
    "semi_relaxed_sinkhorn",
    "set_threads",
    "shared_encoders",
    "sinkhorn",
    "state_settings",
    "teacher_view",
    "tokenize_for_transport",
    "train_and_search",
    "train_student",
    "transport_kind",
    "uniform_marginal",
    "wants_compile",
    "write_teacher_states",
]
