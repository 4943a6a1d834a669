"""Does the full study fit real nodes? Peak memory and disk of every job type as the pool and N grow.

For each pool size (10k, 100k, 900k records; `--quick`: 10k only) this script synthesises a one-language
study with SWIM-IR's text lengths (English passages ~95 words with a title, queries ~10 words;
perf/synthetic.py): a local snapshot of a SWIM-IR Hub repository (parquet, read by `swimir_hf` as the
full study reads a pre-staged snapshot), a `trec` test benchmark (1,000 queries) and dev benchmark (500
queries) searching one shared collection, and a tiny randomly initialised BERT as teacher (the model
does not matter for the data stages; perf/footprint_model.py scales the model-bound parts to mDPR).
The collection grows with the pool up to `--corpus-cap` passages (22,222) and is then held, so that
from 100k to 900k only the pool grows. Then it runs the real workflow (Snakemake, this checkout's
rules and scripts, one job at a time) with the full study's training settings where they matter for
memory: full fine-tuning, batch 32, train max length 128, teacher max length 256, [CLS], the converged
budget with dev evaluations and checkpoints (20 updates: memory does not grow with updates), and
`train.teacher_tokens: on_the_fly` (`auto`'s choice on CUDA, the full study's). At one N (`--modes-at`,
10,000) the training job is run again with `precompute` (`auto`'s choice on CPU).

`--sweep` answers another question on one 10k pool: does any job's peak RSS change when a larger N
joins the sweep? It runs sizes [0, 100] and [0, 100, 6000] over the same inputs and compares every job
the two share.

Peak RSS: each job's own process reports its peak resident memory when it exits — VmHWM from
/proc/self/status, and getrusage's ru_maxrss of its children — through a `sitecustomize` hook put on
the jobs' PYTHONPATH by this script only; the job code is unchanged. Disk: the sizes of each job's
declared outputs when it exits (a temporary student is still there), and of the inputs and results.
Figures measured on a shared machine: RSS is not affected by other processes, wall times are upper
bounds.

    python perf/scale.py --quick                          # 10k only (a few minutes)
    python perf/scale.py --scales 10000 100000 --json a.json
    python perf/scale.py --scales 900000 --json b.json
    python perf/scale.py --sweep --json sweep.json
    python perf/scale.py --from-json a.json b.json sweep.json --json docs/footprint_measurements.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import footprint_model  # noqa: E402
from synthetic import TINY_SHAPE, TextMaker, pool_records, random_bert, vocabulary  # noqa: E402

SCALES = (10_000, 100_000, 900_000)
CORPUS_CAP = 22_222
LANGUAGE, BENCHMARK, DEV_BENCHMARK, COLLECTION = "yo", "synthetic-yo", "synthetic-yo-dev", "synthetic-en"
N_QUERIES, N_DEV_QUERIES = 1000, 500
SWEEPS = ([0, 100], [0, 100, 6000])
SWEEP_POOL = 10_000

HOOK = '''"""perf/scale.py's probe: every Snakemake job process records its peak RSS and outputs at exit."""
import atexit, json, os, resource, sys, time

_LOG, _START = os.environ.get("SWIMSCALE_RSS_LOG"), time.time()


def _size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    return os.path.getsize(path) if os.path.exists(path) else None


def _peak_kib():
    """VmHWM: the peak RSS of this process's own address space. ru_maxrss is no use for it: Linux keeps
    the high-water mark across exec, so it never reads below the forking parent's RSS (Snakemake's)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _record():
    job = getattr(sys.modules.get("__main__"), "snakemake", None)
    if job is None:
        return
    entry = {"rule": job.rule, "wildcards": dict(job.wildcards.items()), "rss_kib": _peak_kib(),
             "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
             "children_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
             "seconds": round(time.time() - _START, 2), "outputs": {str(p): _size(str(p)) for p in job.output}}
    with open(_LOG, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\\n")


if _LOG:
    atexit.register(_record)
'''


def plan(pool_size: int, corpus_cap: int = CORPUS_CAP) -> dict:
    """What one scale runs: two trained sizes (1,000 and the largest the full study trains, capped by
    the pool) and a collection growing with the pool up to `corpus_cap` passages."""
    return {"pool": pool_size, "sizes": [0, 1000, min(256_000, pool_size)],
            "corpus": min(corpus_cap, round(pool_size * 2 / 9)), "queries": N_QUERIES, "dev_queries": N_DEV_QUERIES}


def write_snapshot(folder: Path, maker: TextMaker, n: int) -> Path:
    """A local snapshot of a SWIM-IR Hub repository with one language (README configs + parquet)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / LANGUAGE).mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text(
        f"---\nconfigs:\n- config_name: {LANGUAGE}\n  data_files:\n  - split: train\n    path: {LANGUAGE}/train-*.parquet\n"
        "---\n# synthetic SWIM-IR-like records (perf/scale.py)\n", encoding="utf-8")
    writer = None
    for start in range(0, n, 50_000):
        rows = pool_records(maker, min(50_000, n - start), LANGUAGE)
        for offset, row in enumerate(rows):
            row["_id"] = f"{LANGUAGE}-{start + offset}"
        table = pa.Table.from_pylist(rows)
        writer = writer or pq.ParquetWriter(folder / LANGUAGE / "train-00000-of-00001.parquet", table.schema)
        writer.write_table(table)
    writer.close()
    return folder


def write_benchmarks(folder: Path, maker: TextMaker, scale: dict) -> dict:
    """TREC files: one corpus with titles, and a test and a dev set of queries, one relevant passage each."""
    folder.mkdir(parents=True, exist_ok=True)
    n_corpus, corpus = scale["corpus"], folder / "corpus.jsonl"
    with open(corpus, "w", encoding="utf-8") as handle:
        for i in range(n_corpus):
            handle.write(json.dumps({"docid": f"d{i}", "title": maker.title(), "text": maker.passage()}) + "\n")
    files = {}
    for name, n_queries, offset in ((BENCHMARK, scale["queries"], 0), (DEV_BENCHMARK, scale["dev_queries"], 1)):
        queries, qrels = folder / f"{name}.queries.tsv", folder / f"{name}.qrels.txt"
        queries.write_text("".join(f"q{i}\t{maker.query()}\n" for i in range(n_queries)), encoding="utf-8")
        step = max(1, n_corpus // n_queries)
        qrels.write_text("".join(f"q{i} 0 d{(i * step + offset) % n_corpus} 1\n" for i in range(n_queries)))
        files[name] = {"queries": str(queries), "corpus": str(corpus), "qrels": str(qrels)}
    return files


def study_config(work: Path, sizes: list[int], inputs: dict, teacher_tokens: str = "on_the_fly") -> dict:
    """The synthetic study with the full study's settings where they matter for memory and disk."""
    benchmarks = {name: {"source": "trec", "language": LANGUAGE, "collection": COLLECTION, **files}
                  for name, files in inputs["benchmarks"].items()}
    benchmarks[DEV_BENCHMARK]["role"] = "dev"
    return {
        "languages": [LANGUAGE], "sizes": sizes, "seeds": [0], "methods": ["optical"], "allow_cpu": True,
        "results_dir": "results", "data_dir": str(work / "data"),
        "teacher": {"name": "tiny-bert", "model": str(inputs["teacher"]), "max_length": 256, "batch_size": 64,
                    "pooling": "cls", "normalize": False, "passage_format": "{title} {text}"},
        "pools": {LANGUAGE: {"source": "swimir_hf", "dataset": str(inputs["snapshot"])}},
        "benchmarks": benchmarks,
        "train": {"budget": "converged", "max_steps": 20, "min_steps": 0, "eval_every": 10, "patience": 5,
                  "batch_size": 32, "max_length": 128, "trainable_layers": None, "freeze_embeddings": False,
                  "teacher_tokens": teacher_tokens},
        "checkpoint_every": 10, "search": {"k": 100}, "analysis": {"n_boot": 200, "n_boot_fit": 20},
    }


def run_workflow(work: Path, config: dict, probe_log: Path, *args: str) -> dict:
    """The real workflow on the synthetic study, one job at a time; every job probed."""
    config_path = probe_log.with_suffix(".yaml")
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    hook = work / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    env = {**os.environ, "SWIMSCALE_RSS_LOG": str(probe_log), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(work),
               "--configfile", str(config_path), "--cores", "1", "--keep-going", *args]
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    return {"returncode": result.returncode, "seconds": round(time.perf_counter() - start, 1),
            "output_tail": (result.stdout + result.stderr)[-4000:] if result.returncode else ""}


def job_label(job: dict, tag: str = "") -> str:
    """The job type, with N for the jobs whose footprint depends on it (and the benchmark for
    prepare_benchmark, which runs once per benchmark)."""
    wildcards = job["wildcards"]
    label = job["rule"]
    if "size" in wildcards:
        label += f" n={wildcards['size']}"
    elif job["rule"] == "prepare_benchmark":
        label += " dev" if wildcards.get("benchmark", "").endswith("-dev") else " test"
    return f"{label} {tag}".strip()


def read_jobs(probe_log: Path, tag: str = "") -> list[dict]:
    jobs = []
    for line in probe_log.read_text(encoding="utf-8").splitlines() if probe_log.exists() else []:
        job = json.loads(line)
        jobs.append({"job": job_label(job, tag), "rule": job["rule"], "wildcards": job["wildcards"], "tag": tag,
                     "complete": all(size is not None for size in job["outputs"].values()),
                     "peak_rss_mib": round(max(job["rss_kib"], job["children_rss_kib"]) / 1024, 1),
                     "seconds": job["seconds"], "output_mib": round(sum(v or 0 for v in job["outputs"].values()) / 2**20, 3),
                     "outputs_mib": {Path(k).name: round((v or 0) / 2**20, 3) for k, v in job["outputs"].items()}})
    return jobs


def folder_mib(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1) if path.exists() else 0.0


def synthesise(work: Path, scale: dict) -> dict:
    """The inputs of one scale: the pool snapshot, the benchmarks' files and the tiny teacher."""
    from transformers import AutoTokenizer

    from swimscale.model import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("bundled:all-MiniLM-L6-v2"))
    maker = TextMaker(vocabulary(tokenizer), seed=scale["pool"])
    start = time.perf_counter()
    inputs = {"snapshot": write_snapshot(work / "input" / "swim-ir-cross-lingual", maker, scale["pool"]),
              "benchmarks": write_benchmarks(work / "input" / "benchmark", maker, scale),
              "teacher": random_bert(work / "input" / "tiny-bert", TINY_SHAPE, tokenizer)}
    inputs["synthesis_seconds"] = round(time.perf_counter() - start, 1)
    inputs["passage_tokens"] = passage_tokens(tokenizer, TextMaker(vocabulary(tokenizer), seed=1))
    return inputs


def passage_tokens(tokenizer, maker: TextMaker, n: int = 500) -> float:
    """Mean word pieces of a training counterpart (a passage, without title: what the teacher encodes
    for a record) within the teacher's 256, special tokens left out (what a precomputed run keeps)."""
    lengths = [len(tokenizer(maker.passage(), truncation=True, max_length=256)["input_ids"]) - 2 for _ in range(n)]
    return round(sum(lengths) / n, 1)


def measure(pool_size: int, root: Path, keep: bool, corpus_cap: int, modes_at: int | None) -> dict:
    """Synthesises one scale, runs the workflow on it (and at `modes_at` the training job again with
    precomputed teacher tokens), and returns its jobs' figures."""
    work = root / f"pool{pool_size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    scale = plan(pool_size, corpus_cap)
    inputs = synthesise(work, scale)
    run = run_workflow(work, study_config(work, scale["sizes"], inputs), work / "probe.jsonl")
    jobs = read_jobs(work / "probe.jsonl")
    if modes_at in scale["sizes"]:
        target = f"results/train/{LANGUAGE}/optical/seed0/n{modes_at}/train_log.json"
        config = study_config(work, scale["sizes"], inputs, "precompute")
        # The target before --forcerun, which takes every word after it.
        run["precompute"] = run_workflow(work, config, work / "probe-precompute.jsonl", target, "--forcerun", "train")
        jobs += [job for job in read_jobs(work / "probe-precompute.jsonl", "precompute")
                 if job["rule"] == "train" and job["wildcards"]["size"] == str(modes_at)]
    result = {**scale, "synthesis_seconds": inputs["synthesis_seconds"], "passage_tokens": inputs["passage_tokens"],
              **run, "jobs": jobs,
              "disk_mib": {"input_snapshot": folder_mib(inputs["snapshot"]), "input_benchmarks": folder_mib(work / "input" / "benchmark"),
                           "data_dir": folder_mib(work / "data"), "results": folder_mib(work / "results")}}
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def sweep(root: Path, keep: bool) -> dict:
    """Sizes [0, 100] and [0, 100, 6000] over the same 10k pool and benchmarks: every job's peak RSS in
    both, and the largest difference between the jobs the two sweeps share."""
    work = root / "sweep"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    scale = plan(SWEEP_POOL)
    inputs = synthesise(work, scale)
    runs = []
    for sizes in SWEEPS:
        folder = work / ("sizes-" + "-".join(map(str, sizes)))
        folder.mkdir()
        run = run_workflow(folder, study_config(folder, sizes, inputs), folder / "probe.jsonl")
        runs.append({"sizes": sizes, **run, "jobs": read_jobs(folder / "probe.jsonl")})
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return {"pool": SWEEP_POOL, "corpus": scale["corpus"], "runs": runs, "comparison": compare_sweeps(*runs)}


def compare_sweeps(small: dict, large: dict) -> dict:
    """Per job label in both sweeps: its peak RSS in each and the difference (large - small), MiB."""
    a = {job["job"]: job["peak_rss_mib"] for job in small["jobs"]}
    b = {job["job"]: job["peak_rss_mib"] for job in large["jobs"]}
    shared = {label: {"small": a[label], "large": b[label], "diff": round(b[label] - a[label], 1)}
              for label in sorted(a.keys() & b.keys())}
    largest = max(shared.items(), key=lambda item: abs(item[1]["diff"]), default=(None, {"diff": 0.0}))
    return {"shared": shared, "only_in_large": sorted(b.keys() - a.keys()), "only_in_small": sorted(a.keys() - b.keys()),
            "largest_diff_job": largest[0], "largest_abs_diff_mib": abs(largest[1]["diff"])}


def table(measurements: list[dict]) -> str:
    """Peak RSS (MiB), outputs (MiB) and wall time (s) per job type, one column group per pool size.
    The largest N of a scale is shown as N_max (10k, 100k, 256k)."""
    scales = [m["pool"] for m in measurements]
    rows: dict[str, dict[int, dict]] = {}
    for m in measurements:
        for job in m["jobs"]:
            rows.setdefault(footprint_model.label(job, m), {})[m["pool"]] = job
    lines = [f"{'job':32}" + "".join(f" | {f'pool {s:,}':^30}" for s in scales),
             f"{'':32}" + "".join(f" | {'RSS MiB':>9} {'out MiB':>9} {'wall s':>8}" for _ in scales)]
    for label in sorted(rows):
        if label.endswith(" precompute") and not label.startswith("train "):
            continue  # an earlier version re-ran the whole workflow with precompute: only train differs
        cells = "".join(f" | {rows[label][s]['peak_rss_mib']:>9} {rows[label][s]['output_mib']:>9.2f} {rows[label][s]['seconds']:>7}"
                        + ("!" if not rows[label][s]["complete"] else " ")
                        if s in rows[label] else f" | {'':>28}" for s in scales)
        lines.append(f"{label:32}{cells}")
    if any(not job["complete"] for m in measurements for job in m["jobs"]):
        lines.append("(!: the job failed; its figures are up to the failure)")
    for m in measurements:
        lines.append(f"pool {m['pool']:,}: N = {m['sizes'][1:]}, corpus {m['corpus']:,}, workflow {m['seconds']} s "
                     f"(synthesis {m['synthesis_seconds']} s), exit {m['returncode']}; disk MiB {m['disk_mib']}; "
                     f"{m['passage_tokens']} word pieces per passage")
    return "\n".join(lines)


def sweep_table(result: dict) -> str:
    comparison = result["comparison"]
    lines = [f"sweep over one pool of {result['pool']:,} (corpus {result['corpus']:,}): peak RSS MiB",
             f"{'job':32} {'[0, 100]':>10} {'[0, 100, 6000]':>15} {'diff':>8}"]
    lines += [f"{label:32} {row['small']:>10} {row['large']:>15} {row['diff']:>8}" for label, row in comparison["shared"].items()]
    lines.append(f"only in [0, 100, 6000]: {', '.join(comparison['only_in_large'])}")
    lines.append(f"largest difference: {comparison['largest_abs_diff_mib']} MiB ({comparison['largest_diff_job']}); "
                 f"exit codes {[run['returncode'] for run in result['runs']]}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 10k pool only")
    parser.add_argument("--scales", type=int, nargs="+", default=list(SCALES))
    parser.add_argument("--corpus-cap", type=int, default=CORPUS_CAP, help="largest collection (passages)")
    parser.add_argument("--modes-at", type=int, default=10_000, help="N at which train also runs with precompute")
    parser.add_argument("--sweep", action="store_true", help="sizes [0, 100] against [0, 100, 6000] on one pool")
    parser.add_argument("--work", type=Path, default=Path("/tmp/swimscale-scale"), help="scratch folder")
    parser.add_argument("--keep", action="store_true", help="keep each scale's files")
    parser.add_argument("--json", type=Path, help="write measurements and extrapolation here")
    parser.add_argument("--from-json", type=Path, nargs="+", help="re-extrapolate earlier measurements (one or more "
                        "--json files of this script), run nothing")
    args = parser.parse_args()
    measurements, sweeps = [], []
    if args.from_json:
        for path in args.from_json:
            saved = json.loads(path.read_text())
            measurements += saved.get("measurements", [])
            sweeps += [saved["sweep"]] if saved.get("sweep") else []
    elif args.sweep:
        sweeps.append(sweep(args.work, args.keep))
    else:
        for pool_size in [10_000] if args.quick else args.scales:
            measurements.append(measure(pool_size, args.work, args.keep, args.corpus_cap, args.modes_at))
            print(table(measurements[-1:]), flush=True)
    measurements.sort(key=lambda m: m["pool"])
    saved = {"measurements": measurements, "sweep": sweeps[-1] if sweeps else None}
    if len(measurements) >= 2:
        saved["extrapolation"] = footprint_model.extrapolate(measurements, ROOT / "config" / "full_study.yaml")
    if args.json:
        args.json.write_text(json.dumps(saved, indent=1) + "\n")
    if measurements:
        print(table(measurements))
    if sweeps:
        print(sweep_table(sweeps[-1]))
    if "extrapolation" in saved:
        print(footprint_model.describe(saved["extrapolation"]))


if __name__ == "__main__":
    main()
