"""A GPU job uses its GPU or stops with the reason (no CUDA in the build, no device and the driver's
version, a compute capability the build lacks); ``allow_cpu: true`` runs it on CPU on purpose."""

from __future__ import annotations

import warnings

import pytest
import torch

from swimscale.model import DeviceError, cuda_problem, require_device
from swimscale.model import _device


def test_arch_list_against_compute_capability():
    built = ["sm_75", "sm_80", "sm_86", "sm_90"]
    assert _device.arch_supported((8, 0), built)
    assert _device.arch_supported((8, 9), built)  # sm_86 binaries run on 8.9 (same major)
    assert not _device.arch_supported((6, 0), built)  # a P100 on a build from sm_75 up
    assert not _device.arch_supported((7, 0), built)  # a V100
    assert not _device.arch_supported((10, 0), built)  # a newer major without PTX
    assert _device.arch_supported((10, 0), [*built, "compute_90"])  # PTX is compiled for newer devices
    assert not _device.arch_supported((8, 6), ["sm_90", "compute_90"])


def test_driver_version_from_proc():
    proprietary = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n"
    open_module = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.65.06  Release Build\n"
    assert _device.proc_driver_version(proprietary) == "535.104.05"
    assert _device.proc_driver_version(open_module) == "580.65.06"
    assert _device.proc_driver_version("nothing here") is None


@pytest.fixture
def cuda_build(monkeypatch):
    """This process's torch, made to look like a CUDA 13 build; returns a function that sets what the
    device side reports."""
    monkeypatch.setattr(torch.version, "cuda", "13.0")

    def reports(available, capability=(9, 0), arch_list=("sm_75", "sm_80", "sm_90", "sm_100", "sm_120"),
                warning=None, driver=None):
        def is_available():
            if warning:
                warnings.warn(warning, UserWarning)
            return available

        monkeypatch.setattr(torch.cuda, "is_available", is_available)
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: capability)
        monkeypatch.setattr(torch.cuda, "get_arch_list", lambda: list(arch_list))
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Tesla P100-PCIE-16GB")
        monkeypatch.setattr(_device, "driver_version", lambda: driver)

    return reports


def test_an_old_driver_stops_the_job_naming_cuda_and_the_driver(cuda_build):
    cuda_build(False, driver="535.104.05",
               warning="CUDA initialization: The NVIDIA driver on your system is too old (found version 12020).")
    with pytest.raises(DeviceError) as stopped:
        require_device(allow_cpu=False)
    message = str(stopped.value)
    for part in ("needs a CUDA GPU", "torch.cuda.is_available() is False", "CUDA 13.0", "driver: 535.104.05",
                 "CUDA 13 needs driver >= 580", "too old (found version 12020)", "allow_cpu: true"):
        assert part in message, (part, message)
    assert require_device(allow_cpu=True) == torch.device("cpu")


def test_a_compute_capability_the_build_lacks_stops_the_job(cuda_build):
    cuda_build(True, capability=(6, 0))
    with pytest.raises(DeviceError, match=r"Tesla P100.*compute capability 6\.0, too old for torch .* sm_75"):
        require_device(allow_cpu=False)
    assert _device.device() == torch.device("cpu")  # a device without kernels is not used either


def test_a_usable_device_is_used(cuda_build):
    cuda_build(True, capability=(9, 0))
    assert cuda_problem() is None
    assert require_device(allow_cpu=False) == torch.device("cuda")


def test_a_build_without_cuda_stops_gpu_jobs_only(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", None)
    with pytest.raises(DeviceError, match="needs a CUDA GPU .* this torch build has no CUDA"):
        require_device(allow_cpu=False)
    assert require_device(allow_cpu=True) == torch.device("cpu")
    assert require_device(allow_cpu=False, gpus=0) == torch.device("cpu")  # a CPU job is not a GPU job


@pytest.mark.parametrize("rule", ["encode_corpus", "train"])
def test_a_gpu_job_without_cuda_stops_with_the_reason(rule, tmp_path, snakemake):
    """The workflow on this CPU machine (no device visible on any machine: CUDA_VISIBLE_DEVICES=""):
    the tiny config with allow_cpu false stops the GPU rule's job, naming CUDA and allow_cpu. For
    `train`, its inputs (the dev collection's encoding, itself a GPU job) are made first with allow_cpu."""
    if rule == "train":
        ready = snakemake(tmp_path, "--until", "encode_corpus", "--config", "allow_cpu=True", timeout=900)
        assert ready.returncode == 0, ready.output[-3000:]
    result = snakemake(tmp_path, "--until", rule, "--config", "allow_cpu=False", env={"CUDA_VISIBLE_DEVICES": ""},
                       timeout=900)
    assert result.returncode != 0
    assert "DeviceError: this job needs a CUDA GPU (its rule declares gpu=1)" in result.output, result.output[-3000:]
    assert "set `allow_cpu: true`" in result.output
    stage = {"encode_corpus": "encode", "train": "train"}[rule]
    assert not list(tmp_path.glob(f"results/{stage}/**/*.npy")) + list(tmp_path.glob(f"results/{stage}/**/*.safetensors"))
