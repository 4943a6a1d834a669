"""The device table (devices.tsv beside this module): one row per device kind, the figures the plan's
time model reads, each with its source. ``perf/gpu_check.py`` appends a measured row
(``h100-measured`` …) when it runs on a GPU; the plan then offers it as a device too."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DEVICES_TSV = Path(__file__).with_name("devices.tsv")


@dataclass(frozen=True)
class Device:
    """Peak dense bf16 FLOP/s, memory bandwidth (bytes/s) and size, the sustained share of both
    (`efficiency`), a train job's start-up seconds, and where the figures come from."""

    name: str
    peak_flops: float
    bandwidth: float
    memory_bytes: float
    efficiency: float
    overhead_s: float
    source: str

    def seconds(self, flops: float, memory_traffic: float) -> float:
        """Time of work of `flops` FLOPs and `memory_traffic` bytes at the sustained rates (added: the
        small kernels of an update do not overlap compute and memory well)."""
        return flops / (self.peak_flops * self.efficiency) + memory_traffic / (self.bandwidth * self.efficiency)


def read_devices(path: Path = DEVICES_TSV) -> dict[str, Device]:
    """{name: Device} from the table (lines starting with # are its documentation)."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    devices = {}
    for row in csv.DictReader(lines, delimiter="\t"):
        devices[row["device"]] = Device(row["device"], float(row["peak_bf16_tflops"]) * 1e12,
                                        float(row["memory_gbps"]) * 1e9, float(row["memory_gib"]) * 2**30,
                                        float(row["efficiency"]), float(row["overhead_s"]), row["source"])
    return devices


def write_measured_row(name: str, base: Device, efficiency: float, overhead_s: float, source: str,
                       path: Path = DEVICES_TSV) -> None:
    """Adds (or replaces) the row `name`: `base`'s peaks with a measured efficiency and overhead."""
    kept = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith(f"{name}\t")]
    row = [name, f"{base.peak_flops / 1e12:g}", f"{base.bandwidth / 1e9:g}", f"{base.memory_bytes / 2**30:g}",
           f"{efficiency:.4f}", f"{overhead_s:.1f}", source]
    path.write_text("\n".join([*kept, "\t".join(row)]) + "\n", encoding="utf-8")
