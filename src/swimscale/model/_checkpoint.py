"""Checkpoints of a training run: written every K steps, atomically, and used only by the same run.

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
import warnings
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Checkpoints:
    """Where a run checkpoints (None: nowhere), every how many steps (0: never), and its fingerprint."""

    path: Path | None
    every: int
    key: str

    def due(self, done: int, total: int) -> bool:
        """After `done` of `total` steps; never after the last one (the student itself is saved then)."""
        return self.path is not None and bool(self.every) and done % self.every == 0 and done < total

    @property
    def partial(self) -> Path:
        """Where a checkpoint is written before it is renamed into place."""
        return partial_path(self.path)

    @property
    def bad(self) -> Path:
        """Where an unreadable checkpoint is moved aside."""
        return self.path.with_name(self.path.name + ".bad")

    def save(self, state: dict) -> None:
        """Atomic (:func:`swimscale.formats.atomic_path`): a job killed while writing leaves the previous
        checkpoint intact (and a partial file that the next start removes)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path) as partial:
            torch.save({"fingerprint": self.key, **state}, partial)

    def load(self) -> dict | None:
        """The run's last checkpoint; None when there is none, it belongs to another run, or it cannot
        be read (then it is moved aside as ``.bad``, with a warning). Removes a partial file left by a
        killed job first."""
        if self.path is None:
            return None
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
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.partial.unlink(missing_ok=True)
