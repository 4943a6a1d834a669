"""``torch.compile`` of the student's forward in a training update (``train.compile``), kept only where
it gives eager's results.

On a GPU an update of 32 short queries is launch-bound: a BERT forward and backward are hundreds of
small kernels. ``torch.compile`` (inductor: fused kernels; CUDA graphs with ``mode="reduce-overhead"``
are not used, since the batches' shapes vary) cuts the launches, and traces away transformers'
padding check, one host read per forward. It is used only when it is safe:

1. the compiled forward is run on the run's first batch, in eval mode (no dropout, so no random draw),
   beside the eager one: the token states must agree to a relative error ‖compiled − eager‖ / ‖eager‖
   of at most ``TOLERANCE`` — float32's ``1e-4`` on the CPU, bf16's ``1e-2`` under the CUDA autocast
   (bf16 keeps ~3 significant digits, and fused kernels round in other places than eager ones);
2. one compiled forward and backward in train mode must run (the backward is compiled lazily, at its
   first call); the RNG state is restored and the gradients dropped afterwards, so the run's draws start
   where they would have.

Any exception in either, or a disagreement, falls back to eager; the reason goes to the job's log and to
the training log's ``compile`` entry. ``auto`` compiles on CUDA only: CPU runs (the demo, the tests)
stay eager and bit-identical to before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools

import torch

from swimscale.model._queries import StudentEncoder

TOLERANCE = {"float32": 1e-4, "bf16": 1e-2}
BACKEND = "inductor"


def _student_forward(student, batch: dict) -> torch.Tensor:
    return student.forward(batch)


@functools.cache
def _compiled(backend: str):
    """One compiled forward per process and backend, the student an argument: the students a job trains
    one after another (``students_per_job``) share its graphs — torch.compile lifts a module's
    parameters into graph inputs, so a student of the same architecture reuses them instead of
    compiling again (tests/model/test_compile.py counts the compiles)."""
    return torch.compile(_student_forward, backend=backend, dynamic=True)


def wants_compile(mode: str, device: torch.device) -> bool:
    """``train.compile`` on this device: ``always``, ``never``, or ``auto`` (CUDA only)."""
    if mode not in ("auto", "always", "never"):
        raise ValueError(f"unknown train.compile {mode!r}; known: auto, always, never")
    return mode == "always" or (mode == "auto" and torch.device(device).type == "cuda")


def _rng_state(device: torch.device) -> tuple:
    return torch.get_rng_state(), torch.cuda.get_rng_state() if device.type == "cuda" else None


def _set_rng_state(state: tuple) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state(state[1])


def _agreement(encoder: StudentEncoder, compiled: StudentEncoder, records: list[dict]) -> str | None:
    """None when the compiled forward gives eager's token states (eval mode), else the difference."""
    encoder.student.eval()
    try:
        with torch.no_grad():
            eager, fast = encoder(records).tokens, compiled(records).tokens
    finally:
        encoder.student.train()
    tolerance = TOLERANCE["float32" if encoder.autocast is contextlib.nullcontext else "bf16"]
    error = ((fast - eager).norm() / eager.norm().clamp_min(1e-30)).item()  # set-up only: one read
    if error <= tolerance:
        return None
    return f"compiled token states differ from eager by {error:.3g} (relative), over {tolerance:g}"


def compile_encoder(encoder: StudentEncoder, mode: str, records: list[dict]) -> tuple[StudentEncoder, str]:
    """(the encoder an update uses, what the log says of it): compiled with :data:`BACKEND` when `mode`
    wants it on the student's device and the checks of the module docstring pass on `records` (the
    first batch), else `encoder` itself with the reason."""
    device, backend = encoder.student.device, BACKEND
    if not wants_compile(mode, device):
        return encoder, f"eager (train.compile {mode} on {device.type})"
    compiled = dataclasses.replace(encoder, forward=functools.partial(_compiled(backend), encoder.student))
    state = _rng_state(device)
    try:
        problem = _agreement(encoder, compiled, records)
        if problem is None:
            compiled(records).tokens.float().sum().backward()
    except Exception as error:  # any failure of the compiler or of the compiled graph: eager instead
        problem = f"compile failed: {type(error).__name__}: {' '.join(str(error).split())[:300]}"
    finally:
        _set_rng_state(state)
        for parameter in encoder.student.parameters():
            parameter.grad = None
    if problem is not None:
        print(f"train.compile {mode}: running eager: {problem}")
        return encoder, f"eager ({problem})"
    print(f"train.compile {mode}: the student's forward is compiled ({backend}), equal to eager within "
          f"the tolerance of its precision")
    return compiled, f"compiled ({backend})"
