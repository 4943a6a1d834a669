"""Checkpoints of a training run: considered every K steps, written (atomically, in a background thread)
when at least `minutes` of wall clock have passed since the run started or last wrote one, and used only
by the same run. A run shorter than the interval writes none (the finished student supersedes a
checkpoint anyway); with minutes = 0 every K steps writes one.

Light on the accelerator: the state is copied to host memory in the training thread (that copy is the
only wait), then serialised and renamed into place by a writer thread while training goes on; the next
write, and the end of the run, wait for the previous one (:meth:`Checkpoints.wait`).

A checkpoint holds the model, the optimiser, the RNG and the data-order state and the log so far
(see ``_Training.state``), plus the run's fingerprint; a re-run resumes from it and ends with the
same student as an uninterrupted run (bit-identical on CPU).

A checkpoint that cannot be read (cut short, corrupt, or a pickle that ``weights_only`` loading refuses)
is moved aside as ``<name>.bad`` with a warning naming it, and the run starts over: a retry must not
fail on the same file again. A job killed while writing leaves only ``<name>.partial``, which the next
start removes.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from swimscale.formats import atomic_path, partial_path

def fingerprint(records: list[dict], teacher_spec: str, run_config: dict, method: str) -> str:
    """Identifies a run: a checkpoint of another run (other data, settings or method) is never used.
    `run_config`: the run's settings as its log records them (``swimscale.model._train.run_config``)."""
    digest = hashlib.sha256(json.dumps([teacher_spec, method, run_config], sort_keys=True).encode())
    for record in records:
        digest.update(record["_id"].encode() + b"\0")
    return digest.hexdigest()


def unreadable_reason(err: Exception) -> str:
    """Why a checkpoint could not be loaded, in one line. Never torch's advice to load with
    ``weights_only=False``: a file that needs it is not ours, and unpickling it could run code."""
    if isinstance(err, pickle.UnpicklingError) and "weights only" in str(err).lower():
        return "it holds pickled Python objects, which are never loaded, not only tensors and plain data"
    first = str(err).strip().split(". ")[0].splitlines()
    return f"{type(err).__name__}: {first[0]}" if first else type(err).__name__


def to_host(state):
    """A deep copy of a checkpoint state with every tensor in host memory (what the writer thread may
    serialise while training changes the live tensors)."""
    if isinstance(state, torch.Tensor):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {key: to_host(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(to_host(value) for value in state)
    return state


@dataclass
class Checkpoints:
    """Where a run checkpoints (None: nowhere), every how many steps it considers one (0: never), its
    fingerprint, and the minutes of wall clock between writes (0: every considered step)."""

    path: Path | None
    every: int
    key: str
    minutes: float = 0.0
    clock: object = time.monotonic
    writes: int = 0
    _last: float | None = field(default=None, repr=False)
    _writer: threading.Thread | None = field(default=None, repr=False)
    _error: BaseException | None = field(default=None, repr=False)

    def start(self) -> None:
        """The run starts (or resumes) now: the interval counts from here."""
        self._last = self.clock()

    def due(self, done: int, total: int) -> bool:
        """After `done` of `total` steps: a multiple of `every`, never the last step (the student itself is
        saved then), and at least `minutes` since the start or the last write."""
        if not (self.path is not None and self.every and done % self.every == 0 and done < total):
            return False
        if self._last is None:
            self.start()
        return self.clock() - self._last >= 60.0 * self.minutes

    @property
    def partial(self) -> Path:
        """Where a checkpoint is written before it is renamed into place."""
        return partial_path(self.path)

    @property
    def bad(self) -> Path:
        """Where an unreadable checkpoint is moved aside."""
        return self.path.with_name(self.path.name + ".bad")

    def save(self, state: dict, background: bool = False) -> None:
        """Atomic (:func:`swimscale.formats.atomic_path`): a job killed while writing leaves the previous
        checkpoint intact (and a partial file that the next start removes). The state is copied to the
        host here; the file is written here, or with `background` (the training loop) by a writer thread; either way
        after the previous write ended."""
        self.wait()
        host = {"fingerprint": self.key, **to_host(state)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.writes += 1
        self._last = self.clock()
        if not background:
            self._write(host)
            return
        self._writer = threading.Thread(target=self._write, args=(host,), name="checkpoint-writer", daemon=False)
        self._writer.start()

    def _write(self, host: dict) -> None:
        try:
            with atomic_path(self.path) as partial:
                torch.save(host, partial)
        except BaseException as err:  # noqa: BLE001 - re-raised in the training thread by wait()
            self._error = err

    def wait(self) -> None:
        """Until the last write ended; raises what it raised."""
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def load(self) -> dict | None:
        """The run's last checkpoint; None when there is none, it belongs to another run, or it cannot
        be read (then it is moved aside as ``.bad``, with a warning). Removes a partial file left by a
        killed job first."""
        if self.path is None:
            return None
        self.wait()
        self.partial.unlink(missing_ok=True)
        if not self.path.exists():
            return None
        try:
            # weights_only: our own file, but never unpickle arbitrary objects.
            state = torch.load(self.path, map_location="cpu", weights_only=True)
            if not isinstance(state, dict):
                raise ValueError(f"holds a {type(state).__name__}, not a checkpoint")
        except Exception as err:  # noqa: BLE001 - any unreadable file is set aside the same way
            os.replace(self.path, self.bad)
            warnings.warn(f"checkpoint {self.path} cannot be read ({unreadable_reason(err)}); moved it aside "
                          f"to {self.bad} and training starts over", stacklevel=2)
            return None
        return state if state.get("fingerprint") == self.key else None

    def discard(self) -> None:
        """Removes the checkpoint and any partial file (once the finished student supersedes them)."""
        self.wait()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.partial.unlink(missing_ok=True)
