"""`swimscale plan`: the study's jobs, updates, FLOPs, GPU-hours, host synchronisations, memory, disk
and start-up overhead, from its config and one device row (swimscale.plan._costs says how)."""

from __future__ import annotations

import statistics

from swimscale.plan._costs import (MDPR, ADAMW_BYTES, COUNTERPART_TOKENS, CUDA_CONTEXT_BYTES, DEV_QUERIES, QUERY_TOKENS,
                                   TEST_QUERIES, collections, dev_passages, forward_flops, parameters, runs, updates)
from swimscale.plan._devices import Device

WIDTH = 768  # mDPR's embedding width


def teacher_mode(config: dict, device: Device) -> str:
    """What ``train.teacher_tokens`` resolves to on the device (auto: on the fly on a GPU)."""
    mode = config["train"]["teacher_tokens"]
    return ("precompute" if device.name.startswith("cpu") else "on_the_fly") if mode == "auto" else mode


def per_update(config: dict, on_the_fly: bool, shape: dict = MDPR) -> tuple[float, float]:
    """(FLOPs, memory traffic in bytes) of one update of a BERT of `shape` (mDPR's: the study's)."""
    batch = config["train"]["batch_size"]
    flops = batch * 3 * forward_flops(QUERY_TOKENS, shape)
    if on_the_fly:
        flops += batch * forward_flops(COUNTERPART_TOKENS, shape)
    return flops, ADAMW_BYTES * sum(parameters(shape))


def stage_totals(config: dict, device: Device) -> dict:
    """FLOPs, bytes and counts per stage, summed over the runs, for each bound of the budget."""
    on_the_fly = teacher_mode(config, device) == "on_the_fly"
    update_flops, update_bytes = per_update(config, on_the_fly)
    train, every = config["train"], config["train"]["eval_every"]
    out = {bound: {"updates": 0, "dev_evaluations": 0, "train_flops": 0.0, "train_bytes": 0.0, "dev_flops": 0.0,
                   "teacher_flops": 0.0} for bound in ("least", "expected", "cap")}
    job_updates = []
    for run in runs(config):
        counts = updates(train, run.n)
        job_updates.append(counts["expected"])
        dev = DEV_QUERIES * (forward_flops(QUERY_TOKENS) + 2 * WIDTH * dev_passages(config, run.code))
        for bound, count in counts.items():
            totals = out[bound]
            totals["updates"] += count
            totals["dev_evaluations"] += count // every + 1
            totals["train_flops"] += count * update_flops
            totals["train_bytes"] += count * update_bytes
            totals["dev_flops"] += (count // every + 1) * dev
            totals["teacher_flops"] += 0.0 if on_the_fly else run.n * forward_flops(COUNTERPART_TOKENS)
    return {"bounds": out, "update_flops": update_flops, "update_bytes": update_bytes, "job_updates": job_updates,
            "teacher": "on the fly" if on_the_fly else "precomputed once per run"}


def gpu_hours(config: dict, device: Device) -> dict:
    """Hours per bound: updates, dev, teacher precompute, corpus encoding, start-up overhead."""
    totals = stage_totals(config, device)
    jobs = len(totals["job_updates"])
    passages = sum(collections(config).values())
    encode_flops = passages * forward_flops(COUNTERPART_TOKENS)
    hours = {}
    for bound, t in totals["bounds"].items():
        work = (device.seconds(t["train_flops"], t["train_bytes"]) + device.seconds(t["dev_flops"], 0)
                + device.seconds(t["teacher_flops"], 0) + device.seconds(encode_flops, 0))
        hours[bound] = {"compute": work / 3600, "overhead": jobs * device.overhead_s / 3600,
                        "total": (work + jobs * device.overhead_s) / 3600}
    update_s = device.seconds(totals["update_flops"], totals["update_bytes"])
    typical = statistics.median(totals["job_updates"]) * update_s
    return {**totals, "hours": hours, "update_ms": 1000 * update_s, "encode_flops": encode_flops,
            "passages": passages, "typical_job_s": typical,
            "overhead_share": device.overhead_s / (device.overhead_s + typical)}


def peak_memory(config: dict, device: Device) -> float:
    """Bytes of device memory of the largest train job: fp32 student, its gradients and AdamW moments
    (16 B per parameter), the teacher (fp32, 4 B), the dev collection's embeddings (fp32), the
    activations of a batch (stored for the backward: ~34·L·h bytes per token and layer in bf16, by the
    usual transformer estimate) and the CUDA context (assumed)."""
    params = sum(parameters())
    batch = config["train"]["batch_size"]
    dev = max(dev_passages(config, code) for code in config["languages"]) * WIDTH * 4
    activations = batch * QUERY_TOKENS * 12 * 34 * WIDTH + batch * COUNTERPART_TOKENS * 4 * 3072 * 2
    return 20 * params + dev + activations + CUDA_CONTEXT_BYTES


def checkpoint_writes(config: dict, hours: dict) -> int:
    """Checkpoint writes of the study, expected: a job writes one every ``checkpoint_minutes`` of its
    updates' time (none when shorter), or every ``checkpoint_every`` updates when the interval is 0."""
    every, minutes = config.get("checkpoint_every") or 0, config.get("checkpoint_minutes") or 0
    if not every:
        return 0
    if not minutes:
        return sum(n // every for n in hours["job_updates"])
    return sum(int(n * hours["update_ms"] / 1000 // (60 * minutes)) for n in hours["job_updates"])


def plan(config: dict, device: Device) -> dict:
    """Everything `swimscale plan` prints."""
    result = gpu_hours(config, device)
    params = sum(parameters())
    result.update({
        "device": device, "jobs": len(result["job_updates"]), "collections": len(collections(config)),
        "peak_memory": peak_memory(config, device),
        # trained parameters, AdamW's two moments (fp32) and the best student
        "checkpoint_bytes": 16 * params, "student_bytes": 4 * params,
        "checkpoint_every": config.get("checkpoint_every") or 0,
        "checkpoint_minutes": config.get("checkpoint_minutes") or 0,
        "checkpoint_writes": checkpoint_writes(config, result),
        "test_searches": sum(1 for b in config["benchmarks"].values() if b.get("role", "test") == "test")
        * TEST_QUERIES,
        # per update: the one read of the loss and its parts, and transformers' padding check once per
        # model forward in eager mode (the student; the teacher too when it runs on the fly)
        "syncs_per_update": 2 + (result["teacher"] == "on the fly"),
    })
    return result
