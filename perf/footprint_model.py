"""From perf/scale.py's measurements (tiny model, pools of 10k–900k) to the full study with mDPR.

How (every figure in the result says which way it was obtained):

- measured: the job at the full study's size was run (the 900k pool, N = 256k, corpus 200k).
- fitted: peak RSS or bytes linear in the job's size driver (pool records, N, corpus passages),
  a + b·x through the two largest measured scales, evaluated at the full study's size.
- mDPR: the fitted tiny-model figure with the model-bound parts swapped — weights (fp32, 4 B per
  parameter, counted from mDPR's shape), vectors of width 768 instead of 32 (corpus embeddings
  4 B each, teacher tokens 2 B each: float16), and for GPU jobs the host memory of the CUDA runtime
  (perf/gpu_check.py's host peak when given, else an assumed 1.5 GiB).

GPU-hours from FLOP counts: a BERT forward costs 2 FLOPs per non-embedding parameter per token plus
4·layers·L·h for attention (L tokens, h width); training costs 3× the forward (forward + backward) on
the student's queries, plus the teacher's forward on the passages when teacher tokens are computed on
the fly; AdamW moves ~16 bytes per parameter per step (memory-bound, at 4 TB/s). FLOPs are turned
into hours at an assumed 30 % of the H100/H200's ~790 TFLOP/s bf16 (measured on the device machine)
for training, and at 50 % of ~67 TFLOP/s FP32 for corpus encoding (encode_texts runs in fp32). A
training step of 32 short queries is far too small to be FLOP-bound (kernel launches, 50 Sinkhorn
iterations): hours at 20/50/100 ms per step are given beside it. With perf/gpu_check.py's JSON the
measured examples/s and passages/s are used instead. The search's
exact inner products run on CPU (2·queries·corpus·768 FLOPs at ~160 GFLOP/s, measured here).
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml
from synthetic import MDPR_SHAPE, TINY_SHAPE

MIB = 2**20
CUDA_HOST_MIB = 1536  # assumed host RSS of the CUDA runtime and kernels in a torch GPU process
BF16_TFLOPS, MFU = 790.0, 0.30
FP32_TFLOPS, FP32_UTILISATION = 67.0, 0.50  # H100/H200 FP32 without tensor cores: encode_texts runs fp32
STEP_MS = (20, 50, 100)  # training step latencies to show (small batches are launch-bound, not FLOP-bound)
HBM_BYTES_PER_S = 4.0e12
CPU_GFLOPS = 160.0  # FAISS IndexFlatIP on these machines (notes: 161–175 GFLOP/s)
PASSAGE_TOKENS = 135  # mBERT word pieces of a 95-word English passage with its title (~1.4 per word)
TRAIN_PASSAGE_TOKENS = 126  # the passage side of training: train.max_length 128 minus [CLS], [SEP]
QUERY_TOKENS = 20  # a ~10-word query in a low-resource script: mBERT splits it finer (~2 per word)
XTREME_UP_CORPUS = 112_426  # SWIM-IR paper; one collection for every language
SWIMIR_POOL = 909_748  # bn, from the dataset card; the 17 large languages have 901k–910k


def parameters(shape: dict) -> dict:
    """BERT parameter counts: embeddings (word, position, type, LayerNorm) and the rest."""
    h, ff, layers = shape["hidden_size"], shape["intermediate_size"], shape["num_hidden_layers"]
    embeddings = (shape["vocab_size"] + shape["max_position_embeddings"] + 2) * h + 2 * h
    layer = 4 * h * h + 4 * h + 2 * h * ff + ff + h + 4 * h
    return {"embedding": embeddings, "non_embedding": layers * layer + h * h + h, "layers": layers, "hidden": h}


def forward_flops(shape: dict, tokens: int) -> float:
    """FLOPs of one sequence's forward pass (2 per non-embedding parameter per token + attention)."""
    p = parameters(shape)
    return 2 * p["non_embedding"] * tokens + 4 * p["layers"] * tokens * tokens * p["hidden"]


def weights_mib(shape: dict) -> float:
    p = parameters(shape)
    return 4 * (p["embedding"] + p["non_embedding"]) / MIB


def fit(measurements: list[dict], job: str, driver) -> tuple[float, float, list[int], float] | None:
    """(a, b, scales, x of the largest) of peak RSS = a + b·x through the two largest scales that ran
    `job`, x = driver(m)."""
    points = sorted((driver(m), j["peak_rss_mib"], m["pool"]) for m in measurements for j in m["jobs"]
                    if label(j, m) == job)
    if not points:
        return None
    if len(points) == 1 or points[-1][0] == points[-2][0]:
        return points[-1][1], 0.0, [points[-1][2]], points[-1][0]
    (x0, y0, s0), (x1, y1, s1) = points[-2], points[-1]
    slope = (y1 - y0) / (x1 - x0)
    return y1 - slope * x1, slope, [s0, s1], x1


def source(fitted, x: float) -> str:
    """'measured' when the largest measured driver is within 2 % of x, else how it was fitted."""
    if fitted is None:
        return "not measured"
    if abs(fitted[3] - x) <= 0.02 * x:
        return f"measured (pool {fitted[2][-1]:,})" if fitted[2] else "measured"
    return f"fitted (pools {' and '.join(f'{s:,}' for s in fitted[2])})"


def label(job: dict, m: dict) -> str:
    """The job type of perf/scale.py's table: the largest N is called N_max."""
    size = job["wildcards"].get("size")
    if size is None:
        return job["rule"]
    return f"{job['rule']} n={'N_max' if int(size) == m['sizes'][-1] and int(size) != 1000 else size}"


def full_study(config_path: Path) -> dict:
    """The full study's sweep: languages, their trained sizes, seeds, methods, benchmarks and corpora."""
    from swimscale.config import Sweep, validated

    config = validated(yaml.safe_load(Path(config_path).read_text()))
    sweep = Sweep(config)
    train = config["train"]
    corpora = {name: b.get("corpus_size") or XTREME_UP_CORPUS for name, b in config["benchmarks"].items()}
    return {"config": config, "languages": config["languages"], "seeds": len(config["seeds"]),
            "methods": len(config["methods"]), "trained": {lang: sweep.trained_sizes(lang) for lang in config["languages"]},
            "benchmarks": {lang: sweep.benchmarks_of(lang) for lang in config["languages"]}, "corpora": corpora,
            "batch": train["batch_size"], "steps": lambda n: max(train.get("min_steps", 0), min(
                train["max_steps"], math.ceil(train.get("epochs", 1) * n / min(train["batch_size"], n))))}


def per_record(measurements: list[dict], job: str, m_filter=None) -> float | None:
    """Output bytes per unit of the job's driver at the largest scale that ran it (MiB per record)."""
    for m in sorted(measurements, key=lambda m: -m["pool"]):
        for j in m["jobs"]:
            if label(j, m) == job and j["complete"]:
                driver = {"prepare_pool": m["pool"], "validate": m["pool"], "encode_corpus": m["corpus"],
                          "index": m["corpus"], "prepare_benchmark": m["corpus"]}.get(job.split(" ")[0], m["sizes"][-1])
                if job.startswith(("search", "evaluate")):
                    driver = 1
                return j["output_mib"] / driver
    return None


def at(fitted, x: float) -> float | None:
    return None if fitted is None else fitted[0] + fitted[1] * x


def cuda_host_mib(gpu: dict | None) -> tuple[float, str]:
    if gpu and gpu.get("host_peak_rss_mib") and gpu.get("mode") == "gpu":
        # The whole check's process held mDPR's weights too: count them once, in the job's own term.
        return max(0.0, gpu["host_peak_rss_mib"] - weights_mib(MDPR_SHAPE)), "gpu_check's host peak less mDPR weights"
    return CUDA_HOST_MIB, f"assumed {CUDA_HOST_MIB} MiB CUDA runtime"


def memory(measurements: list[dict], study: dict, gpu: dict | None) -> list[dict]:
    """Peak host RSS per job type for the full study with mDPR (MiB), with how each was obtained."""
    pool, n_max, corpus = SWIMIR_POOL, 256_000, max(study["corpora"].values())
    union = round(pool * (1 - (1 - n_max / pool) ** study["seeds"]))  # the seeds' nested samples, joined
    tiny, mdpr = TINY_SHAPE["hidden_size"], MDPR_SHAPE["hidden_size"]
    model = weights_mib(MDPR_SHAPE) - weights_mib(TINY_SHAPE)
    cuda, cuda_how = cuda_host_mib(gpu)
    records = fit(measurements, "subsample n=N_max", lambda m: m["sizes"][-1])
    tokens_mib = per_record(measurements, "teacher_tokens") or 0.0  # cache MiB per record, tiny width
    rows = []

    def row(job, driver_name, x, fitted, extra=0.0, how="fitted"):
        value = at(fitted, x)
        rows.append({"job": job, "driver": f"{driver_name} = {x:,}", "tiny_mib": value and round(value),
                     "mdpr_mib": value and round(value + extra), "how": how.replace("fitted", source(fitted, x), 1)})

    for job, name, x in (("prepare_pool", "pool", pool), ("validate", "pool", pool),
                         ("prepare_benchmark", "corpus", corpus), ("subsample n=N_max", "N", n_max)):
        row(job, name, x, fit(measurements, job, lambda m, j=job: m["corpus"] if j == "prepare_benchmark" else (
            m["sizes"][-1] if "N_max" in j else m["pool"])), how="fitted; no model")
    tt = fit(measurements, "teacher_tokens", lambda m: m["sizes"][-1])
    # Copies of the cache held at the peak: the RSS slope per record, less the records' own (subsample's).
    copies = max(0.0, tt[1] - (records[1] if records else 0.0)) / tokens_mib if tt and tokens_mib else 0.0
    row("teacher_tokens (today)", "union of samples", union, tt, model + copies * union * tokens_mib * (mdpr / tiny - 1)
        + cuda, f"fitted; + mDPR weights, {copies:.1f} copies of a 768-wide float16 cache, {cuda_how}")
    tr = fit(measurements, "train n=N_max", lambda m: m["sizes"][-1])
    # train maps the cache file (safetensors loads lazily), but random batches and the kernel's readahead
    # make nearly all of it resident within ~20 batches (checked: 612 MiB of a 100k cache): file-backed
    # pages, reclaimable under a memory limit at the price of re-reading them.
    union_cache = union * tokens_mib * mdpr / tiny
    row("train n=256k (today: union cache)", "N", n_max, tr, model + cuda + union_cache,
        f"fitted; + mDPR weights, {cuda_how}, + the whole memory-mapped union cache at width 768, resident "
        "once read (file-backed, reclaimable)")
    row("train n=256k (no shared cache)", "N", n_max, tr, 2 * model + cuda,
        "fitted, which includes the tiny cache it read (<= 1.5 GiB, left in as margin); + mDPR weights twice "
        "(student, and the teacher for its tokens on the fly on CUDA), " + cuda_how)
    vectors = corpus * 4 * (mdpr - tiny) / MIB
    row("encode_corpus", "corpus", corpus, fit(measurements, "encode_corpus", lambda m: m["corpus"]),
        model + vectors + cuda, f"fitted; + mDPR weights, 768-wide float32 embeddings, {cuda_how}")
    row("index", "corpus", corpus, fit(measurements, "index", lambda m: m["corpus"]), 2 * vectors,
        "fitted; + the embeddings at width 768, twice (the loaded array and FAISS's copy)")
    for job in ("search_zero_shot", "search_student n=N_max"):
        row(job, "corpus", corpus, fit(measurements, job, lambda m: m["corpus"]), model + vectors + cuda,
            f"fitted; + mDPR weights, the 768-wide index, {cuda_how} (on a CPU node: without it)")
    for job in ("evaluate", "correlate"):  # no size driver here: the largest measured value
        peak = max((j["peak_rss_mib"] for m in measurements for j in m["jobs"] if j["rule"] == job), default=None)
        row(job, "queries", N_QUERIES_FULL, None if peak is None else (peak, 0.0, [], N_QUERIES_FULL),
            how="measured (the largest)")
    return rows


N_QUERIES_FULL = 1000


def runs_per_language(study: dict, lang: str) -> int:
    return len(study["trained"][lang]) * study["seeds"] * study["methods"]


def disk(measurements: list[dict], study: dict) -> dict:
    """Disk per language (MiB) of a large SWIM-IR language in the full study with mDPR, and per corpus."""
    lang = max(study["languages"], key=lambda code: max(study["trained"][code] or [0]))
    largest = max(measurements, key=lambda m: m["pool"])
    per_pool = {key: largest["disk_mib"][key] / largest["pool"] for key in ("hf_cache", "input_snapshot")}
    pool_mib = (per_record(measurements, "prepare_pool") or 0.0) * SWIMIR_POOL
    sample_mib = (per_record(measurements, "subsample n=N_max") or 0.0)
    union = round(SWIMIR_POOL * (1 - (1 - 256_000 / SWIMIR_POOL) ** study["seeds"]))
    cache_mib = (per_record(measurements, "teacher_tokens") or 0.0) * union * MDPR_SHAPE["hidden_size"] / TINY_SHAPE["hidden_size"]
    runs = runs_per_language(study, lang)
    searches = len(study["benchmarks"][lang]) * (runs + 1)  # every trained student and the zero-shot one
    search_mib = (per_record(measurements, "search_student n=N_max") or 0.0) + (per_record(measurements, "evaluate") or 0.0)
    weights = weights_mib(MDPR_SHAPE)
    per_language = {
        "Hugging Face cache (parquet download + arrow)": round((per_pool["hf_cache"] + per_pool["input_snapshot"]) * SWIMIR_POOL),
        "prepare/pools (JSONL)": round(pool_mib),
        "validate/<lang>/pool.jsonl (design: the pool minus overlaps)": round(pool_mib),
        "subsample (every N x seed)": round(sample_mib * sum(study["trained"][lang]) * study["seeds"]),
        "train/teacher_tokens (today: union cache, float16)": round(cache_mib),
        "students, if all kept (keep_students)": round(weights * runs),
        "search + evaluate files": round(search_mib * searches),
    }
    transient = {"one student (temp() until its searches ran)": round(weights),
                 "one checkpoint (weights + AdamW moments)": round(3 * weights)}
    corpus = max(study["corpora"].values())
    per_corpus = {"encode: embeddings (float32, 768)": round(corpus * 4 * 768 / MIB),
                  "index: IndexFlatIP (the same vectors)": round(corpus * 4 * 768 / MIB),
                  "prepare: corpus JSONL": round((per_record(measurements, "prepare_benchmark") or 0.0) * corpus)}
    return {"language": lang, "runs": runs, "searches": searches, "per_language_mib": per_language,
            "transient_per_running_job_mib": transient, "per_corpus_mib": {"passages": corpus, **per_corpus},
            "study_gb": study_totals(measurements, study)}


def study_totals(measurements: list[dict], study: dict) -> dict:
    """The whole study's disk (GB): today (a union teacher cache per language, a corpus per benchmark)
    and with the design (no shared cache, validated pool copies, XTREME-UP as one shared collection).
    A language trained only up to 10k (the Indic set) has a pool of about its largest size."""
    largest = max(measurements, key=lambda m: m["pool"])
    source_mib = (largest["disk_mib"]["hf_cache"] + largest["disk_mib"]["input_snapshot"]) / largest["pool"]
    pool_mib, sample_mib = per_record(measurements, "prepare_pool") or 0.0, per_record(measurements, "subsample n=N_max") or 0.0
    cache_mib = (per_record(measurements, "teacher_tokens") or 0.0) * MDPR_SHAPE["hidden_size"] / TINY_SHAPE["hidden_size"]
    search_mib = (per_record(measurements, "search_student n=N_max") or 0.0) + (per_record(measurements, "evaluate") or 0.0)
    today = design = 0.0
    for lang in study["languages"]:
        sizes = study["trained"][lang]
        pool = SWIMIR_POOL if max(sizes) > 10_000 else max(sizes)
        union = pool * (1 - (1 - max(sizes) / pool) ** study["seeds"])
        common = (source_mib + pool_mib) * pool + sample_mib * sum(sizes) * study["seeds"] + search_mib * len(
            study["benchmarks"][lang]) * (runs_per_language(study, lang) + 1)
        today += common + cache_mib * union
        design += common + pool_mib * pool
    per_passage = (2 * 4 * MDPR_SHAPE["hidden_size"] / MIB + (per_record(measurements, "prepare_benchmark") or 0.0))
    corpora_today = per_passage * sum(study["corpora"].values())
    corpora_design = per_passage * (sum(c for n, c in study["corpora"].items() if not n.startswith("xtreme-up"))
                                    + XTREME_UP_CORPUS)
    gb = MIB / 1e9
    return {"today": round((today + corpora_today) * gb), "design": round((design + corpora_design) * gb),
            "corpora_today": round(corpora_today * gb, 1), "corpora_design": round(corpora_design * gb, 1)}


def gpu_hours(study: dict, gpu: dict | None) -> dict:
    """Training and corpus-encoding GPU-hours, from FLOPs (or gpu_check's measured rates), and the
    CPU-hours of exact search."""
    steps = sum(study["steps"](n) * study["seeds"] * study["methods"] for lang in study["languages"]
                for n in study["trained"][lang])
    examples = steps * study["batch"]
    params = parameters(MDPR_SHAPE)
    per_example = 3 * forward_flops(MDPR_SHAPE, QUERY_TOKENS) + forward_flops(MDPR_SHAPE, TRAIN_PASSAGE_TOKENS)
    adamw_s = steps * 16 * (params["embedding"] + params["non_embedding"]) / HBM_BYTES_PER_S
    rate = BF16_TFLOPS * 1e12 * MFU
    passages_today = sum(study["corpora"].values())
    passages_shared = sum(c for name, c in study["corpora"].items() if not name.startswith("xtreme-up")) + XTREME_UP_CORPUS
    encode_flops = forward_flops(MDPR_SHAPE, PASSAGE_TOKENS)
    result = {"train_steps": steps, "train_examples": examples,
              "train_gpu_hours_flops": round((examples * per_example / rate + adamw_s) / 3600, 2),
              "encode_passages_today": passages_today, "encode_passages_shared_collections": passages_shared,
              "train_gpu_hours_at_step_ms": {ms: round(steps * ms / 1000 / 3600, 1) for ms in STEP_MS},
              "encode_gpu_hours_flops_fp32": round(passages_today * encode_flops / (FP32_TFLOPS * 1e12 * FP32_UTILISATION) / 3600, 2),
              "encode_gpu_hours_flops_bf16": round(passages_today * encode_flops / rate / 3600, 2),
              "assumption": f"training and bf16 encoding at {BF16_TFLOPS:.0f} TFLOP/s x {MFU:.0%}; fp32 encoding at "
                            f"{FP32_TFLOPS:.0f} TFLOP/s x {FP32_UTILISATION:.0%}; AdamW at {HBM_BYTES_PER_S / 1e12:.0f} TB/s"}
    searches = sum(len(study["benchmarks"][lang]) * (runs_per_language(study, lang) + 1) for lang in study["languages"])
    corpus = max(study["corpora"].values())
    result["search_runs"] = searches
    result["search_cpu_hours"] = round(searches * N_QUERIES_FULL * corpus * 768 * 2 / (CPU_GFLOPS * 1e9) / 3600, 2)
    if gpu:
        train32 = next(t for t in gpu["train"] if t["batch_size"] == study["batch"]) if any(
            t["batch_size"] == study["batch"] for t in gpu["train"]) else gpu["train"][0]
        encode = next(e for e in gpu["encode"] if e["model"].startswith("mDPR") and e["precision"] == "fp32")
        result["train_gpu_hours_measured"] = round(examples / train32["examples_per_s"] / 3600, 2)
        result["encode_gpu_hours_measured"] = round(passages_today / encode["passages_per_s"] / 3600, 2)
    return result


def extrapolate(measurements: list[dict], config_path: Path, gpu: dict | None = None) -> dict:
    study = full_study(config_path)
    return {"memory_mib": memory(measurements, study, gpu), "disk": disk(measurements, study),
            "gpu": gpu_hours(study, gpu), "mdpr_parameters": parameters(MDPR_SHAPE),
            "mdpr_weights_mib": round(weights_mib(MDPR_SHAPE)), "scales_measured": [m["pool"] for m in measurements]}


def describe(extrapolation: dict) -> str:
    lines = ["", "Full study with mDPR (see perf/footprint_model.py for how):", f"{'job':40} {'driver':28} "
             f"{'tiny MiB':>9} {'mDPR MiB':>9}  how"]
    lines += [f"{r['job']:40} {r['driver']:28} {r['tiny_mib']!s:>9} {r['mdpr_mib']!s:>9}  {r['how']}"
              for r in extrapolation["memory_mib"]]
    d = extrapolation["disk"]
    lines += ["", f"disk per language ({d['language']}: {d['runs']} training runs, {d['searches']} searches), MiB:"]
    lines += [f"  {k:60} {v:>10,}" for k, v in d["per_language_mib"].items()]
    lines += [f"  transient: {k:49} {v:>10,}" for k, v in d["transient_per_running_job_mib"].items()]
    lines += [f"  per corpus: {k:48} {v:>10,}" for k, v in d["per_corpus_mib"].items()]
    lines += [f"  whole study, GB: {d['study_gb']}"]
    lines += ["", "compute: " + ", ".join(f"{k} {v}" for k, v in extrapolation["gpu"].items())]
    return "\n".join(lines)
