"""Training a student query encoder for language L from a frozen English teacher.

Methods:
- `optical` (OPTICAL): the student's token embeddings of the L query are transported onto the
  teacher's token embeddings of the English counterpart; loss = batch mean of <T, C>.
  The counterpart decides the transport: a translation of the query (`query_en`, e.g. the demo's
  Bible pairs) covers the same content → balanced OT; the SWIM-IR passage the query was generated
  from (`text`) covers more than the query → semi-relaxed OT (the passage-side marginal relaxed by
  a KL penalty τ).
- `contrastive` (SWIM-X style fine-tuning): in-batch-negative InfoNCE between the student's query
  embedding and the frozen teacher's passage embeddings.

The teacher never changes, so its embeddings of every English text that any run uses are computed
once per pool (`build_teacher_cache`) and read by every training run.

Runs checkpoint every K steps (model, optimiser, RNG and data-order state) and resume from the last
checkpoint when re-run, ending with the same student as an uninterrupted run (bit-identical on CPU).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from swimscale.model import _encode as encode
from swimscale.model import _ot as ot

METHODS = ("optical", "contrastive")


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 16
    max_length: int = 64
    lr: float = 1e-4
    weight_decay: float = 0.01
    epochs: float = 1.0
    min_steps: int = 0
    max_steps: int = 100_000
    eps: float = 0.02
    tau: float = 0.1
    sinkhorn_iters: int = 50
    pooled_weight: float = 1.0
    temperature: float = 0.05
    pooling: str = "mean"  # the teacher's sentence pooling (set from teacher.pooling)
    grad_clip: float = 1.0
    seed: int = 0


def steps_for(size: int, cfg: TrainConfig) -> int:
    """The training budget rule: `epochs` passes over the sample, clamped to [min_steps, max_steps]."""
    if size == 0:
        return 0
    steps = math.ceil(cfg.epochs * size / min(cfg.batch_size, size))
    return max(cfg.min_steps, min(cfg.max_steps, steps))


def counterpart(record: dict) -> str:
    """The English text the query's tokens are transported onto: its translation when the record
    has one, else the SWIM-IR passage."""
    return record.get("query_en") or record["text"]


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


class TeacherCache:
    """The frozen teacher's view of each record, keyed by record id:
    token embeddings of the counterpart (special tokens removed), its mean-pooled embedding, and the
    mean-pooled embedding of the passage (`text`, for the contrastive method).

    Tokens are stored ragged — all tokens concatenated plus offsets — in float16, which halves the
    file; the cosine cost computed from it differs from float32 by ~1e-3, far below ε.
    """

    def __init__(self, ids, tokens, offsets, pooled, passage_pooled):
        self.index = {record_id: i for i, record_id in enumerate(ids)}
        self.ids, self.tokens, self.offsets = ids, tokens, offsets
        self.pooled, self.passage_pooled = pooled, passage_pooled

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"tokens": self.tokens, "offsets": self.offsets, "pooled": self.pooled,
                   "passage_pooled": self.passage_pooled}
        save_file(tensors, str(path), metadata={"ids": json.dumps(self.ids)})

    @classmethod
    def load(cls, path: Path) -> "TeacherCache":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            ids = json.loads(handle.metadata()["ids"])
        t = load_file(str(path))
        return cls(ids, t["tokens"], t["offsets"], t["pooled"], t["passage_pooled"])

    def rows(self, ids: list[str]) -> list[int]:
        try:
            return [self.index[record_id] for record_id in ids]
        except KeyError as err:
            raise KeyError(f"record {err} is not in the teacher cache; rebuild it") from None

    def batch(self, ids: list[str], dev) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(tokens (B, m, d) float32 zero-padded, mask (B, m), pooled (B, d))."""
        rows = self.rows(ids)
        lengths = [int(self.offsets[r + 1] - self.offsets[r]) for r in rows]
        out = torch.zeros(len(rows), max(lengths), self.tokens.shape[1])
        mask = torch.zeros(len(rows), max(lengths))
        for i, (r, n) in enumerate(zip(rows, lengths)):
            out[i, :n] = self.tokens[self.offsets[r] : self.offsets[r + 1]].float()
            mask[i, :n] = 1
        return out.to(dev), mask.to(dev), self.pooled[rows].float().to(dev)

    def passages(self, ids: list[str], dev) -> torch.Tensor:
        return self.passage_pooled[self.rows(ids)].float().to(dev)


@torch.no_grad()
def build_teacher_cache(
    tokenizer, model, records: list[dict], max_length: int, batch_size: int, pooling: str = "mean"
) -> TeacherCache:
    """Encodes each record's English counterpart (and passage, when different) once with the teacher."""
    dev = next(model.parameters()).device
    texts = [counterpart(r) for r in records]
    per_record: list[torch.Tensor | None] = [None] * len(records)
    pooled = torch.zeros(len(records), model.config.hidden_size)
    progress = tqdm(total=len(texts), desc="teacher tokens", unit="text", mininterval=5, disable=None)
    for index in encode.batches_by_length(texts, batch_size):
        enc = encode.tokenize_for_transport(tokenizer, [texts[i] for i in index], max_length, dev)
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        pooled[index] = encode.pool(hidden, enc["attention_mask"], pooling).float().cpu()
        for row, i in enumerate(index):
            keep = enc["transport_mask"][row].bool()
            if not keep.any():
                raise ValueError(f"record '{records[i]['_id']}': English text has no tokens")
            per_record[i] = hidden[row][keep].to(torch.float16).cpu()
        progress.update(len(index))
    progress.close()
    passage_pooled = pooled.clone()
    differ = [i for i, r in enumerate(records) if r["text"] != texts[i]]
    if differ:  # translation pairs whose passage is another text: pool the passages too
        passage_pooled[differ] = torch.from_numpy(
            encode.encode_texts(tokenizer, model, [records[i]["text"] for i in differ], batch_size, max_length,
                                desc="teacher passages", pooling=pooling)
        )
    lengths = torch.tensor([0] + [t.shape[0] for t in per_record])
    return TeacherCache([r["_id"] for r in records], torch.cat(per_record), torch.cumsum(lengths, 0), pooled,
                        passage_pooled)


class BatchStream:
    """Endless batches of indices: a fresh seeded permutation every pass over the sample. Its state
    (generator + pending indices) is part of a checkpoint, so a resumed run sees the same batches."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size = n, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.pending: list[int] = []

    def next(self) -> list[int]:
        while len(self.pending) < self.batch_size:
            self.pending += torch.randperm(self.n, generator=self.generator).tolist()
        batch, self.pending = self.pending[: self.batch_size], self.pending[self.batch_size :]
        return batch

    def state(self) -> dict:
        return {"generator": self.generator.get_state(), "pending": list(self.pending)}

    def load_state(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.pending = list(state["pending"])


def fingerprint(records: list[dict], teacher_spec: str, cfg: TrainConfig, method: str) -> str:
    """Identifies a run: a checkpoint of another run (other data, settings or method) is never used."""
    digest = hashlib.sha256(json.dumps([teacher_spec, method, asdict(cfg)], sort_keys=True).encode())
    for record in records:
        digest.update(record["_id"].encode() + b"\0")
    return digest.hexdigest()


def _save_checkpoint(path: Path, state: dict) -> None:
    """Atomic: a job killed while writing leaves the previous checkpoint intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def _load_checkpoint(path: Path | None, expected: str) -> dict | None:
    if path is None or not path.exists():
        return None
    # weights_only: our own file, but never unpickle arbitrary objects.
    state = torch.load(path, map_location="cpu", weights_only=True)
    return state if state.get("fingerprint") == expected else None


def _batch_loss(model, tokenizer, cache, batch, cfg, method, kind, dev, autocast):
    enc = encode.tokenize_for_transport(tokenizer, [r["query"] for r in batch], cfg.max_length, dev)
    with autocast():
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
    hidden = hidden.float()
    ids = [r["_id"] for r in batch]
    s_pooled = encode.pool(hidden, enc["attention_mask"], cfg.pooling)
    if method == "contrastive":
        queries = torch.nn.functional.normalize(s_pooled, dim=-1)
        passages = torch.nn.functional.normalize(cache.passages(ids, dev), dim=-1)
        logits = queries @ passages.T / cfg.temperature
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch), device=dev))
        return loss, {"contrastive_loss": loss.item()}
    t_tokens, t_mask, t_pooled = cache.batch(ids, dev)
    tau = cfg.tau if kind == "semi_relaxed" else None
    ot_loss = ot.optical_loss(hidden, t_tokens, enc["transport_mask"], t_mask, cfg.eps, cfg.sinkhorn_iters, tau=tau)
    pooled_loss = (1 - torch.nn.functional.cosine_similarity(s_pooled, t_pooled, dim=-1)).mean()
    return ot_loss + cfg.pooled_weight * pooled_loss, {"ot_loss": ot_loss.item(), "pooled_loss": pooled_loss.item()}


def accumulate_gradients(model, tokenizer, cache, batch, cfg, method, kind, dev, autocast, micro):
    """Back-propagates the batch loss in micro-batches of `micro` pairs; returns (loss, parts).
    Each micro-batch's loss is weighted by its share of the batch, so the accumulated gradient is the
    full batch's (for OPTICAL, a mean of per-pair terms; dropout draws differ, though)."""
    total, parts = 0.0, {}
    for first in range(0, len(batch), micro):
        chunk = batch[first : first + micro]
        loss, chunk_parts = _batch_loss(model, tokenizer, cache, chunk, cfg, method, kind, dev, autocast)
        (loss * len(chunk) / len(batch)).backward()
        total += loss.item() * len(chunk) / len(batch)
        for name, value in chunk_parts.items():
            parts[name] = parts.get(name, 0.0) + value * len(chunk) / len(batch)
    return total, parts


def train_student(
    records: list[dict],
    teacher_spec: str,
    cache: TeacherCache,
    cfg: TrainConfig,
    method: str = "optical",
    checkpoint: Path | None = None,
    checkpoint_every: int = 0,
    micro_batch_size: int | None = None,
) -> tuple[torch.nn.Module, dict]:
    """Trains the student (initialised from the teacher) on `records`; returns it and its log.

    OPTICAL's loss per batch = mean <T, C> plus `pooled_weight` × mean (1 − cos) between the
    student's and the teacher's mean-pooled embeddings (our addition; 0 gives pure OPTICAL).
    `micro_batch_size` splits each batch for gradient accumulation (a retry after running out of GPU
    memory): OPTICAL's loss is a mean of per-pair terms, so the update is the same; the contrastive
    loss then sees fewer in-batch negatives.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}'; known: {', '.join(METHODS)}")
    kind = transport_kind(records)
    dev = encode.device()
    torch.manual_seed(cfg.seed)
    tokenizer, model = encode.load_encoder(teacher_spec, dev)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = steps_for(len(records), cfg)
    batch_size = min(cfg.batch_size, len(records))
    micro = max(1, min(micro_batch_size or batch_size, batch_size))
    stream = BatchStream(len(records), batch_size, cfg.seed)
    # bf16 autocast on CUDA only: on CPU it changes results and the demo's budget fits without it.
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if dev.type == "cuda" else contextlib.nullcontext
    key = fingerprint(records, teacher_spec, cfg, method)
    log = {"config": asdict(cfg), "method": method, "transport": kind if method == "optical" else None,
           "n_records": len(records), "steps": steps, "batch_size": batch_size, "micro_batch_size": micro,
           "loss": [], "parts": [], "resumed_from_step": 0, "train_seconds": 0.0}
    start_step = 0
    state = _load_checkpoint(checkpoint, key)
    if state is not None:
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        torch.set_rng_state(state["rng"])
        if dev.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"])
        stream.load_state(state["stream"])
        log = json.loads(state["log"])
        start_step = log["resumed_from_step"] = state["step"]
        print(f"resumed from checkpoint {checkpoint} at step {start_step} of {steps}")
    resumed_at = time.perf_counter()
    start = resumed_at - log["train_seconds"]  # wall time accumulates across resumptions
    progress = tqdm(range(start_step, steps), desc=f"train {method}", unit="step", mininterval=5, disable=None,
                    initial=start_step, total=steps)
    for step in progress:
        batch = [records[i] for i in stream.next()]
        optimiser.zero_grad(set_to_none=True)
        total, parts = accumulate_gradients(model, tokenizer, cache, batch, cfg, method, kind, dev, autocast, micro)
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimiser.step()
        log["loss"].append(round(total, 6))
        log["parts"].append({name: round(value, 6) for name, value in parts.items()})
        now = time.perf_counter()
        rate = (step + 1 - start_step) * batch_size / max(now - resumed_at, 1e-9)
        progress.set_postfix(loss=f"{total:.4f}", examples_per_s=f"{rate:.1f}")
        if checkpoint is not None and checkpoint_every and (step + 1) % checkpoint_every == 0 and step + 1 < steps:
            log["train_seconds"] = round(now - start, 3)
            _save_checkpoint(checkpoint, {
                "fingerprint": key, "step": step + 1, "model": model.state_dict(),
                "optimiser": optimiser.state_dict(), "rng": torch.get_rng_state(),
                **({"cuda_rng": torch.cuda.get_rng_state()} if dev.type == "cuda" else {}),
                "stream": stream.state(), "log": json.dumps(log),
            })
    progress.close()
    log["examples_seen"] = steps * batch_size
    log["train_seconds"] = round(time.perf_counter() - start, 3)
    log["device"] = str(dev)
    model.eval()
    return model, log


def save_student(model: torch.nn.Module, path: Path) -> None:
    """The student's weights only (safetensors); its architecture and tokenizer are the teacher's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(path))


def load_student(teacher_spec: str, weights: Path | None, dev=None):
    """(tokenizer, model): the teacher's query encoder, with the student's weights if given (N > 0)."""
    tokenizer, model = encode.load_encoder(teacher_spec, dev)
    if weights is not None:
        model.load_state_dict(load_file(str(weights), device=str(next(model.parameters()).device)))
    model.eval()
    return tokenizer, model
