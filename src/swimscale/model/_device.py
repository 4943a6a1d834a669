"""Which device a job runs on, and why a GPU job refuses to run without its GPU.

A rule that declares ``gpu=1`` (training, corpus encoding) calls :func:`require_device` first: without a
usable CUDA device it stops and says why — a torch build without CUDA, no visible device (often an
NVIDIA driver older than the build's CUDA needs), or a device whose compute capability this torch build
has no kernels for — instead of running for hours on the GPU node's CPU. The config key ``allow_cpu``
(default false; the CPU demo sets it) is the explicit way to run those jobs on CPU.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings

import torch

# The oldest NVIDIA driver each CUDA major version runs on (NVIDIA's CUDA compatibility tables:
# 12.x minor-version compatibility from 525.60.13; 13.x from 580).
MIN_DRIVER = {12: "525.60.13", 13: "580"}


class DeviceError(RuntimeError):
    """A GPU job without a usable GPU; the message says what is wrong and the two ways out."""


def proc_driver_version(text: str) -> str | None:
    """The version in /proc/driver/nvidia/version's text (proprietary or open kernel module)."""
    found = re.search(r"Kernel Module\s+(?:for\s+\S+\s+)?([0-9]+\.[0-9.]+)", text)
    return found.group(1) if found else None


def driver_version() -> str | None:
    """The NVIDIA kernel driver's version, from /proc or nvidia-smi; None when there is none."""
    try:
        with open("/proc/driver/nvidia/version", encoding="utf-8") as handle:
            found = proc_driver_version(handle.read())
        if found:
            return found
    except OSError:
        pass
    if shutil.which("nvidia-smi"):
        try:
            result = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                    capture_output=True, text=True, timeout=30)
            return result.stdout.split()[0] if result.returncode == 0 and result.stdout.split() else None
        except (OSError, subprocess.SubprocessError):
            return None
    return None


def arch_supported(capability: tuple[int, int], arch_list: list[str]) -> bool:
    """Whether a torch build compiled for `arch_list` (``torch.cuda.get_arch_list()``: ``sm_XY``
    binaries, ``compute_XY`` PTX) runs on a device of compute capability `capability`: an ``sm_XY``
    binary runs on X.Z for Z ≥ Y (same major), PTX of ``compute_XY`` is compiled for any X.Y or newer."""
    for arch in arch_list:
        kind, _, digits = arch.partition("_")
        if not digits[:-1].isdigit() or not digits[-1].isdigit():
            continue
        built = (int(digits[:-1]), int(digits[-1]))
        if kind == "sm" and built[0] == capability[0] and built[1] <= capability[1]:
            return True
        if kind == "compute" and built <= capability:
            return True
    return False


def _build() -> str:
    return f"torch {torch.__version__} (CUDA {torch.version.cuda or 'none'})"


def _no_device_reason(said: list[str]) -> str:
    driver = driver_version()
    major = int(torch.version.cuda.split(".")[0])
    needs = f"; CUDA {major} needs driver >= {MIN_DRIVER[major]}" if major in MIN_DRIVER else ""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    parts = [f"no CUDA device is usable: torch.cuda.is_available() is False for {_build()}",
             f"NVIDIA driver: {driver or 'none found'}{needs}"]
    if visible is not None:
        parts.append(f"CUDA_VISIBLE_DEVICES={visible!r}")
    parts += [f"torch said: {text}" for text in said]
    return "; ".join(parts)


def cuda_problem() -> str | None:
    """Why CUDA cannot be used here (None when device 0 can): the build has no CUDA, no device is
    visible (with the driver's version), or its compute capability is not in the build's arch list."""
    if not torch.version.cuda:
        return f"this torch build has no CUDA: {_build()}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        available = torch.cuda.is_available()
    if not available:
        return _no_device_reason([" ".join(str(w.message).split()) for w in caught])
    capability, arch_list = torch.cuda.get_device_capability(0), torch.cuda.get_arch_list()
    if not arch_supported(capability, arch_list):
        return (f"CUDA device 0 ({torch.cuda.get_device_name(0)}) has compute capability "
                f"{capability[0]}.{capability[1]}, too old for {_build()}, built for {' '.join(arch_list)}")
    return None


def device() -> torch.device:
    """CUDA when it is usable (see :func:`cuda_problem`), else the CPU."""
    return torch.device("cpu" if cuda_problem() else "cuda")


def require_device(allow_cpu: bool, gpus: int = 1) -> torch.device:
    """The device of a job: `gpus` is what its rule declares (``snakemake.resources.get("gpu", 0)``).
    A GPU job (``gpus >= 1``) gets CUDA, or the CPU only when the config says ``allow_cpu: true``;
    otherwise it raises :class:`DeviceError` naming the reason. A job without a GPU gets :func:`device`."""
    if not gpus:
        return device()
    problem = cuda_problem()
    if problem is None:
        return torch.device("cuda")
    if allow_cpu:
        print(f"allow_cpu: true, running on CPU ({problem})")
        return torch.device("cpu")
    raise DeviceError(
        f"this job needs a CUDA GPU (its rule declares gpu={gpus}), but {problem}. Fix the driver or the "
        "torch build (its CUDA must suit the node's driver and GPU), or set `allow_cpu: true` in the config "
        "to run it on CPU on purpose (slow)."
    )
