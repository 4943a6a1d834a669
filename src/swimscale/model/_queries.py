"""Queries as the student reads them — token ids (full fine-tuning) or the frozen prefix's cached states
(:class:`QueryStates`) — its forward pass over a training batch (:class:`StudentEncoder`) and the
embeddings of a set of queries for search or dev evaluation (:func:`encode_queries`).

The prefix states of the training queries are computed once per run, in memory (O(N)); those of a
benchmark's queries once per benchmark by the ``query_states`` rule, written with the settings they
depend on so a student with another split or ``max_length`` refuses them.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from tqdm import tqdm

from swimscale.config import TeacherSettings, TrainSettings
from swimscale.errors import InputError
from swimscale.model import _encode as encode
from swimscale.model._student import StudentModel
from swimscale.model.losses import StudentOutputs


@dataclass(frozen=True)
class TextQueries:
    """Queries as token ids (a student without a frozen prefix), tokenised once, at the first batch
    (:class:`swimscale.model.TokenisedTexts`; a batch is :func:`swimscale.model.tokenize_for_transport`'s,
    value for value, without the tokenizer inside each update). `tokens`: texts tokenised already with
    this tokenizer and `max_length` (a superset of `texts`, looked up by id: the largest sample of a
    training job's seed, :class:`swimscale.model.JobShared`); None: `texts` are tokenised here."""

    tokenizer: object
    max_length: int
    texts: dict[str, str]  # query id → text
    tokens: encode.TokenisedTexts | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.tokens is not None and self.tokens.max_length != self.max_length:
            raise ValueError(f"queries tokenised at max_length {self.tokens.max_length}, read at {self.max_length}")

    def length(self, query_id: str) -> int:
        """The query's length in characters (what train.group_by_length sorts by)."""
        return len(self.texts[query_id])

    def batch(self, ids: Sequence[str], device) -> dict:
        if self.tokens is None:  # every query at once, the first time
            object.__setattr__(self, "tokens", encode.TokenisedTexts(self.tokenizer, list(self.texts),
                                                                     list(self.texts.values()), self.max_length))
        return self.tokens.batch(ids, device)


class QueryStates:
    """The frozen prefix's output for a set of queries, ragged: every token of every query concatenated
    (float32; special tokens included, flagged), with offsets. `settings`: what the states depend on."""

    def __init__(self, ids: list[str], states: torch.Tensor, offsets: torch.Tensor, special: torch.Tensor,
                 settings: dict, source: Path | None = None):
        self.ids, self.states, self.offsets, self.special, self.settings = ids, states, offsets, special, settings
        self.source = source  # the file they were read from, if any
        self.index = {query_id: i for i, query_id in enumerate(ids)}

    def check(self, expected: dict) -> None:
        """Refuses states computed with other settings than `expected` (teacher, prefix depth, max_length)."""
        if self.settings != expected:
            where = self.source or "query states"
            raise InputError(f"{where}: computed with {self.settings}, but this student needs {expected}; "
                             "delete the file so that the query_states rule recomputes it")

    def length(self, query_id: str) -> int:
        row = self.index[query_id]
        return int(self.offsets[row + 1] - self.offsets[row])

    def batch(self, ids: Sequence[str], device) -> dict:
        """A padded batch: `hidden` (B, n, d), `attention_mask`, `transport_mask` (0 on special tokens)."""
        try:
            rows = [self.index[query_id] for query_id in ids]
        except KeyError as err:
            raise KeyError(f"query {err} has no cached prefix states") from None
        lengths = [int(self.offsets[r + 1] - self.offsets[r]) for r in rows]
        hidden = torch.zeros(len(rows), max(lengths), self.states.shape[1])
        attention = torch.zeros(len(rows), max(lengths), dtype=torch.long)
        transport = torch.zeros(len(rows), max(lengths), dtype=torch.long)
        for i, (r, n) in enumerate(zip(rows, lengths)):
            span = slice(int(self.offsets[r]), int(self.offsets[r + 1]))
            hidden[i, :n] = self.states[span]
            attention[i, :n] = 1
            transport[i, :n] = 1 - self.special[span].long()
        return {"hidden": hidden.to(device), "attention_mask": attention.to(device),
                "transport_mask": transport.to(device)}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"states": self.states.contiguous(), "offsets": self.offsets, "special": self.special}
        save_file(tensors, str(path), metadata={"ids": json.dumps(self.ids), "settings": json.dumps(self.settings)})

    @classmethod
    def load(cls, path: Path) -> QueryStates:
        """The states of a file written by :meth:`save` (check them with :meth:`check` before use)."""
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata()
            tensors = {name: handle.get_tensor(name) for name in ("states", "offsets", "special")}
        return cls(json.loads(metadata["ids"]), tensors["states"], tensors["offsets"], tensors["special"],
                   json.loads(metadata["settings"]), Path(path))


def state_settings(teacher: TeacherSettings, train: TrainSettings, student: StudentModel) -> dict:
    """What a query's prefix states depend on: the teacher's model spec, the student's prefix depth and
    the queries' token limit (``train.max_length``)."""
    return {"teacher": teacher.model, "prefix_depth": student.prefix_depth, "max_length": train.max_length}


@torch.no_grad()
def encode_query_states(tokenizer, student: StudentModel, ids: list[str], texts: list[str], teacher: TeacherSettings,
                        train: TrainSettings) -> QueryStates:
    """Runs the frozen prefix once over every query, truncated at ``train.max_length``, in batches of
    ``teacher.batch_size`` of similar length (no padding is kept); the states carry their
    :func:`state_settings`."""
    if not student.cached:
        raise ValueError("this student has no frozen prefix: its queries are read as token ids")
    per_query: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(texts)
    progress = tqdm(total=len(texts), desc="query states", unit="query", mininterval=5, disable=None)
    for index in encode.batches_by_length(texts, teacher.batch_size):
        enc = encode.tokenize_for_transport(tokenizer, [texts[i] for i in index], train.max_length, student.device)
        hidden = student.prefix(enc["input_ids"], enc["attention_mask"]).float().cpu()
        for row, i in enumerate(index):
            keep = enc["attention_mask"][row].bool().cpu()
            special = (1 - enc["transport_mask"][row].cpu())[keep].to(torch.uint8)
            per_query[i] = (hidden[row][keep].clone(), special)
        progress.update(len(index))
    progress.close()
    offsets = torch.cumsum(torch.tensor([0] + [states.shape[0] for states, _ in per_query]), 0)
    return QueryStates(list(ids), torch.cat([s for s, _ in per_query]), offsets,
                       torch.cat([f for _, f in per_query]), state_settings(teacher, train, student))


def query_inputs(tokenizer, student: StudentModel, ids: list[str], texts: list[str], teacher: TeacherSettings,
                 train: TrainSettings, tokens: Callable[[], encode.TokenisedTexts] | None = None
                 ) -> TextQueries | QueryStates:
    """How `student` reads these queries: their prefix states (computed here) or their token ids
    (tokenised here, or `tokens()`: tokenised once for the job's seed)."""
    if student.cached:
        return encode_query_states(tokenizer, student, ids, texts, teacher, train)
    return TextQueries(tokenizer, train.max_length, dict(zip(ids, texts)), tokens() if tokens is not None else None)


def autocast_for(device: torch.device) -> Callable[[], contextlib.AbstractContextManager]:
    """bf16 autocast on CUDA only: on CPU it changes results and the demo's budget fits without it."""
    if device.type == "cuda":
        return lambda: torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext


@dataclass(frozen=True)
class StudentEncoder:
    """The student's forward pass over training records → :class:`StudentOutputs` (token states in
    float32, the transport mask — content tokens plus the tokens the pooling reads — and the sentence
    embedding with the teacher's pooling, computed as :func:`encode_queries` computes the scored one)."""

    student: StudentModel
    inputs: TextQueries | QueryStates  # keyed by record id
    pooling: str
    autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
    # The student's forward as the update runs it: None, eager (StudentModel.forward); else its
    # torch.compile'd form (swimscale.model._compile.compile_encoder).
    forward: Callable[[dict], torch.Tensor] | None = None

    def __call__(self, records: list[dict]) -> StudentOutputs:
        batch = self.inputs.batch([r["_id"] for r in records], self.student.device)
        with self.autocast():
            hidden = (self.forward or self.student.forward)(batch)
        hidden = hidden.float()
        pooled = encode.pool(hidden, batch["attention_mask"], self.pooling)
        mask = encode.scored_transport_mask(batch["transport_mask"], batch["attention_mask"], self.pooling)
        return StudentOutputs(tokens=hidden, transport_mask=mask, pooled=pooled)


@torch.no_grad()
def encode_queries(student: StudentModel, inputs: TextQueries | QueryStates, ids: list[str],
                   teacher: TeacherSettings) -> np.ndarray:
    """Sentence embeddings (float32, in the order of `ids`) of queries, in batches of
    ``teacher.batch_size`` of similar length, with the teacher's pooling, L2-normalised when
    ``teacher.normalize`` (as ``encode_texts`` and the teacher's corpus encoding); the student is put in
    eval mode."""
    batch_size = teacher.batch_size
    student.eval()
    order = sorted(range(len(ids)), key=lambda i: -inputs.length(ids[i]))
    out = None
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        batch = inputs.batch([ids[i] for i in index], student.device)
        hidden = student.forward(batch).float()
        pooled = encode.pool(hidden, batch["attention_mask"], teacher.pooling)
        if teacher.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        if out is None:
            out = np.zeros((len(ids), pooled.shape[1]), dtype=np.float32)
        out[index] = pooled.cpu().numpy()
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)
