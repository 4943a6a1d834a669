"""The settings of the model-side jobs, built once from the validated config as typed frozen objects:
one per concern, each a section of the config.

- :class:`TeacherSettings` (``teacher``): the frozen retriever and how it encodes — its model spec,
  ``max_length``, ``batch_size`` (every no-gradient encoding pass), ``pooling``, ``normalize`` and
  ``passage_format``;
- :class:`TrainSettings` (``train``): how a student is trained, and the student's frozen prefix
  (``trainable_layers``, ``freeze_embeddings``) and query ``max_length``, which its searches share;
- :class:`SearchSettings` (``search``): the documents retrieved per query (``k``);
- :class:`Settings`: the three together, built once by the workflow (``workflow/rules/common.smk``).

No field has a default here: the schema (workflow/schemas/config.schema.yaml) is their one home, and
Snakemake (or :func:`swimscale.config.validated`) fills them into the config before an object is built.
A rule hands a job the serialised form of each object it needs (:meth:`to_params`: a JSON-able dict);
the job's script rebuilds it (:meth:`from_params`) and passes the object to the library, whose functions
take the object rather than loose keyword arguments. Standard library only (the DAG-building process
imports it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, TypeVar

from swimscale.config._train import train_problems
from swimscale.errors import InputError

S = TypeVar("S", bound="_Section")


class _Section:
    """One section of the config as a frozen dataclass: its fields are the section's keys."""

    SECTION: ClassVar[str]

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_section(cls: type[S], section: Mapping[str, Any]) -> S:
        """From the section with every key present (a validated config's, or ``{**defaults(section),
        **overrides}``); a missing or unknown key is named, then the section's cross-key checks run."""
        keys = cls.keys()
        missing = [key for key in keys if key not in section]
        unknown = sorted(set(section) - set(keys))
        if missing or unknown:
            raise InputError(f"config '{cls.SECTION}': missing keys {missing}, unknown keys {unknown} (start from "
                             f"swimscale.config.defaults({cls.SECTION!r}), which holds every key with a default)")
        settings = cls(**{key: section[key] for key in keys})
        problems = settings.problems()
        if problems:
            raise InputError("; ".join(problems))
        return settings

    @classmethod
    def from_config(cls: type[S], config: Mapping[str, Any]) -> S:
        """From a validated config (the schema's defaults filled in)."""
        return cls.from_section(config[cls.SECTION])

    def problems(self) -> list[str]:
        """Cross-key problems the schema cannot express (none by default)."""
        return []

    def to_params(self) -> dict[str, Any]:
        """The serialised form a rule hands a job (JSON-able: strings, numbers, booleans, None)."""
        return asdict(self)

    @classmethod
    def from_params(cls: type[S], params: Mapping[str, Any]) -> S:
        """The object back from :meth:`to_params`."""
        return cls.from_section(params)


@dataclass(frozen=True)
class TeacherSettings(_Section):
    """The ``teacher`` section: the frozen English retriever (the schema documents each key)."""

    SECTION: ClassVar[str] = "teacher"

    name: str  # used in output paths
    model: str  # the spec: Hub id, local directory or bundled:all-MiniLM-L6-v2
    max_length: int  # token limit of the corpus documents and the English counterparts
    batch_size: int  # batch of every no-gradient encoding pass (corpus, counterparts, prefix states, queries)
    pooling: str  # mean | cls
    normalize: bool  # L2-normalised embeddings (cosine) or raw inner product
    passage_format: str  # how a passage's title and text are joined


@dataclass(frozen=True)
class TrainSettings(_Section):
    """The ``train`` section: how a student is trained (the schema documents each key).

    The field order is the order of the training log's ``config`` entry; the run's checkpoint
    fingerprint hashes the fields by name.
    """

    SECTION: ClassVar[str] = "train"

    budget: str  # converged: dev-selected, early-stopped; fixed: max_steps updates; fixed_passes: `passes` passes
    max_steps: int  # the cap (converged, fixed_passes) or the number of updates (fixed)
    min_steps: int  # converged: no early stop before this many updates
    min_passes: float  # converged: ... nor before this many passes over the sample
    eval_every_passes: float | None  # passes between dev evaluations (None: every eval_every updates)
    eval_every: int  # updates between dev evaluations (when eval_every_passes is None)
    passes: float | None  # fixed_passes: the passes every N is trained for
    patience: int  # converged: dev evaluations without improvement before the run stops
    batch_size: int
    group_by_length: int  # batches per length-sorted chunk (0: random batches)
    max_length: int  # token limit of the queries, in training and at search
    lr: float
    warmup_steps: int  # linear warm-up of the learning rate over this many updates (0: none)
    weight_decay: float
    trainable_layers: int | None  # the top k transformer layers train; None = every layer
    freeze_embeddings: bool
    embedding_rows: str  # all | sample: the word-embedding rows AdamW holds (sample: the training queries')
    dropout: float | None  # None = the model's own
    teacher_tokens: str  # auto | precompute | on_the_fly | language | job
    teacher_cache_gib: float  # the most teacher states a job holds under auto (language's or its own)
    teacher_host_gib: float  # the most teacher states a job holds in host memory under auto (job's)
    eps: float
    tau: float
    sinkhorn_iters: int
    pooled_weight: float
    temperature: float
    grad_clip: float
    compile: str  # auto (CUDA only) | always | never: torch.compile of the student's forward

    def problems(self) -> list[str]:
        return train_problems(asdict(self))

    @property
    def cached(self) -> bool:
        """Whether the student has a frozen prefix whose query states are computed once and read back."""
        return self.trainable_layers is not None or self.freeze_embeddings


@dataclass(frozen=True)
class SearchSettings(_Section):
    """The ``search`` section: how a benchmark's collection is searched."""

    SECTION: ClassVar[str] = "search"

    k: int  # documents retrieved per query


@dataclass(frozen=True)
class Settings:
    """The model-side settings of a study, built once (``Settings.from_config(config)`` in
    workflow/rules/common.smk): a rule hands each job the serialised object of each concern it reads."""

    teacher: TeacherSettings
    train: TrainSettings
    search: SearchSettings

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """From a validated config (the schema's defaults filled in)."""
        return cls(*(kind.from_config(config) for kind in cls.kinds()))

    @classmethod
    def kinds(cls) -> tuple[type[_Section], ...]:
        return TeacherSettings, TrainSettings, SearchSettings

    def to_params(self) -> dict[str, dict[str, Any]]:
        """{section: its serialised object}."""
        return {f.name: getattr(self, f.name).to_params() for f in fields(self)}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Settings:
        """From {section: serialised object} (a job's params: ``teacher``, ``train``, ``search``)."""
        return cls(*(kind.from_params(params[kind.SECTION]) for kind in cls.kinds()))
