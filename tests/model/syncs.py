"""Counting host synchronisations with a TorchDispatchMode: every ``aten._local_scalar_dense`` (what
``.item()``, ``float()``, ``int()`` and ``bool()`` of a tensor call) and every copy to the CPU that names
the CPU as its destination (``.cpu()``, ``.to("cpu")`` of a device tensor; on a CPU-only machine the
explicit ``.to("cpu", copy=True)`` reads of the training loop). Machine-independent: the same count on
CPU as on a GPU for the same code path."""

from __future__ import annotations

import traceback

import torch
from torch.utils._python_dispatch import TorchDispatchMode


def _origin() -> str:
    """'transformers' when the read is transformers' own (its attention-mask helpers test whether any
    token is padded, once per model forward, unless traced by torch.compile), else 'ours'."""
    return "transformers" if any("transformers" in f.filename for f in traceback.extract_stack()) else "ours"


class HostSyncs(TorchDispatchMode):
    """``with HostSyncs() as syncs: ...`` then ``syncs.count`` and ``syncs.calls`` (their op names)."""

    def __init__(self):
        super().__init__()
        self.calls: list[str] = []
        self.origins: list[str] = []

    @property
    def count(self) -> int:
        return len(self.calls)

    @property
    def ours(self) -> int:
        """The reads made by swimscale's code (not by transformers' mask helpers)."""
        return self.origins.count("ours")

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.ops.aten._local_scalar_dense.default:
            self.calls.append("_local_scalar_dense")
            self.origins.append(_origin())
        elif func in (torch.ops.aten._to_copy.default, torch.ops.aten.copy_.default):
            source = args[1] if func is torch.ops.aten.copy_.default else args[0]
            destination = args[0].device if func is torch.ops.aten.copy_.default else kwargs.get("device")
            same_dtype = kwargs.get("dtype") in (None, source.dtype)
            if destination is not None and torch.device(destination).type == "cpu" and (
                    source.device.type != "cpu" or (func is torch.ops.aten._to_copy.default and same_dtype)):
                self.calls.append(f"{func.__name__} {source.device}->cpu")
                self.origins.append(_origin())
        return func(*args, **kwargs)
