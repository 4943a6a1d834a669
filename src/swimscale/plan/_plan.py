"""`swimscale plan`: the study's jobs, updates, FLOPs, GPU-hours, host synchronisations, memory and disk
and start-up overhead, from its config and one device row (swimscale.plan._costs says how)."""

from __future__ import annotations

import statistics
from collections import defaultdict

from swimscale.plan._costs import (MDPR, ADAMW_BYTES, COMPILE_S, COUNTERPART_TOKENS, CUDA_CONTEXT_BYTES,
                                   DATA_S_PER_RECORD, DEV_QUERIES, HOST_COPY_BPS, QUERY_TOKENS, TEST_QUERIES,
                                   collections, dev_passages, evaluations, forward_flops, job_key, parameters,
                                   pool_pairs, run_state_bytes, runs, state_bytes, teacher_mode, trained_parameters,
                                   updates)
from swimscale.plan._devices import Device

WIDTH = 768  # mDPR's embedding width
BOUNDS = ("least", "expected", "cap")


def is_gpu(device: Device) -> bool:
    return not device.name.startswith("cpu")


def compiles(config: dict, device: Device) -> bool:
    """Whether ``train.compile`` compiles the update on the device (auto: on a GPU)."""
    mode = config["train"].get("compile", "never")
    return mode == "always" or (mode == "auto" and is_gpu(device))


def per_update(config: dict, on_the_fly: bool, shape: dict = MDPR) -> tuple[float, float]:
    """(FLOPs, memory traffic in bytes) of one update of a BERT of `shape` (mDPR's: the study's)."""
    batch = config["train"]["batch_size"]
    flops = batch * 3 * forward_flops(QUERY_TOKENS, shape)
    if on_the_fly:
        flops += batch * forward_flops(COUNTERPART_TOKENS, shape)
    return flops, ADAMW_BYTES * trained_parameters(config["train"], shape)


def state_languages(config: dict, device: Device) -> list[str]:
    """The languages whose teacher states are computed once (some run of theirs reads them)."""
    return sorted({run.code for run in runs(config) if teacher_mode(config, run, is_gpu(device)) == "language"})


def _empty() -> dict:
    return {"updates": 0, "dev_evaluations": 0, "train_flops": 0.0, "train_bytes": 0.0, "dev_flops": 0.0,
            "teacher_flops": 0.0}


def stage_totals(config: dict, device: Device) -> dict:
    """FLOPs, bytes and counts per stage, summed over the runs, for each bound of the budget; and, per
    training job (``students_per_job``), its students' expected updates and their set-up seconds."""
    gpu, train = is_gpu(device), config["train"]
    out = {bound: _empty() for bound in BOUNDS}
    modes: dict[str, int] = defaultdict(int)
    jobs: dict[tuple, dict] = defaultdict(lambda: {"expected": 0, "setup_s": 0.0, "students": 0, "state_bytes": 0.0})
    for run in runs(config):
        mode = teacher_mode(config, run, gpu)
        modes[mode] += 1
        update_flops, update_bytes = per_update(config, mode == "on_the_fly")
        counts = updates(train, run.n)
        dev = DEV_QUERIES * (forward_flops(QUERY_TOKENS) + 2 * WIDTH * dev_passages(config, run.code))
        held = run_state_bytes(config, run) if mode in ("language", "precompute") else 0.0
        job = jobs[job_key(config, run)]
        # each student: its data, and (after the job's first) the teacher's weights copied back to the device
        job["setup_s"] += run.n * DATA_S_PER_RECORD + held / HOST_COPY_BPS
        job["setup_s"] += 4 * sum(parameters()) / HOST_COPY_BPS if job["students"] else 0.0
        job["students"] += 1
        job["expected"] += counts["expected"]
        job["state_bytes"] = max(job["state_bytes"], held)
        for bound, count in counts.items():
            totals = out[bound]
            totals["updates"] += count
            checks = evaluations(train, run.n, count)
            totals["dev_evaluations"] += checks
            totals["train_flops"] += count * update_flops
            totals["train_bytes"] += count * update_bytes
            totals["dev_flops"] += checks * dev
            totals["teacher_flops"] += run.n * forward_flops(COUNTERPART_TOKENS) if mode == "precompute" else 0.0
    languages = state_languages(config, device)
    states_flops = sum(pool_pairs(config, code) for code in languages) * forward_flops(COUNTERPART_TOKENS)
    return {"bounds": out, "job_list": list(jobs.values()), "modes": dict(modes), "state_languages": languages,
            "states_flops": states_flops, "states_bytes": sum(state_bytes(pool_pairs(config, c)) for c in languages)}


def gpu_hours(config: dict, device: Device) -> dict:
    """Hours per bound: updates, dev, teacher (per run and per language), corpus encoding, and the jobs'
    start-up (the device row's, a compile when the update is compiled, each student's set-up)."""
    totals = stage_totals(config, device)
    jobs = totals["job_list"]
    passages = sum(collections(config).values())
    encode_flops = passages * forward_flops(COUNTERPART_TOKENS)
    per_job = device.overhead_s + (COMPILE_S if compiles(config, device) else 0.0)
    overhead = len(jobs) * per_job + sum(job["setup_s"] for job in jobs)
    hours = {}
    for bound, t in totals["bounds"].items():
        work = (device.seconds(t["train_flops"], t["train_bytes"]) + device.seconds(t["dev_flops"], 0)
                + device.seconds(t["teacher_flops"] + totals["states_flops"], 0) + device.seconds(encode_flops, 0))
        hours[bound] = {"compute": work / 3600, "overhead": overhead / 3600, "total": (work + overhead) / 3600}
    update_s = {fly: device.seconds(*per_update(config, fly)) for fly in (False, True)}
    expected = totals["bounds"]["expected"]
    mean_update_s = device.seconds(expected["train_flops"], expected["train_bytes"]) / max(expected["updates"], 1)
    typical = statistics.median(job["expected"] for job in jobs) * mean_update_s
    return {**totals, "hours": hours, "update_ms": {k: 1000 * v for k, v in update_s.items()},
            "mean_update_ms": 1000 * mean_update_s, "encode_flops": encode_flops, "passages": passages,
            "per_job_s": per_job, "setup_s": statistics.median(job["setup_s"] for job in jobs),
            "typical_job_s": typical, "overhead_share": overhead / (overhead + typical * len(jobs))}


def peak_memory(config: dict, device: Device, held: float) -> float:
    """Bytes of device memory of the largest train job: fp32 student, its gradients and AdamW moments
    (16 B per parameter), the teacher (fp32, 4 B), the dev collection's embeddings (fp32), the
    activations of a batch (stored for the backward: ~34·L·h bytes per token and layer in bf16, by the
    usual transformer estimate), the teacher states it holds (`held`) and the CUDA context (assumed)."""
    params = sum(parameters())
    batch = config["train"]["batch_size"]
    dev = max(dev_passages(config, code) for code in config["languages"]) * WIDTH * 4
    activations = batch * QUERY_TOKENS * 12 * 34 * WIDTH + batch * COUNTERPART_TOKENS * 4 * 3072 * 2
    return 20 * params + dev + activations + held + CUDA_CONTEXT_BYTES


def checkpoint_writes(config: dict, hours: dict) -> int:
    """Checkpoint writes of the study, expected: a job writes one every ``checkpoint_minutes`` of its
    updates' time (none when shorter), or every ``checkpoint_every`` updates when the interval is 0."""
    every, minutes = config.get("checkpoint_every") or 0, config.get("checkpoint_minutes") or 0
    if not every:
        return 0
    if not minutes:
        return sum(n // every for n in hours["job_updates"])
    return sum(int(n * hours["mean_update_ms"] / 1000 // (60 * minutes)) for n in hours["job_updates"])


def plan(config: dict, device: Device) -> dict:
    """Everything `swimscale plan` prints."""
    result = gpu_hours(config, device)
    params = sum(parameters())
    jobs = result["job_list"]
    result["job_updates"] = [job["expected"] for job in jobs]
    compiled = compiles(config, device)
    result.update({
        "device": device, "jobs": len(jobs), "students": sum(job["students"] for job in jobs),
        "students_per_job": config.get("students_per_job") or "one", "compiled": compiled,
        "collections": len(collections(config)),
        "peak_memory": peak_memory(config, device, max(job["state_bytes"] for job in jobs)),
        # trained parameters, AdamW's two moments (fp32) and the best student
        "checkpoint_bytes": 16 * params, "student_bytes": 4 * params,
        "checkpoint_every": config.get("checkpoint_every") or 0,
        "checkpoint_minutes": config.get("checkpoint_minutes") or 0,
        "checkpoint_writes": checkpoint_writes(config, result),
        "test_searches": sum(1 for b in config["benchmarks"].values() if b.get("role", "test") == "test")
        * TEST_QUERIES,
        # per update: the one read of the loss and its parts, and, in eager mode, transformers' padding
        # check once per model forward (the student's; the teacher's too when it runs on the fly);
        # compiled, the student's check is traced away (the teacher on the fly stays eager)
        "syncs_per_update": {fly: 1 + (not compiled) + fly for fly in (False, True)},
    })
    return result

