"""A teacher-states file of a small pool (the bundled MiniLM teacher on the Bible pairs), with its
sidecar, as the teacher_states rule writes it."""

from __future__ import annotations

from pathlib import Path

import torch

from swimscale.formats import write_sidecar
from swimscale.model import TeacherEncoder, load_encoder, write_teacher_states


def write_states(path: Path, teacher, pool: list[dict]) -> Path:
    """Writes the states of `pool` (in its order) under the settings `teacher`, and the sidecar."""
    tokenizer, model = load_encoder(teacher.model, torch.device("cpu"))
    write_teacher_states(path, TeacherEncoder(tokenizer, model, teacher), pool)
    write_sidecar(path)
    return path
