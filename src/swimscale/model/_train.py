"""Training a student query encoder for language L from a frozen English teacher.

The method is a loss object of :data:`swimscale.model.losses.METHODS`. A run gets the teacher's view of
its own records (precomputed once or on the fly: :mod:`swimscale.model._teacher`; or the language's, or
its training job's for its seed: :mod:`swimscale.model._shared`) and, for a student with a frozen prefix,
computes the prefix states of its training queries once; what a job's students share is one seed's
largest sample at a time, so a job's memory is O(N) of its largest N whatever the sweep.

The budget (:class:`swimscale.model._select.Selection`): ``converged`` evaluates dev Recall@50 every
``eval_every_passes`` passes over the sample (or ``eval_every`` updates), keeps the best student (the
untrained one is step 0's candidate) and stops at ``patience``, not before ``min_passes`` and
``min_steps``, or at ``max_steps``; ``fixed`` runs ``max_steps`` updates, ``fixed_passes`` ``passes``
passes. The log records what the kept student saw (``examples_seen``, ``passes_at_best``,
``steps_at_best``) and why the run stopped (``stopped_by``).

:func:`train_student` runs in named phases — set-up (``_Training.__init__``), resume
(``_Training.resume``), updates (``_Training.step``), dev evaluations (``_Training.evaluate``),
checkpoints (``_Training.state`` into :class:`Checkpoints`) and finish (``_Training.finish``). A
checkpoint holds the trained parameters, the optimiser, the RNG and data-order state, the dev curve and
the best student so far; a re-run resumes from it and ends with the same student and log as an
uninterrupted run (bit-identical on CPU).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import torch
from tqdm import tqdm

from swimscale.config import TeacherSettings, TrainSettings
from swimscale.model import _encode as encode
from swimscale.model._checkpoint import Checkpoints, fingerprint
from swimscale.model._compile import compile_encoder
from swimscale.model._device import device as default_device
from swimscale.model._queries import StudentEncoder, autocast_for, query_inputs, state_settings
from swimscale.model._rows import sample_ids
from swimscale.model._select import DevSet, Selection
from swimscale.model._shared import JobShared, run_share
from swimscale.model._student import StudentModel
from swimscale.model._teacher import TeacherEncoder, transport_kind
from swimscale.model._teacher_states import teacher_view
from swimscale.model.losses import METHODS, TrainingBatch, TrainingLoss


class BatchStream:
    """Endless batches of indices: a fresh seeded permutation every pass over the sample. Its state
    (generator + pending indices) is part of a checkpoint, so a resumed run sees the same batches.

    With `group` > 1 (``train.group_by_length``) each pass's permutation is cut into chunks of `group`
    batches, each chunk is sorted by query length and cut into batches, and the pass's batches are
    shuffled: a batch then holds queries of similar length, which cuts the padding (and the time) of
    an update — 1.75× on the Bible queries at max_length 96 — at the price of less random batches (a
    sample smaller than a chunk is always cut into the same batches, in a new order every pass).
    """

    def __init__(self, n: int, batch_size: int, seed: int, lengths: list[int] | None = None, group: int = 0):
        self.n, self.batch_size, self.lengths, self.group = n, batch_size, lengths, group
        self.generator = torch.Generator().manual_seed(seed)
        self.pending: list[int] = []

    def one_pass(self) -> list[int]:
        order = torch.randperm(self.n, generator=self.generator).tolist()
        if self.group <= 1 or self.lengths is None:
            return order
        chunk = self.batch_size * self.group
        batches = []
        for start in range(0, self.n, chunk):
            by_length = sorted(order[start : start + chunk], key=lambda i: self.lengths[i])
            batches += [by_length[k : k + self.batch_size] for k in range(0, len(by_length), self.batch_size)]
        shuffled = torch.randperm(len(batches), generator=self.generator).tolist()
        return [i for b in shuffled for i in batches[b]]

    def next(self) -> list[int]:
        while len(self.pending) < self.batch_size:
            self.pending += self.one_pass()
        batch, self.pending = self.pending[: self.batch_size], self.pending[self.batch_size :]
        return batch

    def state(self) -> dict:
        return {"generator": self.generator.get_state(), "pending": list(self.pending)}

    def load_state(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.pending = list(state["pending"])


def host_values(values: list) -> list[float]:
    """The update's one read of device values: the 0-d tensors among `values` stacked and copied to the
    host at once (one host synchronisation, however many micro-batches and loss parts), as Python
    floats; floats pass through. float64 on the way, so each value is the one ``.item()`` would give."""
    tensors = [v for v in values if isinstance(v, torch.Tensor)]
    read = iter(torch.stack([t.detach().reshape(()).double() for t in tensors]).to("cpu", copy=True).tolist()
                if tensors else [])
    return [next(read) if isinstance(v, torch.Tensor) else float(v) for v in values]


def accumulate_gradients(
    student: StudentEncoder, loss_fn: TrainingLoss, batch: TrainingBatch, micro: int
) -> tuple[float, dict[str, float]]:
    """Back-propagates the batch loss in micro-batches of `micro` pairs; returns (loss, parts).
    Each micro-batch's loss is weighted by its share of the batch, so the accumulated gradient is the
    full batch's (for the transport and pooled terms, means of per-pair terms; dropout draws differ).
    The losses and parts stay on the device until the end, then are read in one synchronisation
    (:func:`host_values`) and summed on the host in the order of the micro-batches."""
    weighted = []
    for chunk in batch.split(micro):
        loss, chunk_parts = loss_fn(student(chunk.records), chunk)
        (loss * len(chunk) / len(batch)).backward()
        weighted.append((len(chunk), loss, chunk_parts))
    flat = [value for _, loss, parts in weighted for value in (loss, *parts.values())]
    read = iter(host_values(flat))
    total, parts = 0.0, {}
    for size, _, chunk_parts in weighted:
        total += next(read) * size / len(batch)
        for name in chunk_parts:
            parts[name] = parts.get(name, 0.0) + next(read) * size / len(batch)
    return total, parts


def warmed_up_lr(lr: float, warmup_steps: int, update: int) -> float:
    """The learning rate of update `update` (1, 2, …): lr · min(1, update / warmup_steps), linear
    warm-up then constant (``train.warmup_steps``; 0: `lr` throughout). A function of the update's
    number alone, so a resumed run continues the same schedule."""
    return lr if warmup_steps == 0 else lr * min(1.0, update / warmup_steps)


class MicroBatchError(ValueError):
    """A run asked to split a batch whose loss reads the whole batch (:func:`check_micro_batch`)."""


def check_micro_batch(loss: TrainingLoss, batch_size: int, micro_batch_size: int | None) -> int:
    """The micro-batch a run accumulates its gradient over: `micro_batch_size` (None: the whole batch),
    at most the batch. Accumulation keeps the effective batch of a loss that is a mean of per-pair terms;
    a loss whose pairs read each other (in-batch negatives) would change — each query would see only
    its micro-batch's passages as negatives — so it is refused, with the setting to lower."""
    micro = max(1, min(micro_batch_size or batch_size, batch_size))
    if micro < batch_size and loss.in_batch_negatives:
        raise MicroBatchError(
            f"method '{loss.name}' scores each query against the other {batch_size - 1} passages of its batch: "
            f"splitting the batch of {batch_size} into micro-batches of {micro} (a retry after running out of "
            f"memory) would change its negatives and so its loss. Lower train.batch_size (for every run of the "
            f"study, so that the arms stay comparable) or give the job a larger GPU; nothing was trained.")
    if micro < batch_size:
        print(f"micro-batch {micro} of batch {batch_size}: the gradient is accumulated over "
              f"{math.ceil(batch_size / micro)} micro-batches (the effective batch stays {batch_size})")
    return micro


def run_config(teacher: TeacherSettings, train: TrainSettings, seed: int) -> dict:
    """A run's settings as its log's ``config`` entry records them: the ``train`` section, the teacher's
    pooling and max_length (how the English counterparts are encoded) and the run's seed."""
    return {**asdict(train), "pooling": teacher.pooling, "teacher_max_length": teacher.max_length, "seed": seed}


def run_key(records: list[dict], teacher: TeacherSettings, train: TrainSettings, seed: int, method: str,
            dev: DevSet | None) -> str:
    """The run's checkpoint fingerprint: its records, teacher, settings, method and dev set."""
    digest = hashlib.sha256(fingerprint(records, teacher.model, run_config(teacher, train, seed), method).encode())
    if dev is not None:
        digest.update(json.dumps([dev.qids, dev.docids, sorted(dev.qrels.items())]).encode())
    return digest.hexdigest()


def trained_rows(student: StudentModel) -> int:
    """How many word-embedding rows train: the sampled rows (``train.embedding_rows: sample``), the
    whole vocabulary (``all``), or none (a frozen prefix holds the embeddings)."""
    if student.sampled is not None:
        return student.sampled.rows.shape[0]
    return 0 if student.cached else student.model.get_input_embeddings().weight.shape[0]


class _Training:
    """One run between its phases: the student, its inputs, optimiser, loss, data order, budget and log."""

    def __init__(self, records: list[dict], teacher_settings: TeacherSettings, cfg: TrainSettings, seed: int,
                 method: str, dev: DevSet | None, micro_batch_size: int | None, teacher_states: Path | None = None,
                 shared: JobShared | None = None):
        """Set-up. The order of these calls fixes the RNG draws (the seed is set before the models are
        built): changing it changes every student. `shared`: the job's data shared by its students
        (:class:`swimscale.model.JobShared`; None: the run's own, as a job of one student)."""
        if method not in METHODS:
            raise ValueError(f"unknown method '{method}'; known: {', '.join(METHODS)}")
        if cfg.budget == "converged" and dev is None:
            raise ValueError("train.budget 'converged' selects on a dev set, and none was given")
        setup_start = time.perf_counter()
        self.device, self.cfg, self.records, self.dev = default_device(), cfg, records, dev
        torch.manual_seed(seed)
        tokenizer, teacher_model = encode.load_encoder(teacher_settings.model, self.device)
        self.student = StudentModel(encode.load_encoder(teacher_settings.model, self.device)[1],
                                    cfg.trainable_layers, cfg.freeze_embeddings, cfg.dropout)
        self.loss = METHODS[method].from_config(cfg, transport_kind(records), teacher_settings)
        teacher = TeacherEncoder(tokenizer, teacher_model, teacher_settings, autocast_for(self.device))
        share, unshared = run_share(shared, seed, records, self.loss, cfg.teacher_tokens)
        if cfg.embedding_rows == "sample" and self.student.prefix_depth is None:
            padding = getattr(self.student.model.get_input_embeddings(), "padding_idx", None)
            known = share.queries(tokenizer, cfg.max_length).first_token_ids(len(records)) if share else None
            self.student.sample_rows(sample_ids(tokenizer, [r["query"] for r in records], cfg.max_length, padding,
                                                known))
        self.teacher_tokens, self.teacher = teacher_view(teacher, records, cfg, self.loss, self.device, teacher_states,
                                                         share)
        queries = query_inputs(tokenizer, self.student, [r["_id"] for r in records], [r["query"] for r in records],
                               teacher_settings, cfg,
                               (lambda: share.queries(tokenizer, cfg.max_length)) if share is not None else None)
        settings = state_settings(teacher_settings, cfg, self.student)
        self.dev_inputs = dev.inputs(self.student, tokenizer, settings) if dev is not None else None
        # The fused AdamW: one kernel over all parameters (4.6x faster than the default on our CPU for
        # MiniLM's 22.7M parameters, clip included: 39 ms against 179 ms).
        self.optimiser = torch.optim.AdamW(self.student.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                                           fused=True)
        self.batch_size = min(cfg.batch_size, len(records))
        self.micro = check_micro_batch(self.loss, self.batch_size, micro_batch_size)
        lengths = [queries.length(r["_id"]) for r in records]
        self.stream = BatchStream(len(records), self.batch_size, seed, lengths, cfg.group_by_length)
        self.encoder, compiled = compile_encoder(StudentEncoder(self.student, queries, teacher_settings.pooling,
                                                                autocast_for(self.device)),
                                                 cfg.compile, records[: self.batch_size])
        self.selection = Selection.from_settings(cfg, len(records), self.batch_size, evaluates=dev is not None)
        self.best: dict[str, torch.Tensor] | None = None
        self.done = 0
        self.log = {"config": run_config(teacher_settings, cfg, seed), "method": method,
                    "transport": self.loss.transport, "n_records": len(records), "batch_size": self.batch_size,
                    "micro_batch_size": self.micro, "accumulation_steps": math.ceil(self.batch_size / self.micro),
                    "teacher_tokens": self.teacher_tokens, "compile": compiled, "prefix_depth": self.student.prefix_depth,
                    "trained_parameters": sum(p.numel() for p in self.student.parameters()),
                    "embedding_rows": cfg.embedding_rows, "trained_embedding_rows": trained_rows(self.student),
                    "dev_queries": len(dev.qids) if dev is not None else 0, "loss": [], "parts": [],
                    "resumed_from_step": 0, "setup_seconds": round(time.perf_counter() - setup_start, 3),
                    "step_seconds": 0.0, "dev_seconds": 0.0, "train_seconds": 0.0,
                    **({"job_shared_unused": unshared} if unshared is not None else {})}
        self.student.train()

    def resume(self, checkpoints: Checkpoints) -> None:
        """Continues from the run's last checkpoint, if it has one."""
        state = checkpoints.load()
        if state is None:
            return
        self.student.load_trainable_state(state["model"])
        self.optimiser.load_state_dict(state["optimiser"])
        torch.set_rng_state(state["rng"])
        if self.device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"])
        self.stream.load_state(state["stream"])
        self.log = json.loads(state["log"])
        self.selection.load_state(self.log.pop("selection"))
        self.best = state.get("best")
        self.done = self.log["resumed_from_step"] = state["step"]
        print(f"resumed from checkpoint {checkpoints.path} at step {self.done} of at most {self.cfg.max_steps}")

    def step(self) -> float:
        """One optimiser update on the next batch; returns its loss."""
        start = time.perf_counter()
        batch = TrainingBatch([self.records[i] for i in self.stream.next()], self.teacher, self.device)
        self.optimiser.zero_grad(set_to_none=True)
        total, parts = accumulate_gradients(self.encoder, self.loss, batch, self.micro)
        torch.nn.utils.clip_grad_norm_(self.student.parameters(), self.cfg.grad_clip)
        lr = warmed_up_lr(self.cfg.lr, self.cfg.warmup_steps, self.done + 1)
        for group in self.optimiser.param_groups:
            group["lr"] = lr
        self.optimiser.step()
        if self.student.sampled is not None:  # the rows outside the sample: AdamW's decay alone
            self.student.sampled.decayed(lr, self.cfg.weight_decay)
        self.done += 1
        self.log["loss"].append(round(total, 6))
        self.log["parts"].append({name: round(value, 6) for name, value in parts.items()})
        self.log["step_seconds"] += time.perf_counter() - start
        return total

    def evaluate(self) -> float:
        """Dev Recall@50 of the student as it is now; keeps a copy of it when it is the best so far."""
        start = time.perf_counter()
        recall = self.dev.recall(self.student, self.dev_inputs)
        self.student.train()
        if self.selection.record(self.done, recall) and self.cfg.budget == "converged":
            # The best student waits in host memory: device memory holds only the one being trained.
            self.best = {name: p.to("cpu", copy=True) for name, p in self.student.trainable_state().items()}
        self.log["dev_seconds"] += time.perf_counter() - start
        return recall

    def state(self) -> dict:
        """What a checkpoint after the updates done so far holds."""
        cuda = {"cuda_rng": torch.cuda.get_rng_state()} if self.device.type == "cuda" else {}
        best = {"best": self.best} if self.best is not None else {}
        log = {**self.log, "selection": self.selection.state()}
        return {"step": self.done, "model": self.student.trainable_state(), "optimiser": self.optimiser.state_dict(),
                "rng": torch.get_rng_state(), **cuda, **best, "stream": self.stream.state(), "log": json.dumps(log)}

    def finish(self, stopped_by: str) -> tuple[StudentModel, dict]:
        """The kept student (converged: the best on dev; fixed: the last) in eval mode, and the log."""
        if self.cfg.budget == "converged":
            self.student.load_trainable_state(self.best)
        self.student.merge_rows()  # the saved student is a plain model, whatever train.embedding_rows
        self.log.update(self.selection.summary(self.done, stopped_by))
        for key in ("step_seconds", "dev_seconds", "train_seconds"):
            self.log[key] = round(self.log[key], 3)
        self.log["examples_per_second"] = round(self.log["examples_seen"] / max(self.log["step_seconds"], 1e-9), 2)
        self.log["device"] = str(self.device)
        self.student.eval()
        return self.student, self.log


def train_student(
    records: list[dict],
    teacher: TeacherSettings,
    cfg: TrainSettings,
    method: str,
    seed: int,
    *,
    dev: DevSet | None = None,
    checkpoint: Path | None = None,
    checkpoint_every: int,
    checkpoint_minutes: float,
    micro_batch_size: int | None = None,
    teacher_states: Path | None = None,
    shared: JobShared | None = None,
) -> tuple[StudentModel, dict]:
    """Trains the student (initialised from the teacher) on `records` within the budget of `cfg` (the
    ``train`` section); returns the kept student and its log.

    `teacher`: the teacher's model, how it encodes the English counterparts (``max_length``,
    ``pooling``) and the batch of the no-gradient passes (teacher, prefix, dev: ``batch_size``).
    `method` names the loss (:data:`METHODS`); `seed` is the run's (the model's initial draws and the
    data order). `dev`: the language's dev set (required by the ``converged`` budget).
    `checkpoint`/`checkpoint_every` (the config's ``checkpoint_every``): where and every how many
    updates to consider a checkpoint (0: never; a re-run resumes there); `checkpoint_minutes` (the
    config's): one is written only when that long has passed since the start or the last write (0:
    every `checkpoint_every`), in a background thread (:class:`Checkpoints`). `micro_batch_size` splits
    each batch for gradient accumulation (a retry after running out of GPU memory): the transport and
    pooled losses are means of per-pair terms, so the update is the same and the log records the split
    (``micro_batch_size``, ``accumulation_steps``); a loss with in-batch negatives (contrastive) would
    see fewer negatives, so the run stops instead, naming the setting to lower (:func:`check_micro_batch`).
    `teacher_states`: the language's teacher-states file (``train.teacher_tokens`` ``language``, or
    ``auto`` on CUDA within ``train.teacher_cache_gib``: :func:`swimscale.model.teacher_view`).
    `shared`: the training job's data shared by its students, per seed (:class:`swimscale.model.JobShared`:
    the largest sample's tokenised queries and, under ``job``, its teacher states); None: the run's own.
    """
    run = _Training(records, teacher, cfg, seed, method, dev, micro_batch_size, teacher_states, shared)
    checkpoints = Checkpoints(checkpoint, checkpoint_every, run_key(records, teacher, cfg, seed, method, dev),
                              checkpoint_minutes)
    run.resume(checkpoints)
    checkpoints.start()
    try:
        stopped_by = _updates(run, checkpoints, method, cfg)
    finally:
        checkpoints.wait()  # a write under way ends before the job does (or fails)
    return run.finish(stopped_by)


def _updates(run: _Training, checkpoints: Checkpoints, method: str, cfg: TrainSettings) -> str:
    """The update loop: steps, dev evaluations when due, checkpoints when due; returns why it stopped."""
    resumed_at = time.perf_counter()
    seconds_before = run.log["train_seconds"]  # wall time accumulates across resumptions
    if run.done == 0 and run.selection.due(0):
        run.evaluate()  # the untrained student: step 0's candidate
    stopped_by = run.selection.stop(run.done)
    progress = tqdm(desc=f"train {method}", unit="step", mininterval=5, disable=None, initial=run.done,
                    total=run.selection.last_step)
    while stopped_by is None:
        total = run.step()
        progress.update(1)
        if run.selection.due(run.done):
            progress.set_postfix(loss=f"{total:.4f}", dev_recall_at_50=f"{run.evaluate():.4f}")
        stopped_by = run.selection.stop(run.done)
        run.log["train_seconds"] = seconds_before + time.perf_counter() - resumed_at
        if stopped_by is None and checkpoints.due(run.done, run.selection.last_step):
            checkpoints.save(run.state(), background=True)
    progress.close()
    return stopped_by
