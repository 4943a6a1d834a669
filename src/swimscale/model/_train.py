"""Training a student query encoder for language L from a frozen English teacher.

The method is a loss object of :data:`swimscale.model.losses.METHODS` (`optical`: token-level optimal
transport onto the teacher, `contrastive`: in-batch InfoNCE against the teacher's passages). The
teacher never changes, so its view of every English text any run uses is computed once per pool
(:func:`build_teacher_cache`) and read by every run.

:func:`train_student` runs in named phases — set-up (``_Training.__init__``), resume
(``_Training.resume``), steps (``_Training.step``), checkpoints (``_Training.state`` into
:class:`Checkpoints`) and finish (``_Training.finish``). Runs checkpoint every K steps (model,
optimiser, RNG and data-order state) and resume from the last checkpoint when re-run, ending with the
same student as an uninterrupted run (bit-identical on CPU).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import torch
from tqdm import tqdm

from swimscale.model import _encode as encode
from swimscale.model._checkpoint import Checkpoints, fingerprint
from swimscale.model._config import TrainConfig, steps_for
from swimscale.model._student import StudentEncoder, autocast_for
from swimscale.model._teacher_cache import TeacherCache, transport_kind
from swimscale.model.losses import METHODS, TrainingBatch, TrainingLoss


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


def accumulate_gradients(
    student: StudentEncoder, loss_fn: TrainingLoss, batch: TrainingBatch, micro: int
) -> tuple[float, dict[str, float]]:
    """Back-propagates the batch loss in micro-batches of `micro` pairs; returns (loss, parts).
    Each micro-batch's loss is weighted by its share of the batch, so the accumulated gradient is the
    full batch's (for OPTICAL, a mean of per-pair terms; dropout draws differ, though)."""
    total, parts = 0.0, {}
    for chunk in batch.split(micro):
        loss, chunk_parts = loss_fn(student(chunk.records), chunk)
        (loss * len(chunk) / len(batch)).backward()
        total += loss.item() * len(chunk) / len(batch)
        for name, value in chunk_parts.items():
            parts[name] = parts.get(name, 0.0) + value * len(chunk) / len(batch)
    return total, parts


class _Training:
    """One run between its phases: the student being trained, its optimiser, loss, data order and log."""

    def __init__(self, records: list[dict], teacher_spec: str, cache: TeacherCache, cfg: TrainConfig,
                 method: str, micro_batch_size: int | None):
        """Set-up. The order of these calls fixes the RNG draws (the seed is set before the model is
        built): changing it changes every student."""
        if method not in METHODS:
            raise ValueError(f"unknown method '{method}'; known: {', '.join(METHODS)}")
        kind = transport_kind(records)
        self.device = encode.device()
        torch.manual_seed(cfg.seed)
        tokenizer, self.model = encode.load_encoder(teacher_spec, self.device)
        self.model.train()
        self.optimiser = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.records, self.cache, self.cfg = records, cache, cfg
        self.steps = steps_for(len(records), cfg)
        self.batch_size = min(cfg.batch_size, len(records))
        self.micro = max(1, min(micro_batch_size or self.batch_size, self.batch_size))
        self.stream = BatchStream(len(records), self.batch_size, cfg.seed)
        self.student = StudentEncoder(tokenizer, self.model, cfg.max_length, cfg.pooling, self.device,
                                      autocast_for(self.device))
        self.loss = METHODS[method].from_config(cfg, kind)
        self.start_step = 0
        self.log = {"config": asdict(cfg), "method": method, "transport": self.loss.transport,
                    "n_records": len(records), "steps": self.steps, "batch_size": self.batch_size,
                    "micro_batch_size": self.micro, "loss": [], "parts": [], "resumed_from_step": 0,
                    "train_seconds": 0.0}

    def resume(self, checkpoints: Checkpoints) -> None:
        """Continues from the run's last checkpoint, if it has one."""
        state = checkpoints.load()
        if state is None:
            return
        self.model.load_state_dict(state["model"])
        self.optimiser.load_state_dict(state["optimiser"])
        torch.set_rng_state(state["rng"])
        if self.device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"])
        self.stream.load_state(state["stream"])
        self.log = json.loads(state["log"])
        self.start_step = self.log["resumed_from_step"] = state["step"]
        print(f"resumed from checkpoint {checkpoints.path} at step {self.start_step} of {self.steps}")

    def step(self) -> float:
        """One optimiser step on the next batch; returns its loss."""
        batch = TrainingBatch([self.records[i] for i in self.stream.next()], self.cache, self.device)
        self.optimiser.zero_grad(set_to_none=True)
        total, parts = accumulate_gradients(self.student, self.loss, batch, self.micro)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimiser.step()
        self.log["loss"].append(round(total, 6))
        self.log["parts"].append({name: round(value, 6) for name, value in parts.items()})
        return total

    def state(self, done: int) -> dict:
        """What a checkpoint after `done` steps holds."""
        cuda = {"cuda_rng": torch.cuda.get_rng_state()} if self.device.type == "cuda" else {}
        return {"step": done, "model": self.model.state_dict(), "optimiser": self.optimiser.state_dict(),
                "rng": torch.get_rng_state(), **cuda, "stream": self.stream.state(), "log": json.dumps(self.log)}

    def finish(self, train_seconds: float) -> tuple[torch.nn.Module, dict]:
        self.log["examples_seen"] = self.steps * self.batch_size
        self.log["train_seconds"] = train_seconds
        self.log["device"] = str(self.device)
        self.model.eval()
        return self.model, self.log


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

    `method` names the loss (:data:`METHODS`). `checkpoint`/`checkpoint_every`: where and every how
    many steps to checkpoint (a re-run resumes there). `micro_batch_size` splits each batch for
    gradient accumulation (a retry after running out of GPU memory): OPTICAL's loss is a mean of
    per-pair terms, so the update is the same; the contrastive loss then sees fewer in-batch negatives.
    """
    run = _Training(records, teacher_spec, cache, cfg, method, micro_batch_size)
    checkpoints = Checkpoints(checkpoint, checkpoint_every, fingerprint(records, teacher_spec, cfg, method))
    run.resume(checkpoints)
    resumed_at = time.perf_counter()
    start = resumed_at - run.log["train_seconds"]  # wall time accumulates across resumptions
    progress = tqdm(range(run.start_step, run.steps), desc=f"train {method}", unit="step", mininterval=5,
                    disable=None, initial=run.start_step, total=run.steps)
    for step in progress:
        total = run.step()
        now = time.perf_counter()
        rate = (step + 1 - run.start_step) * run.batch_size / max(now - resumed_at, 1e-9)
        progress.set_postfix(loss=f"{total:.4f}", examples_per_s=f"{rate:.1f}")
        if checkpoints.due(step + 1, run.steps):
            run.log["train_seconds"] = round(now - start, 3)
            checkpoints.save(run.state(step + 1))
    progress.close()
    return run.finish(round(time.perf_counter() - start, 3))
