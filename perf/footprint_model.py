"""From perf/scale.py's measurements (tiny model, pools of 10k–900k) to the full study with mDPR.

Every figure says how it was obtained:

- measured: the job ran at the full study's size (the 900k pool for the data jobs, N = 256k).
- fitted: peak RSS linear in the job's size drivers — pool records, trained N, collection passages —
  by least squares over every measured scale (`DRIVERS` names each job's), evaluated at the full
  study's sizes; the coefficients are reported (MiB per 1,000 of each driver).
- derived: the fitted tiny-model figure with the model-bound parts swapped for mDPR's — weights
  (float32, 4 B per parameter, counted from mDPR's shape), vectors 768 wide instead of 32 (collection
  embeddings 4 B each; precomputed teacher tokens, float32, at the measured number of copies per
  token), and for GPU jobs the host memory of the CUDA runtime (assumed: no device was lent).

GPU-hours from FLOP counts: a BERT forward costs 2 FLOPs per non-embedding parameter per token plus
4·layers·L²·h for attention (L tokens, h width; checked against torch's FLOP counter in the tests);
an update costs 3 forwards of the student on its queries (forward + backward) plus, on the fly, the
teacher's forward on the passages; AdamW moves ~16 bytes per parameter (memory-bound). The converged
budget makes a run's length unknown in advance: the figures are for its bounds (every run stopping as
early as min_steps and patience allow; every run reaching max_steps). A step of 32 short queries is far
too small to be FLOP-bound on a data-centre GPU: hours at 50 and 100 ms per update are given beside.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from synthetic import MDPR_SHAPE, TINY_SHAPE

MIB = 2**20
CUDA_HOST_MIB = 1536  # assumed host RSS of the CUDA runtime and its kernels in a torch GPU process
GPU_TFLOPS = 300.0  # assumed sustained bf16: ~30 % of an H100/H200's dense 989 TFLOP/s
HBM_BYTES_PER_S = 3.35e12  # H100 SXM
STEP_MS = (50, 100)
CPU_GFLOPS = 160.0  # FAISS IndexFlatIP on these machines (notes: 161–175 GFLOP/s on 2 threads)
PASSAGE_TOKENS = 135  # mBERT word pieces of a ~95-word English passage with its title (~1.4 per word)
QUERY_TOKENS = 20  # a ~10-word query in a low-resource script: mBERT splits it finer (~2 per word)
SWIMIR_POOL = 909_748  # bn, from the dataset card; the 17 large languages have 901k–910k
INDIC_POOL = 5_800  # the Indic set: ~5.6k–6.0k pairs (SWIM-IR paper, Table 7)
XTREME_UP_CORPUS = 112_426  # XTREME-UP's retrieval passage index (SWIM-IR paper); not measured
TEST_QUERIES, DEV_QUERIES = 1000, 500
# The size drivers of each job's peak RSS (what the fit regresses on).
DRIVERS = {
    "prepare_pool": ("pool",), "validate": ("pool", "corpus"), "subsample": ("pool", "n"),
    "prepare_collection": ("corpus",), "prepare_benchmark": ("corpus",), "train": ("pool", "n", "corpus"),
    "encode_corpus": ("corpus",), "index": ("corpus",), "search_zero_shot": ("corpus",),
    "correlate": (), "missing_runs": (),
}


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


def label(job: dict, m: dict) -> str:
    """The job type of perf/scale.py's table: the largest N of a scale (above 1,000) is called N_max."""
    size = job["wildcards"].get("size")
    if size is not None and int(size) == m["sizes"][-1] and int(size) != 1000:
        return job["job"].replace(f"n={size}", "n=N_max")
    return job["job"]


def points(measurements: list[dict], rule: str, tag: str = "") -> list[tuple[dict, float]]:
    """({pool, n, corpus}, peak RSS MiB) of every complete run of `rule` (with `tag`: that variant only)."""
    found = []
    for m in measurements:
        for job in m["jobs"]:
            if job["rule"] == rule and job["complete"] and job.get("tag", "") == tag:
                drivers = {"pool": m["pool"], "n": int(job["wildcards"].get("size", 0)), "corpus": m["corpus"]}
                found.append((drivers, job["peak_rss_mib"]))
    return found


def fit(measurements: list[dict], rule: str, tag: str = "") -> dict | None:
    """Peak RSS = a + Σ b_d · driver_d by least squares over every measured run of `rule`; None if
    the rule never ran. `per_1000`: MiB per 1,000 of each driver."""
    found = points(measurements, rule, tag)
    if not found:
        return None
    names = [d for d in DRIVERS.get(rule, ()) if len({x[d] for x, _ in found}) > 1]
    design = np.array([[1.0] + [x[d] for d in names] for x, _ in found])
    rss = np.array([y for _, y in found])
    coefficients, *_ = np.linalg.lstsq(design, rss, rcond=None)
    if not names:  # no size driver varied: the largest, not the mean
        coefficients = np.array([rss.max()])
    residual = float(np.max(np.abs(design @ coefficients - rss)))
    return {"rule": rule, "intercept": float(coefficients[0]), "slopes": dict(zip(names, map(float, coefficients[1:]))),
            "per_1000": {d: round(1000 * float(c), 3) for d, c in zip(names, coefficients[1:])},
            "max_residual_mib": round(residual, 1), "n_points": len(found),
            "measured": [(x, y) for x, y in found]}


def at(fitted: dict | None, **drivers) -> float | None:
    if fitted is None:
        return None
    return fitted["intercept"] + sum(slope * drivers[name] for name, slope in fitted["slopes"].items())


def how(fitted: dict | None, **drivers) -> str:
    """'measured' when a run had these drivers (within 2 %), else the fit and its slopes."""
    if fitted is None:
        return "not measured"
    if not fitted["slopes"]:
        return f"measured (the largest of {fitted['n_points']} runs; no size driver varied)"
    if any(all(abs(x[d] - v) <= 0.02 * max(v, 1) for d, v in drivers.items() if d in fitted["slopes"])
           for x, _ in fitted["measured"]):
        return "measured"
    slopes = ", ".join(f"{v:+.2f} MiB per 1k {d}" for d, v in fitted["per_1000"].items())
    return f"fitted over {fitted['n_points']} runs ({slopes}; worst residual {fitted['max_residual_mib']} MiB)"


def full_study(config_path: Path) -> dict:
    """The full study's sweep: languages, their trained sizes, seeds, methods, benchmarks and budget."""
    from swimscale.config import Sweep, validated

    config = validated(yaml.safe_load(Path(config_path).read_text()))
    sweep = Sweep(config)
    return {"config": config, "languages": config["languages"], "seeds": len(config["seeds"]),
            "methods": len(config["methods"]), "trained": {c: sweep.trained_sizes(c) for c in config["languages"]},
            "tests": {c: sweep.test_benchmarks_of(c) for c in config["languages"]}, "train": config["train"],
            "corpus": max(b.get("corpus_size") or 0 for b in config["benchmarks"].values())}


def precompute_copies(measurements: list[dict]) -> dict | None:
    """How many float32 copies of a run's teacher tokens a precomputing run holds at its peak: the RSS
    difference between the two modes at the same N, over N × (tokens + 2 pooled vectors) × width × 4 B."""
    for m in measurements:
        modes = {}
        for job in m["jobs"]:
            if job["rule"] == "train" and job["complete"]:
                modes.setdefault(job["wildcards"]["size"], {})[job.get("tag") or "on_the_fly"] = job
        for size, pair in sorted(modes.items(), key=lambda item: -int(item[0])):  # the largest N: the clearest
            if len(pair) == 2:
                n = int(size)
                extra = pair["precompute"]["peak_rss_mib"] - pair["on_the_fly"]["peak_rss_mib"]
                one_copy = n * (m["passage_tokens"] + 2) * TINY_SHAPE["hidden_size"] * 4 / MIB
                return {"n": n, "pool": m["pool"], "on_the_fly_mib": pair["on_the_fly"]["peak_rss_mib"],
                        "precompute_mib": pair["precompute"]["peak_rss_mib"], "extra_mib": round(extra, 1),
                        "one_copy_mib": round(one_copy, 1), "copies": round(extra / one_copy, 2),
                        "passage_tokens": m["passage_tokens"]}
    return None


COUNTERPART_TOKENS = 133  # assumed: mBERT word pieces of a ~95-word English passage (~1.4 per word)


def memory(measurements: list[dict], study: dict) -> list[dict]:
    """Peak host RSS per job type of the full study with mDPR (MiB), with how each was obtained."""
    pool, n_max, corpus = SWIMIR_POOL, 256_000, study["corpus"]
    weights, wider = weights_mib(MDPR_SHAPE), MDPR_SHAPE["hidden_size"] - TINY_SHAPE["hidden_size"]
    vectors = corpus * 4 * wider / MIB  # the collection's embeddings, 768 instead of 32 wide
    rows = []

    def row(job, rule, extra=0.0, model="no model-bound part", tag="", **drivers):
        fitted = fit(measurements, rule, tag)
        tiny = at(fitted, **{"pool": pool, "n": n_max, "corpus": corpus, **drivers})
        rows.append({"job": job, "drivers": drivers, "tiny_mib": None if tiny is None else round(tiny),
                     "mdpr_mib": None if tiny is None else round(tiny + extra), "model": model,
                     "how": how(fitted, **drivers)})

    row("prepare_pool", "prepare_pool", pool=pool)
    row("validate", "validate", pool=pool, corpus=corpus)
    row("subsample n=256k", "subsample", pool=pool, n=n_max)
    row("prepare_collection (trec source)", "prepare_collection", corpus=corpus)
    row("prepare_benchmark (trec source)", "prepare_benchmark", corpus=corpus)
    # A training job ends by searching its student on the test collections: their index is read while the
    # dev collection's embeddings are still held (counted at once, as an upper bound).
    gpu_train = 3 * weights + CUDA_HOST_MIB + 2 * vectors
    train_model = (f"+ mDPR weights x3 (teacher, student, the student file's CPU copy: {3 * weights:.0f}), the dev "
                   f"collection's embeddings and the test collection's index at width 768 (+{2 * vectors:.0f}), the "
                   f"CUDA runtime (assumed {CUDA_HOST_MIB})")
    for n in (n_max, 100_000, 1000):
        row(f"train n={n:,}, on the fly (GPU)", "train", gpu_train, train_model, pool=pool, n=n, corpus=corpus)
    copies = precompute_copies(measurements)
    if copies:
        for n in (INDIC_POOL, n_max):
            tokens = copies["copies"] * n * (COUNTERPART_TOKENS + 2) * MDPR_SHAPE["hidden_size"] * 4 / MIB
            row(f"train n={n:,}, precompute", "train", gpu_train - CUDA_HOST_MIB + tokens,
                f"as on the fly, without CUDA, + {copies['copies']} float32 copies of N x {COUNTERPART_TOKENS} tokens "
                f"x 768 (+{tokens:.0f})", pool=pool, n=n, corpus=corpus)
    row("encode_corpus (GPU)", "encode_corpus", weights + vectors + CUDA_HOST_MIB,
        f"+ mDPR weights ({weights:.0f}), the embeddings at width 768 (+{vectors:.0f}), CUDA (assumed)", corpus=corpus)
    row("index", "index", 2 * vectors, f"+ the embeddings at width 768, twice (array and FAISS copy: +{2 * vectors:.0f})",
        corpus=corpus)
    # The untrained student's searches; a trained student is searched in its training job (rows above).
    row("search_zero_shot (CPU)", "search_zero_shot", weights + vectors,
        f"+ mDPR weights ({weights:.0f}), the index at width 768 (+{vectors:.0f})", corpus=corpus)
    row("correlate (one language measured)", "correlate")
    row("missing_runs", "missing_runs")
    return rows


def per_unit_mib(measurements: list[dict], rule: str, output: str | None, unit: str) -> float | None:
    """Bytes (MiB) of a job's outputs (`output`: one file's name) per unit of its driver, at the largest
    scale that ran it: unit 'pool', 'n', 'corpus' or 'job'."""
    for m in sorted(measurements, key=lambda m: -m["pool"]):
        for job in m["jobs"]:
            if job["rule"] == rule and job["complete"] and not job.get("tag"):
                size = job["outputs_mib"][output] if output else job["output_mib"]
                n = int(job["wildcards"].get("size", 0))
                if unit == "n" and n != m["sizes"][-1]:
                    continue
                return size / {"pool": m["pool"], "n": max(n, 1), "corpus": m["corpus"], "job": 1}[unit]
    return None


def disk(measurements: list[dict], study: dict) -> dict:
    """Disk (MiB) per large SWIM-IR language, per running training job, per collection, and the study's (GB)."""
    largest = max(measurements, key=lambda m: m["pool"])
    weights = weights_mib(MDPR_SHAPE)
    record = {"parquet": largest["disk_mib"]["input_snapshot"] / largest["pool"],
              "pool": per_unit_mib(measurements, "prepare_pool", None, "pool"),
              "validated": per_unit_mib(measurements, "validate", "pool.jsonl", "pool"),
              "sample": per_unit_mib(measurements, "subsample", None, "n")}
    steps = study["train"]["max_steps"]
    log_per_step = (per_unit_mib(measurements, "train", "train_log.json", "job") or 0.0) / 20  # 20 updates measured
    search = per_unit_mib(measurements, "search_zero_shot", None, "job") or 0.0  # a run and metrics, per benchmark

    def language(code: str, pool: int) -> dict:
        sizes, runs = study["trained"][code], len(study["trained"][code]) * study["seeds"] * study["methods"]
        return {"SWIM-IR parquet (pre-staged snapshot)": pool * record["parquet"],
                "prepare/pools JSONL": pool * record["pool"], "validate/<code>/pool.jsonl": pool * record["validated"],
                "subsample, every N x seed": sum(sizes) * study["seeds"] * record["sample"],
                f"train logs ({runs} runs, <= {steps:,} updates each)": runs * steps * log_per_step,
                "search + evaluate files": len(study["tests"][code]) * (runs + 1) * search,
                "students, only with keep_students": runs * weights}

    large = max(study["languages"], key=lambda c: max(study["trained"][c], default=0))  # controls train nothing
    per_language = {k: round(v) for k, v in language(large, SWIMIR_POOL).items()}
    per_corpus = {"embeddings (float32, 768)": study["corpus"] * 768 * 4 / MIB, "index (IndexFlatIP)": study["corpus"] * 768 * 4 / MIB,
                  "corpus JSONL": study["corpus"] * (per_unit_mib(measurements, "prepare_collection", None, "corpus") or 0.0)}
    corpora_mib = sum(per_corpus.values()) * (1 + XTREME_UP_CORPUS / study["corpus"])
    kept = total = 0.0
    for code in study["languages"]:
        largest_n = max(study["trained"][code], default=0)  # 0: a zero-data control, no pool
        parts = language(code, 0 if not largest_n else SWIMIR_POOL if largest_n > INDIC_POOL else INDIC_POOL)
        kept += parts.pop("students, only with keep_students")
        total += sum(parts.values())
    return {"language": large, "record_mib": record, "per_language_mib": per_language,
            "per_running_train_job_mib": {"student (temporary: deleted when its job has searched with it)": round(weights),
                                          "checkpoint: trained parameters, AdamW's two moments, best student": round(4 * weights),
                                          "its .partial copy while one is written": round(4 * weights)},
            "per_corpus_mib": {"passages": study["corpus"], **{k: round(v) for k, v in per_corpus.items()}},
            "study_gb": {"all but students": round((total + corpora_mib) * MIB / 1e9, 1),
                         "students, only with keep_students": round(kept * MIB / 1e9), "collections": round(corpora_mib * MIB / 1e9, 1)}}


def updates_per_run(train: dict, n: int) -> dict:
    """The bounds of a converged run's updates: it cannot stop before min_steps nor before `patience`
    evaluations without a new best (the earliest: the untrained student stays best), nor run past
    max_steps; a fixed budget runs max_steps."""
    if train["budget"] == "fixed":
        return {"least": train["max_steps"], "most": train["max_steps"]}
    earliest = max(train["min_steps"], train["patience"] * train["eval_every"])
    return {"least": min(earliest, train["max_steps"]), "most": train["max_steps"]}


def gpu_hours(study: dict) -> dict:
    """GPU-hours of training (bounds of the converged budget) and corpus encoding from FLOP counts, and
    the CPU-hours of exact search and of the dev searches inside training."""
    train = study["train"]
    runs = [(code, n) for code in study["languages"] for n in study["trained"][code]
            for _ in range(study["seeds"] * study["methods"])]
    params = parameters(MDPR_SHAPE)
    batch = train["batch_size"]
    update_flops = batch * (3 * forward_flops(MDPR_SHAPE, QUERY_TOKENS) + forward_flops(MDPR_SHAPE, COUNTERPART_TOKENS))
    update_s = update_flops / (GPU_TFLOPS * 1e12) + 16 * (params["embedding"] + params["non_embedding"]) / HBM_BYTES_PER_S
    result = {"train_runs": len(runs), "assumption": f"{GPU_TFLOPS:.0f} TFLOP/s sustained bf16; AdamW at "
              f"{HBM_BYTES_PER_S / 1e12:.2f} TB/s; no device was lent to measure", "update_tflop": round(update_flops / 1e12, 3),
              "update_ms_flop_bound": round(1000 * update_s, 2)}
    for bound in ("least", "most"):
        updates = sum(updates_per_run(train, n)[bound] for _, n in runs)
        evaluations = sum(updates_per_run(train, n)[bound] // train["eval_every"] + 1 for _, n in runs)
        dev_flops = evaluations * DEV_QUERIES * forward_flops(MDPR_SHAPE, QUERY_TOKENS)
        result[bound] = {"updates": updates, "dev_evaluations": evaluations,
                         "gpu_hours_flop_bound": round((updates * update_s + dev_flops / (GPU_TFLOPS * 1e12)) / 3600, 1),
                         **{f"gpu_hours_at_{ms}_ms": round(updates * ms / 1000 / 3600) for ms in STEP_MS},
                         # The dev search runs on the CPU of the training job (DevSet): the GPU waits meanwhile.
                         "dev_search_cpu_hours": round(evaluations * DEV_QUERIES * study["corpus"] * 768 * 2 / (CPU_GFLOPS * 1e9) / 3600, 1)}
    passages = study["corpus"] + XTREME_UP_CORPUS
    result["encode_passages"] = passages
    result["encode_gpu_hours_flop_bound"] = round(passages * forward_flops(MDPR_SHAPE, PASSAGE_TOKENS) / (GPU_TFLOPS * 1e12) / 3600, 3)
    searches = sum(len(study["tests"][code]) * (1 + len(study["trained"][code]) * study["seeds"] * study["methods"])
                   for code in study["languages"])
    result["searches"] = searches
    result["search_cpu_hours"] = round(searches * TEST_QUERIES * study["corpus"] * 768 * 2 / (CPU_GFLOPS * 1e9) / 3600, 1)
    return result


def extrapolate(measurements: list[dict], config_path: Path) -> dict:
    study = full_study(config_path)
    return {"memory_mib": memory(measurements, study), "disk": disk(measurements, study), "gpu": gpu_hours(study),
            "precompute": precompute_copies(measurements), "mdpr_parameters": parameters(MDPR_SHAPE),
            "mdpr_weights_mib": round(weights_mib(MDPR_SHAPE)), "scales_measured": [m["pool"] for m in measurements],
            "fits": {rule: {k: v for k, v in (fit(measurements, rule) or {}).items() if k != "measured"} for rule in DRIVERS}}


def describe(extrapolation: dict) -> str:
    lines = ["", "Full study with mDPR (perf/footprint_model.py says how):",
             f"{'job':40} {'tiny MiB':>9} {'mDPR MiB':>9}  how / model-bound part"]
    for r in extrapolation["memory_mib"]:
        lines.append(f"{r['job']:40} {r['tiny_mib']!s:>9} {r['mdpr_mib']!s:>9}  {r['how']}; {r['model']}")
    if extrapolation["precompute"]:
        lines.append(f"precompute vs on the fly: {extrapolation['precompute']}")
    d = extrapolation["disk"]
    lines += ["", f"disk per large language ({d['language']}), MiB:"]
    lines += [f"  {k:60} {v:>10,}" for k, v in d["per_language_mib"].items()]
    lines += [f"  per running train job: {k:45} {v:>10,}" for k, v in d["per_running_train_job_mib"].items()]
    lines += [f"  per collection: {k:52} {v:>10,}" for k, v in d["per_corpus_mib"].items()]
    lines += [f"  whole study, GB: {d['study_gb']}", "", f"compute: {extrapolation['gpu']}"]
    return "\n".join(lines)
