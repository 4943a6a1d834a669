"""The frozen teacher's view of a run's training records: precomputed once per run or computed on the
fly inside each update.

Each record's English *counterpart* is what the student's query is distilled onto: its translation
(``query_en``) when the record has one, else the SWIM-IR passage (``text``). A pool is one kind or the
other (:func:`transport_kind`). The counterparts are encoded as the teacher encodes documents (its
``max_length``, pooling and, for a passage, its ``passage_format``: the text the index encodes). Nothing here is shared between runs or written to disk: a run's memory is
O(N) (precomputed) or O(batch) (on the fly), whatever the other runs of the sweep (the language's states
and a training job's per seed are :mod:`swimscale.model._teacher_states` and :mod:`swimscale.model._shared`).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import torch
from tqdm import tqdm

from swimscale.config import TEACHER_TOKENS, TeacherSettings
from swimscale.model import _encode as encode


def passage_text(record: dict, passage_format: str) -> str:
    """The record's passage as the index encodes it: ``teacher.passage_format`` filled with its
    ``title`` (if any) and ``text`` (:func:`swimscale.model.format_passage`)."""
    return encode.format_passage(record.get("title") or "", record["text"], passage_format)


def counterpart(record: dict, passage_format: str) -> str:
    """The English text the query is distilled onto: its translation when the record has one, else the
    SWIM-IR passage as the index encodes it (:func:`passage_text`: title and text joined by
    ``teacher.passage_format``), so that the target is the vector the search scores against."""
    return record.get("query_en") or passage_text(record, passage_format)


def transport_kind(records: list[dict]) -> str:
    """'balanced' for translation pairs, 'semi_relaxed' for query–passage pairs; mixed pools are
    refused, since one batch must be one kind of problem."""
    with_translation = sum(1 for r in records if r.get("query_en"))
    if with_translation == len(records):
        return "balanced"
    if with_translation == 0:
        return "semi_relaxed"
    raise ValueError(
        f"{with_translation} of {len(records)} records have 'query_en': a pool must give a translation "
        "for every query (balanced OT) or for none (semi-relaxed OT against the passage)"
    )


def resolve_teacher_tokens(mode: str, device: torch.device, language: bool = False, run_fits: bool = False,
                           job_fits: bool = False) -> str:
    """``train.teacher_tokens`` on this device. `language`: the job was given its language's teacher
    states (the ``teacher_states`` rule) and they fit ``train.teacher_cache_gib``; `job_fits`: the
    states of the job's largest sample of the run's seed (``job``: :class:`swimscale.model.JobShared`)
    fit ``train.teacher_host_gib`` of host memory; `run_fits`: the run's own states would fit
    ``train.teacher_cache_gib``. ``auto`` precomputes on the CPU (a run repeats each record many
    times, and a teacher forward costs about twice a top-layer update there); on CUDA it reads the
    language's states when given, else the job's states of the seed when they fit, else precomputes the
    run's when they fit, else runs the teacher on the fly (no O(N) memory; one teacher forward per
    update)."""
    if mode == "auto":
        if device.type != "cuda":
            return "precompute"
        return "language" if language else "job" if job_fits else "precompute" if run_fits else "on_the_fly"
    if mode not in TEACHER_TOKENS:
        raise ValueError(f"unknown train.teacher_tokens {mode!r}; known: {', '.join(TEACHER_TOKENS)}")
    return mode


@dataclass(frozen=True)
class TeacherEncoder:
    """The frozen teacher and how it encodes the English side: as documents (``teacher.max_length``,
    ``teacher.pooling``)."""

    tokenizer: object
    model: torch.nn.Module
    settings: TeacherSettings
    # The student's autocast policy (swimscale.model.autocast_for): bf16 on CUDA, none on the CPU, so
    # the teacher's forwards cost what the student's do (the GPU check reports mDPR's bf16/fp32 agreement).
    autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext

    @torch.no_grad()
    def __call__(self, texts: list[str], device, enc: dict | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(token states (B, m, d) float32, transport mask (B, m): the content tokens and the tokens
        the pooling reads (:func:`swimscale.model.scored_transport_mask`), pooled sentence embeddings
        (B, d), not normalised). `enc`: `texts` tokenised already, as
        :func:`swimscale.model.tokenize_for_transport` tokenises them at the teacher's ``max_length``
        (:meth:`swimscale.model.TokenisedTexts.batch`); None: tokenised here."""
        if enc is None:
            enc = encode.tokenize_for_transport(self.tokenizer, texts, self.settings.max_length, device)
        with self.autocast():
            hidden = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        hidden = hidden.float()
        pooled = encode.pool(hidden, enc["attention_mask"], self.settings.pooling)
        empty = (enc["transport_mask"].sum(1) == 0).nonzero().flatten().tolist()
        if empty:
            raise ValueError(f"English counterpart {texts[empty[0]]!r} has no tokens")
        mask = encode.scored_transport_mask(enc["transport_mask"], enc["attention_mask"], self.settings.pooling)
        return hidden, mask.to(hidden.dtype), pooled


class TeacherView(ABC):
    """What the losses read from the teacher for a batch of records (:class:`TrainingBatch`)."""

    @abstractmethod
    def batch(self, records: list[dict], device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(counterpart tokens (B, m, d) float32, their transport mask (B, m), pooled counterparts (B, d))."""

    @abstractmethod
    def pooled(self, records: list[dict], device) -> torch.Tensor:
        """The counterparts' pooled embeddings (B, d)."""

    @abstractmethod
    def passages(self, records: list[dict], device) -> torch.Tensor:
        """The passages' pooled embeddings (B, d), each passage as the index encodes it (:func:`passage_text`)."""


class TeacherOnTheFly(TeacherView):
    """Encodes each batch's counterparts when a loss asks (without gradients): no memory beyond the batch.

    The last batch's encoding is kept, so a loss that reads both the tokens and the pooled embeddings of
    the same records (``optical_pooled``) runs one teacher pass per (micro-)batch, not two; ``passes``
    counts the forwards run."""

    def __init__(self, teacher: TeacherEncoder):
        self.teacher = teacher
        self.passes = 0
        self._last: tuple[tuple, object, tuple] | None = None

    def texts(self, records) -> list[str]:
        return [counterpart(r, self.teacher.settings.passage_format) for r in records]

    def batch(self, records, device):
        key = tuple(r["_id"] for r in records)
        if self._last is None or self._last[0] != key or self._last[1] != device:
            self.passes += 1
            self._last = (key, device, self.teacher(self.texts(records), device))
        return self._last[2]

    def pooled(self, records, device):
        return self.batch(records, device)[2]

    def passages(self, records, device):
        fmt = self.teacher.settings.passage_format
        return self.teacher([passage_text(r, fmt) for r in records], device)[2]


class TeacherCache(TeacherView):
    """The teacher's view of a run's records, computed once before its first update and held in memory.

    Tokens are ragged (all tokens of all counterparts concatenated, special tokens removed, plus
    offsets), float32 — bf16 when the teacher ran under bf16 autocast (on CUDA), half the memory — and
    handed to the loss as float32, so a precomputed run and an on-the-fly run see the same numbers up to
    rounding.
    """

    def __init__(self, ids: list[str], tokens: torch.Tensor | None, offsets: torch.Tensor | None,
                 pooled: torch.Tensor, passage_pooled: torch.Tensor | None):
        self.index = {record_id: i for i, record_id in enumerate(ids)}
        self.ids, self.tokens, self.offsets = ids, tokens, offsets
        self.starts = offsets.tolist() if offsets is not None else None
        self._pooled, self.passage_pooled = pooled, passage_pooled

    def rows(self, records: list[dict]) -> list[int]:
        try:
            return [self.index[r["_id"]] for r in records]
        except KeyError as err:
            raise KeyError(f"record {err} is not in the teacher cache of this run") from None

    def batch(self, records, device):
        if self.tokens is None:
            raise ValueError("this teacher cache holds no tokens (built for a method that needs none)")
        rows = self.rows(records)
        starts = self.starts  # Python ints: slicing reads no tensor value
        lengths = [starts[r + 1] - starts[r] for r in rows]
        out = torch.zeros(len(rows), max(lengths), self.tokens.shape[1])
        mask = torch.zeros(len(rows), max(lengths))
        for i, (r, n) in enumerate(zip(rows, lengths)):
            out[i, :n] = self.tokens[starts[r] : starts[r + 1]]
            mask[i, :n] = 1
        return out.to(device), mask.to(device), self._pooled[rows].to(device)  # float32, as on the fly

    def pooled(self, records, device):
        return self._pooled[self.rows(records)].to(device)

    def passages(self, records, device):
        if self.passage_pooled is None:
            raise ValueError("this teacher cache holds no passages (built for a method that needs none)")
        return self.passage_pooled[self.rows(records)].to(device)


def cache_dtype(teacher: TeacherEncoder) -> torch.dtype:
    """The precision a cache keeps the teacher's token states in: the forward's. Under bf16 autocast (CUDA)
    they are bf16 to begin with: kept so, they take half the memory of float32."""
    return torch.float32 if teacher.autocast is contextlib.nullcontext else torch.bfloat16


def build_teacher_cache(teacher: TeacherEncoder, records: list[dict], *, tokens: bool = True,
                        passages: bool = True, into: tuple[torch.Tensor, list[int]] | None = None,
                        tokenised: encode.TokenisedTexts | None = None) -> TeacherCache:
    """Encodes each record's counterpart once (and its passage, when another text and `passages`), in
    batches of ``teacher.batch_size``; keeps the token states only when `tokens` (a method without
    transport needs none). `into`: (a host tensor of every record's token rows, the records' start
    rows and the end) to write the states into as they come (a buffer allocated once, e.g. pinned: no
    second copy of the states while they are joined); None: a tensor of its own. `tokenised`: the
    counterparts tokenised already at the teacher's ``max_length``, by record id (the rows of `into`
    were counted from them): not tokenised again."""
    batch_size = teacher.settings.batch_size
    device = next(teacher.model.parameters()).device
    fmt = teacher.settings.passage_format
    storage = cache_dtype(teacher)
    texts = [counterpart(r, fmt) for r in records]
    per_record: list[torch.Tensor | None] = [None] * len(records)
    pooled = torch.zeros(len(records), teacher.model.config.hidden_size)
    progress = tqdm(total=len(texts), desc="teacher tokens", unit="text", mininterval=5, disable=None)
    for index in encode.batches_by_length(texts, batch_size):
        enc = tokenised.batch([records[i]["_id"] for i in index], device) if tokenised is not None else None
        hidden, mask, batch_pooled = teacher([texts[i] for i in index], device, enc)
        pooled[index] = batch_pooled.cpu()
        if tokens:  # only the tokens the loss reads (no special tokens, no padding), in the forward's precision
            for row, i in enumerate(index):
                kept = hidden[row][mask[row].bool()].to(storage)
                if into is None:
                    per_record[i] = kept.cpu()
                else:  # the rows counted beforehand: a count that disagrees fails here (shape)
                    into[0][into[1][i] : into[1][i + 1]].copy_(kept)
        progress.update(len(index))
    progress.close()
    passage_pooled = None
    if passages:
        passage_pooled = pooled.clone()
        passages = [passage_text(r, fmt) for r in records]
        differ = [i for i, r in enumerate(records) if passages[i] != texts[i]]
        for start in range(0, len(differ), batch_size):  # translation pairs: pool the passages too
            chunk = differ[start : start + batch_size]
            passage_pooled[chunk] = teacher([passages[i] for i in chunk], device)[2].cpu()
    offsets = all_tokens = None
    if tokens and into is not None:
        offsets, all_tokens = torch.tensor(into[1]), into[0]
    elif tokens:
        offsets = torch.cumsum(torch.tensor([0] + [t.shape[0] for t in per_record]), 0)
        all_tokens = torch.cat(per_record)
    return TeacherCache([r["_id"] for r in records], all_tokens, offsets, pooled, passage_pooled)
