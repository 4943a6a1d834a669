"""Dev selection: the dev Recall@50 of a student during training (:class:`DevSet`) and the budget
rule that decides when to evaluate, which student to keep and when to stop (:class:`Selection`).

The document side is the frozen teacher's, so a dev collection is encoded once (by the encode stage)
and a dev evaluation is the student's query encoding plus one exact inner-product search; Recall@50
is :func:`swimscale.retrieval.recall_at_k` (trec_eval's ``recall_50``), averaged over the judged dev
queries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import torch

from swimscale.config import TeacherSettings, TrainSettings
from swimscale.model._devsearch import DeviceIndex
from swimscale.model._queries import QueryStates, TextQueries, encode_queries
from swimscale.model._student import StudentModel
from swimscale.retrieval import recall_at_k

DEV_CUTOFF = 50  # the study's metric: Recall@50


@dataclass
class DevSet:
    """A dev benchmark as a training run reads it: its queries (texts; and their cached prefix states
    for a student with a frozen prefix), the teacher's embeddings of its collection (rows in `docids`
    order, L2-normalised when ``teacher.normalize``), its judgements, and the teacher's settings, with
    which the queries are encoded as the collection was (batch size, pooling, normalisation)."""

    queries: dict[str, str]
    corpus: np.ndarray
    docids: list[str]
    qrels: dict[str, dict[str, int]]
    teacher: TeacherSettings
    states: QueryStates | None = None

    def __post_init__(self):
        if self.corpus.shape[0] != len(self.docids):
            raise ValueError(f"dev collection: {self.corpus.shape[0]} embeddings but {len(self.docids)} docids")
        self.qids = sorted(self.queries)
        self._index: DeviceIndex | None = None  # the collection on the student's device, moved there once

    def inputs(self, student: StudentModel, tokenizer, settings: dict) -> TextQueries | QueryStates:
        """How `student` reads the dev queries: their cached prefix states (checked against the
        student's `settings`, :func:`swimscale.model.state_settings`), or token ids."""
        if student.cached:
            if self.states is None:
                raise ValueError("a student with a frozen prefix reads the dev queries' cached states; none given")
            self.states.check(settings)
            return self.states
        return TextQueries(tokenizer, settings["max_length"], self.queries)

    def recall(self, student: StudentModel, inputs: TextQueries | QueryStates) -> float:
        """Mean Recall@50 of `student` over the judged dev queries (exact inner-product search)."""
        device = _device_of(student)
        if self._index is None or self._index.device != device:
            self._index = DeviceIndex(self.corpus, device)
        embeddings = torch.from_numpy(encode_queries(student, inputs, self.qids, self.teacher))
        scores, rows = (t.cpu() for t in self._index.search(embeddings, DEV_CUTOFF))  # one read per evaluation
        run = {qid: {self.docids[r]: s for r, s in zip(row.tolist(), score.tolist())}
               for qid, row, score in zip(self.qids, rows, scores)}
        per_query = recall_at_k(run, self.qrels, DEV_CUTOFF)
        if not per_query:
            raise ValueError("the dev qrels judge no query relevant to anything")
        return sum(per_query.values()) / len(per_query)


def updates_for(passes: float, n_records: int, batch_size: int) -> int:
    """The updates of batch `batch_size` that `passes` passes over `n_records` records take (rounded up)."""
    return math.ceil(Fraction(str(passes)) * n_records / batch_size)


def _device_of(student) -> torch.device:
    """Where the student's parameters are (the CPU for a module without any)."""
    first = next(iter(student.parameters()), None) if hasattr(student, "parameters") else None
    return first.device if first is not None else torch.device("cpu")


@dataclass
class Selection:
    """The budget rule of one run, and its dev curve so far.

    converged: the dev recall is measured at step 0 (the untrained student), at every interval and at
    `max_steps`; the best is kept (a strictly higher recall replaces it, so ties go to fewer updates);
    the run stops once `patience` evaluations in a row brought no new best, not before the floor, or at
    `max_steps` (the ceiling). The interval is `eval_every_passes` passes over the sample when set — an
    evaluation after each update that completes another `eval_every_passes` passes' worth of examples,
    so every N gets the same evaluations per pass (as long as that many passes take at least one
    update) — else `eval_every` updates. The floor is `min_steps` updates and `min_passes` passes,
    whichever is later. fixed: `max_steps` updates, the last student kept; fixed_passes: `passes`
    passes for every N (at most `max_steps` updates), the last student kept; both measure the dev curve
    all the same when there is a dev set (`evaluates`).
    """

    budget: str
    max_steps: int
    min_steps: int
    eval_every: int
    patience: int
    eval_every_passes: float | None
    min_passes: float
    passes: float | None
    n_records: int  # N, the training sample
    batch_size: int  # examples per update (the batch, at most N)
    evaluates: bool
    curve: list[list] = field(default_factory=list)  # [[step, dev recall], ...]
    best_step: int | None = None
    best_recall: float | None = None

    @classmethod
    def from_settings(cls, cfg: TrainSettings, n_records: int, batch_size: int, evaluates: bool) -> Selection:
        """The rule of a run with the ``train`` settings `cfg` on `n_records` records in batches of `batch_size`."""
        return cls(cfg.budget, cfg.max_steps, cfg.min_steps, cfg.eval_every, cfg.patience, cfg.eval_every_passes,
                   cfg.min_passes, cfg.passes, n_records, batch_size, evaluates)

    def passes_after(self, step: int) -> float:
        """Passes over the sample after `step` updates (examples seen / N)."""
        return step * self.batch_size / self.n_records

    @property
    def last_step(self) -> int:
        """The most updates the run can take: `max_steps`, or, for fixed_passes, its passes (capped)."""
        if self.budget == "fixed_passes":
            return min(self.max_steps, updates_for(self.passes, self.n_records, self.batch_size))
        return self.max_steps

    @property
    def floor(self) -> int:
        """converged: no stop on patience before this many updates."""
        return max(self.min_steps, updates_for(self.min_passes, self.n_records, self.batch_size))

    def _intervals(self, step: int) -> int:
        """How many whole evaluation intervals `step` updates complete."""
        if self.eval_every_passes is None:
            return step // self.eval_every
        return math.floor(Fraction(step * self.batch_size, self.n_records) / Fraction(str(self.eval_every_passes)))

    def due(self, step: int) -> bool:
        """Whether the student after `step` updates is evaluated."""
        return self.evaluates and (step == 0 or step == self.last_step
                                   or self._intervals(step) > self._intervals(step - 1))

    def record(self, step: int, recall: float) -> bool:
        """Adds a dev point; True when it is the new best (what a converged run must keep)."""
        self.curve.append([step, round(recall, 6)])
        if self.best_recall is None or recall > self.best_recall:
            self.best_step, self.best_recall = step, recall
            return True
        return False

    def since_best(self) -> list[int]:
        """The steps of the evaluations after the best one."""
        return [step for step, _ in self.curve if self.best_step is not None and step > self.best_step]

    def evaluations_since_best(self) -> int:
        return len(self.since_best())

    def stop(self, step: int) -> str | None:
        """Why the run stops after `step` updates, or None: 'patience' (the patience ran out at or after
        the floor), 'min' (it had run out before the floor, so the run stopped at the floor's first
        evaluation), 'cap' (`max_steps` reached first; also a fixed_passes run whose passes exceed
        it), 'fixed' (the end of a fixed budget). Patience that runs out at the cap itself is
        'patience': the run is not cap-bound."""
        if self.budget == "converged" and step >= self.floor and self.evaluations_since_best() >= self.patience:
            return "min" if self.since_best()[self.patience - 1] < self.floor else "patience"
        if step >= self.last_step:
            if self.budget == "converged" or (self.budget == "fixed_passes" and step < updates_for(
                    self.passes, self.n_records, self.batch_size)):
                return "cap"
            return "fixed"
        return None

    def state(self) -> dict:
        return {"curve": self.curve, "best_step": self.best_step, "best_recall": self.best_recall}

    def load_state(self, state: dict) -> None:
        self.curve, self.best_step, self.best_recall = state["curve"], state["best_step"], state["best_recall"]

    def summary(self, steps: int, stopped_by: str) -> dict:
        """The log entries of the finished run: the budget, where it stopped and why, and what the kept
        student saw (updates, examples, passes over the sample)."""
        converged = self.budget == "converged"
        at_best = self.best_step if converged else steps
        return {
            "budget": self.budget,
            "steps": steps,
            "steps_at_best": at_best,
            "examples_seen": steps * self.batch_size,
            "examples_at_best": None if at_best is None else at_best * self.batch_size,
            "passes": round(self.passes_after(steps), 4),
            "passes_at_best": None if at_best is None else round(self.passes_after(at_best), 4),
            "dev_recall_at_best": round(self.best_recall, 6) if converged and self.curve else None,
            "dev_curve": self.curve,
            "stopped_by": stopped_by,
            # The run reached the cap before its patience ran out: its best may lie beyond the cap.
            "cap_bound": stopped_by == "cap" if converged or self.budget == "fixed_passes" else None,
        }
