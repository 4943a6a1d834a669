"""`swimscale plan`: the study's jobs, updates, FLOPs, GPU-hours, host synchronisations, memory and disk
and start-up overhead, from its config and one device row (swimscale.plan._costs says how)."""

from __future__ import annotations

import statistics
from collections import defaultdict

from swimscale.plan._costs import (MDPR, ADAMW_BYTES, COMPILE_S, COUNTERPART_S, COUNTERPART_TOKENS,
                                   CUDA_CONTEXT_BYTES, DEV_QUERIES, HOST_COPY_BPS, QUERY_S_PER_RECORD, QUERY_TOKENS,
                                   READ_S_PER_RECORD, TEST_QUERIES, TOKEN_METHODS, collections, dev_passages,
                                   embedding_rows, evaluations, forward_flops, job_key, job_seeds, parameters,
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


def per_update(config: dict, on_the_fly: bool, shape: dict = MDPR, n: int | None = None,
               trained: int | None = None) -> tuple[float, float]:
    """(FLOPs, memory traffic in bytes) of one update of a BERT of `shape` (mDPR's: the study's), of a run
    on `n` pairs (the trained embedding rows depend on it under ``embedding_rows: sample``), or of a run
    that trained `trained` parameters (a measured run's log: perf/gpu_check.py)."""
    batch = config["train"]["batch_size"]
    flops = batch * 3 * forward_flops(QUERY_TOKENS, shape)
    if on_the_fly:
        flops += batch * forward_flops(COUNTERPART_TOKENS, shape)
    return flops, ADAMW_BYTES * (trained if trained is not None else trained_parameters(config["train"], shape, n))


def update_wait_s(config: dict, mode: str, method: str) -> float:
    """Seconds an update waits besides its FLOPs and traffic: the batch's teacher states copied from host
    memory (``precompute``: float32; ``job``: bf16 tokens, float32 pooled vectors) or its counterparts
    tokenised on the CPU (``on_the_fly``); ``language`` gathers on the device."""
    batch = config["train"]["batch_size"]
    tokens = method in TOKEN_METHODS
    if mode == "on_the_fly":
        return batch * COUNTERPART_S
    if mode in ("precompute", "job"):
        width = 4 if mode == "precompute" else 2
        return batch * ((COUNTERPART_TOKENS * WIDTH * width if tokens else 0) + 2 * WIDTH * 4) / HOST_COPY_BPS
    return 0.0


def state_languages(config: dict, device: Device) -> list[str]:
    """The languages whose teacher states are computed once (some run of theirs reads them)."""
    return sorted({run.code for run in runs(config) if teacher_mode(config, run, is_gpu(device)) == "language"})


def _empty() -> dict:
    return {"updates": 0, "dev_evaluations": 0, "train_flops": 0.0, "train_bytes": 0.0, "wait_s": 0.0,
            "dev_flops": 0.0, "teacher_flops": 0.0}


def _job() -> dict:
    return {"expected": 0, "setup_s": 0.0, "students": 0, "state_bytes": 0.0, "host_bytes": 0.0, "seeds": set(),
            "state_seeds": 0}


def stage_totals(config: dict, device: Device) -> dict:
    """FLOPs, bytes and counts per stage, summed over the runs, for each bound of the budget; and, per
    training job (``students_per_job``), its students' expected updates and their set-up seconds."""
    gpu, train = is_gpu(device), config["train"]
    seeds = job_seeds(config)
    out = {bound: _empty() for bound in BOUNDS}
    modes: dict[str, int] = defaultdict(int)
    jobs: dict[tuple, dict] = defaultdict(_job)
    job_teacher_flops = 0.0
    for run in runs(config):
        mode = teacher_mode(config, run, gpu, seeds)
        modes[mode] += 1
        update_flops, update_bytes = per_update(config, mode == "on_the_fly", n=run.n)
        wait = update_wait_s(config, mode, run.method)
        counts = updates(train, run.n)
        dev = DEV_QUERIES * (forward_flops(QUERY_TOKENS) + 2 * WIDTH * dev_passages(config, run.code))
        job = jobs[job_key(config, run)]
        largest, tokens = seeds[(job_key(config, run), run.seed)]
        if run.seed not in job["seeds"]:  # the seed's first student: its largest sample's queries tokenised once
            job["seeds"].add(run.seed)
            job["setup_s"] += largest * QUERY_S_PER_RECORD
            if mode == "job":  # and its teacher states computed once, held in host memory
                job["setup_s"] += largest * COUNTERPART_S
                job["state_seeds"] += 1
                job_teacher_flops += largest * forward_flops(COUNTERPART_TOKENS)
                job["host_bytes"] = max(job["host_bytes"], state_bytes(largest, tokens))
        held = run_state_bytes(config, run) if mode in ("language", "precompute") else 0.0
        # each student: its sample read, its states' rows (or, precomputed, its counterparts tokenised),
        # and (after the job's first) the teacher's weights copied back to the device
        job["setup_s"] += run.n * READ_S_PER_RECORD + held / HOST_COPY_BPS
        job["setup_s"] += run.n * COUNTERPART_S if mode == "precompute" else 0.0
        job["setup_s"] += 4 * sum(parameters()) / HOST_COPY_BPS if job["students"] else 0.0
        job["students"] += 1
        job["expected"] += counts["expected"]
        job["state_bytes"] = max(job["state_bytes"], held if mode == "language" else 0.0)
        for bound, count in counts.items():
            totals = out[bound]
            totals["updates"] += count
            checks = evaluations(train, run.n, count)
            totals["dev_evaluations"] += checks
            totals["train_flops"] += count * update_flops
            totals["train_bytes"] += count * update_bytes
            totals["wait_s"] += count * wait
            totals["dev_flops"] += checks * dev
            totals["teacher_flops"] += run.n * forward_flops(COUNTERPART_TOKENS) if mode == "precompute" else 0.0
    languages = state_languages(config, device)
    pairs = sum(pool_pairs(config, code) for code in languages)
    return {"bounds": out, "job_list": list(jobs.values()), "modes": dict(modes), "state_languages": languages,
            "states_flops": pairs * forward_flops(COUNTERPART_TOKENS), "states_s": pairs * COUNTERPART_S,
            "job_teacher_flops": job_teacher_flops, "job_seeds": sum(j["state_seeds"] for j in jobs.values()),
            "states_bytes": sum(state_bytes(pool_pairs(config, c)) for c in languages)}


def gpu_hours(config: dict, device: Device) -> dict:
    """Hours per bound: updates (and what they wait for), dev, teacher (per run, per job and per
    language), corpus encoding, and the jobs' start-up (the device row's, a compile when the update is
    compiled, each student's set-up)."""
    totals = stage_totals(config, device)
    jobs = totals["job_list"]
    passages = sum(collections(config).values())
    encode_flops = passages * forward_flops(COUNTERPART_TOKENS)
    per_job = device.overhead_s + (COMPILE_S if compiles(config, device) else 0.0)
    overhead = len(jobs) * per_job + sum(job["setup_s"] for job in jobs)
    teacher_once = totals["states_flops"] + totals["job_teacher_flops"]
    hours = {}
    for bound, t in totals["bounds"].items():
        work = (device.seconds(t["train_flops"], t["train_bytes"]) + t["wait_s"] + device.seconds(t["dev_flops"], 0)
                + device.seconds(t["teacher_flops"] + teacher_once, 0) + totals["states_s"]
                + device.seconds(encode_flops, 0))
        hours[bound] = {"compute": work / 3600, "overhead": overhead / 3600, "total": (work + overhead) / 3600}
    update_s = {fly: device.seconds(*per_update(config, fly)) for fly in (False, True)}
    expected = totals["bounds"]["expected"]
    mean_update_s = ((device.seconds(expected["train_flops"], expected["train_bytes"]) + expected["wait_s"])
                     / max(expected["updates"], 1))
    typical = statistics.median(job["expected"] for job in jobs) * mean_update_s
    return {**totals, "hours": hours, "update_ms": {k: 1000 * v for k, v in update_s.items()},
            "mean_update_ms": 1000 * mean_update_s, "encode_flops": encode_flops, "passages": passages,
            "per_job_s": per_job, "setup_s": statistics.median(job["setup_s"] for job in jobs),
            "typical_job_s": typical, "overhead_share": overhead / (overhead + typical * len(jobs)),
            "host_bytes": max(job["host_bytes"] for job in jobs)}


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
        "embedding_rows": ("all" if config["train"].get("embedding_rows", "all") != "sample" else
                           f"those of the sample's queries (at most {embedding_rows(config['train'], None):,} of "
                           f"{MDPR['vocab_size']:,}, assumed)"),
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

