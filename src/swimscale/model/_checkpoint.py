"""Checkpoints of a training run: written every K steps, atomically, and used only by the same run.

A checkpoint holds the model, the optimiser, the RNG and the data-order state and the log so far
(see ``_Training.state``), plus the run's fingerprint; a re-run resumes from it and ends with the
same student as an uninterrupted run (bit-identical on CPU).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from swimscale.model._config import TrainConfig


def fingerprint(records: list[dict], teacher_spec: str, cfg: TrainConfig, method: str) -> str:
    """Identifies a run: a checkpoint of another run (other data, settings or method) is never used."""
    digest = hashlib.sha256(json.dumps([teacher_spec, method, asdict(cfg)], sort_keys=True).encode())
    for record in records:
        digest.update(record["_id"].encode() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class Checkpoints:
    """Where a run checkpoints (None: nowhere), every how many steps (0: never), and its fingerprint."""

    path: Path | None
    every: int
    key: str

    def due(self, done: int, total: int) -> bool:
        """After `done` of `total` steps; never after the last one (the student itself is saved then)."""
        return self.path is not None and bool(self.every) and done % self.every == 0 and done < total

    def save(self, state: dict) -> None:
        """Atomic: a job killed while writing leaves the previous checkpoint intact."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        torch.save({"fingerprint": self.key, **state}, partial)
        os.replace(partial, self.path)

    def load(self) -> dict | None:
        """The run's last checkpoint; None when there is none or it belongs to another run."""
        if self.path is None or not self.path.exists():
            return None
        # weights_only: our own file, but never unpickle arbitrary objects.
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        return state if state.get("fingerprint") == self.key else None
