"""The student query encoder: which of its parameters train, its forward pass from text or from cached
frozen-prefix states, and its trained parameters on disk.

The student has the teacher's architecture and tokenizer and starts from the teacher's weights. With
``train.trainable_layers`` = k only the top k transformer layers train; the embeddings and the lower
layers — the *frozen prefix* — keep the teacher's weights and run in eval mode (no dropout), so their
output for a query never changes: it is computed once (:mod:`swimscale.model._queries`) and the
student runs only its top layers on it, which reproduces the whole model's output (a test checks
this to 1e-5). With ``freeze_embeddings`` alone the prefix is the embedding layer. Without either,
the whole model trains from the token ids (full fine-tuning) and nothing is cached.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from swimscale.config import TeacherSettings, TrainSettings
from swimscale.errors import InputError
from swimscale.model import _encode as encode
from swimscale.model._rows import SampledRows


class StudentModel:
    """A Hugging Face encoder split into a frozen prefix and the part that trains.

    `trainable_layers`, `freeze_embeddings`, `dropout`: those of ``train``
    (:class:`swimscale.config.TrainSettings`). `prefix_depth`: how many transformer layers the frozen
    prefix holds after the embeddings (None: no frozen prefix, the embeddings train too).
    """

    def __init__(self, model: torch.nn.Module, trainable_layers: int | None, freeze_embeddings: bool,
                 dropout: float | None):
        self.model = model
        self.prefix_depth: int | None = None
        if trainable_layers is not None or freeze_embeddings:
            layers = _layers(model)
            if trainable_layers is not None and not 1 <= trainable_layers <= len(layers):
                raise InputError(f"config 'train.trainable_layers': {trainable_layers}, but the model has "
                                 f"{len(layers)} layers")
            self.prefix_depth = len(layers) - (trainable_layers or len(layers))
        if dropout is not None:
            for module in model.modules():
                if isinstance(module, torch.nn.Dropout):
                    module.p = dropout
        for name, parameter in model.named_parameters():
            parameter.requires_grad_(self._trains(name))
        self.trained = [name for name, p in model.named_parameters() if p.requires_grad]

    def _trains(self, name: str) -> bool:
        if name.startswith("pooler."):  # the retriever's embedding is a pooling of the last states
            return False
        if self.prefix_depth is None:
            return True
        if name.startswith("embeddings."):
            return False
        return name.startswith("encoder.layer.") and int(name.split(".")[2]) >= self.prefix_depth

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def cached(self) -> bool:
        """Whether the student reads frozen-prefix states (else token ids)."""
        return self.prefix_depth is not None

    def parameters(self) -> list[torch.nn.Parameter]:
        """The parameters that train."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def train(self) -> None:
        """Train mode for the trained part; the frozen prefix stays in eval mode (deterministic)."""
        self.model.train()
        if self.cached:
            self.model.embeddings.eval()
            for layer in _layers(self.model)[: self.prefix_depth]:
                layer.eval()

    def eval(self) -> None:
        self.model.eval()

    @torch.no_grad()
    def prefix(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The frozen prefix's output (B, n, d): embeddings, then the `prefix_depth` lower layers."""
        hidden = self.model.embeddings(input_ids=input_ids)
        return self._run(_layers(self.model)[: self.prefix_depth], hidden, attention_mask)

    def top(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The last hidden states from the frozen prefix's output: the layers above it."""
        return self._run(_layers(self.model)[self.prefix_depth :], hidden, attention_mask)

    def _run(self, layers, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        from transformers.masking_utils import create_bidirectional_mask

        mask = create_bidirectional_mask(config=self.model.config, inputs_embeds=hidden, attention_mask=attention_mask)
        for layer in layers:
            hidden = layer(hidden, mask)
        return hidden

    def forward(self, inputs: dict) -> torch.Tensor:
        """Last hidden states from a padded batch: `hidden` (prefix states) or `input_ids`, with its
        `attention_mask`."""
        if self.cached:
            return self.top(inputs["hidden"], inputs["attention_mask"])
        return self.model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state

    def sample_rows(self, ids: list[int]) -> None:
        """``train.embedding_rows: sample``: from now on only the word-embedding rows `ids` train, the
        others decay (:class:`swimscale.model._rows.SampledRows`) until :meth:`merge_rows`."""
        if self.prefix_depth is not None:
            raise ValueError("the embeddings of this student do not train: there are no rows to sample")
        self._embedding = self.model.get_input_embeddings()
        self.model.set_input_embeddings(SampledRows(self._embedding.weight, ids))

    @property
    def sampled(self) -> SampledRows | None:
        """The sampled word-embedding layer while rows are sampled, else None."""
        embedding = self.model.get_input_embeddings()
        return embedding if isinstance(embedding, SampledRows) else None

    def merge_rows(self) -> None:
        """The plain embedding layer back, holding the whole matrix the sampled rows stand for."""
        if self.sampled is not None:
            with torch.no_grad():
                self._embedding.weight.copy_(self.sampled.merged())
            self.model.set_input_embeddings(self._embedding)

    def _trained_buffers(self) -> dict[str, torch.Tensor]:
        """Buffers that change in training (the sampled rows' decay), named as in the model."""
        return {f"{name}.decay": module.decay for name, module in self.model.named_modules()
                if isinstance(module, SampledRows)}

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """A copy of the trained parameters (what a checkpoint's best student and a student file hold),
        and of the sampled rows' decay while rows are sampled."""
        trained = {name: p for name, p in self.model.named_parameters() if p.requires_grad}
        return {name: p.detach().clone() for name, p in {**trained, **self._trained_buffers()}.items()}

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            tensors = {**dict(self.model.named_parameters()), **self._trained_buffers()}
            for name, value in state.items():
                tensors[name].copy_(value)


def _layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    encoder = getattr(model, "encoder", None)
    if not hasattr(model, "embeddings") or not hasattr(encoder, "layer"):
        raise InputError(f"config 'train.trainable_layers'/'train.freeze_embeddings' need a BERT-style encoder "
                         f"(embeddings + encoder.layer); {type(model).__name__} is not one")
    return encoder.layer


STUDENT_DTYPES = {"float32": torch.float32, "float16": torch.float16}


def save_student(student: StudentModel, path: Path, dtype: str | None = None) -> None:
    """The trained parameters only (safetensors), with the prefix depth they were trained on; the rest
    of the student is the teacher's. `dtype` (the config's ``student_dtype``): how they are stored,
    ``float16`` for half the disk (None: as trained, float32). :func:`load_student` reads either back
    into the model's float32 parameters."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cast = STUDENT_DTYPES[dtype] if dtype is not None else None
    state = {name: (value.to(cast) if cast is not None else value).contiguous().cpu()
             for name, value in student.trainable_state().items()}
    save_file(state, str(path), metadata={"prefix_depth": json.dumps(student.prefix_depth)})


def as_stored(student: StudentModel, dtype: str | None = None) -> StudentModel:
    """The student exactly as :func:`save_student` with `dtype` stores it and :func:`load_student` reads it
    back (its trained parameters rounded through `dtype`, in place; float32 and None leave them as they
    are), in eval mode: what the training job searches with, so that its runs are those of the file."""
    if dtype is not None and STUDENT_DTYPES[dtype] != torch.float32:
        cast = STUDENT_DTYPES[dtype]
        student.load_trainable_state({name: value.to(cast) for name, value in student.trainable_state().items()})
    student.eval()
    return student


def load_student(teacher: TeacherSettings, train: TrainSettings, weights: Path | None,
                 device: torch.device | None = None) -> tuple[object, StudentModel]:
    """(tokenizer, student in eval mode): the teacher's encoder split as ``train`` says
    (``trainable_layers``, ``freeze_embeddings``), with a student file's trained parameters put in (None:
    the untrained student, N = 0). A file trained with another split is refused: its queries' cached
    states would be the wrong layer's."""
    teacher_spec = teacher.model
    tokenizer, model = encode.load_encoder(teacher_spec, device)
    student = StudentModel(model, train.trainable_layers, train.freeze_embeddings, train.dropout)
    if weights is not None:
        with safe_open(str(weights), framework="pt", device=str(student.device)) as handle:
            depth = json.loads(handle.metadata()["prefix_depth"])
            if depth != student.prefix_depth:
                raise InputError(f"{weights}: a student trained with a frozen prefix of {depth} layers, but the "
                                 f"config's train.trainable_layers/freeze_embeddings give {student.prefix_depth}")
            unknown = sorted(set(handle.keys()) - set(dict(model.named_parameters())))
            if unknown:
                raise InputError(f"{weights}: parameters {unknown[:3]} are not the teacher's ({teacher_spec})")
            student.load_trainable_state({name: handle.get_tensor(name) for name in handle.keys()})
    student.eval()
    return tokenizer, student
