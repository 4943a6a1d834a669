"""The student query encoder: its forward pass over a batch of queries during training, and its weights
on disk. The student has the teacher's architecture and tokenizer and starts from the teacher's weights.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from swimscale.model import _encode as encode
from swimscale.model.losses import StudentOutputs


def autocast_for(dev: torch.device) -> Callable[[], contextlib.AbstractContextManager]:
    """bf16 autocast on CUDA only: on CPU it changes results and the demo's budget fits without it."""
    if dev.type == "cuda":
        return lambda: torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext


@dataclass(frozen=True)
class StudentEncoder:
    """The student's forward pass: queries → :class:`StudentOutputs` (token states in float32, the
    transport mask, the sentence embedding with the teacher's pooling)."""

    tokenizer: object
    model: torch.nn.Module
    max_length: int
    pooling: str
    device: torch.device | str
    autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext

    def __call__(self, records: list[dict]) -> StudentOutputs:
        enc = encode.tokenize_for_transport(self.tokenizer, [r["query"] for r in records], self.max_length,
                                            self.device)
        with self.autocast():
            hidden = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        hidden = hidden.float()
        pooled = encode.pool(hidden, enc["attention_mask"], self.pooling)
        return StudentOutputs(tokens=hidden, transport_mask=enc["transport_mask"], pooled=pooled)


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
