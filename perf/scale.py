"""Does the full study fit real nodes? Peak memory and disk of every job type as the pool and N grow.

For each pool size (10k, 100k, 900k records; `--quick`: 10k only) this script synthesises a study with
SWIM-IR's text lengths (English passages ~95 words with a title, queries ~10 words; perf/synthetic.py):
a local Hub snapshot of one language (parquet + README, read by `swimir_hf` through `datasets`, as the
full study reads SWIM-IR), a `trec` benchmark of 1,000 queries over a corpus growing with the pool (to
200k passages, CLIRMatrix's corpus_size), and a tiny randomly initialised BERT as teacher (the model
does not matter for the data stages; the model-bound figures are scaled to mDPR by
perf/footprint_model.py). Then it runs the real workflow on it (Snakemake, this checkout's rules and
scripts, one job at a time) and records, for every job, its peak RSS and the bytes of its outputs.

Peak RSS: each job's own process reports its peak resident memory when it exits — VmHWM from
/proc/self/status, and getrusage's ru_maxrss of its children (getrusage's own figure for the job is
kept too, but Linux carries it across exec, so it never reads below Snakemake's ~165 MiB) — through a
`sitecustomize` hook put on the jobs' PYTHONPATH by this script only; the job code is unchanged. Disk: the sizes of each job's declared outputs, plus the Hugging Face
cache that prepare_pool fills under data_dir. Figures measured on a shared machine: RSS is not affected
by other processes, wall times are upper bounds.

    python perf/scale.py --quick                      # 10k only (a few minutes)
    python perf/scale.py --scales 10000 100000        # then extrapolate from these
    python perf/scale.py --json scale.json [--gpu-check gpu_check.json]
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
LANGUAGE, BENCHMARK = "yo", "synthetic-yo"
N_QUERIES = 1000

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


def plan(pool_size: int) -> dict:
    """What one scale runs: two trained sizes (1,000 and the largest the full study trains, capped by
    the pool) and a corpus growing with the pool up to 200k passages."""
    return {"pool": pool_size, "sizes": [0, 1000, min(256_000, pool_size)],
            "corpus": min(200_000, round(pool_size * 2 / 9)), "queries": N_QUERIES}


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


def write_benchmark(folder: Path, maker: TextMaker, n_queries: int, n_corpus: int) -> dict:
    """TREC files: queries, a corpus with titles, one relevant passage per query."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {key: folder / name for key, name in (("queries", "queries.tsv"), ("corpus", "corpus.jsonl"),
                                                  ("qrels", "qrels.txt"))}
    with open(paths["corpus"], "w", encoding="utf-8") as corpus:
        for i in range(n_corpus):
            corpus.write(json.dumps({"docid": f"d{i}", "title": maker.title(), "text": maker.passage()}) + "\n")
    paths["queries"].write_text("".join(f"q{i}\t{maker.query()}\n" for i in range(n_queries)), encoding="utf-8")
    step = max(1, n_corpus // n_queries)
    paths["qrels"].write_text("".join(f"q{i} 0 d{(i * step) % n_corpus} 1\n" for i in range(n_queries)))
    return {key: str(path) for key, path in paths.items()}


def study_config(work: Path, scale: dict, snapshot: Path, benchmark: dict, teacher: Path) -> dict:
    """The synthetic study: the full study's settings where they matter for footprint (teacher max
    length 256, [CLS]; train batch 32, max length 128; k = 100), a short training budget (memory does
    not grow with steps) and a small bootstrap. teacher.normalize stays at its default: it changes no
    size, and the search script passes it only once it is wired (branch m2)."""
    return {
        "languages": [LANGUAGE], "sizes": scale["sizes"], "seeds": [0], "methods": ["optical"],
        "allow_cpu": True, "results_dir": "results", "data_dir": str(work / "data"),
        "teacher": {"name": "tiny-bert", "model": str(teacher), "max_length": 256, "batch_size": 64,
                    "pooling": "cls"},
        "pools": {LANGUAGE: {"source": "swimir_hf", "dataset": str(snapshot)}},
        "benchmarks": {BENCHMARK: {"source": "trec", "language": LANGUAGE, **benchmark}},
        "train": {"batch_size": 32, "max_length": 128, "epochs": 1, "min_steps": 0, "max_steps": 20},
        "checkpoint_every": 0, "search": {"k": 100}, "analysis": {"n_boot": 200, "n_boot_fit": 20},
    }


def run_workflow(work: Path, config: Path, probe_log: Path, hook_dir: Path) -> dict:
    """The real workflow on the synthetic study, one job at a time; every job probed."""
    env = {**os.environ, "SWIMSCALE_RSS_LOG": str(probe_log), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(hook_dir), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(work),
               "--configfile", str(config), "--cores", "1", "--keep-going"]
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    return {"returncode": result.returncode, "seconds": round(time.perf_counter() - start, 1),
            "output_tail": (result.stdout + result.stderr)[-4000:] if result.returncode else ""}


def job_label(job: dict) -> str:
    """The job type, with N for the jobs whose footprint depends on it."""
    size = job["wildcards"].get("size")
    return f"{job['rule']} n={size}" if size else job["rule"]


def read_jobs(probe_log: Path) -> list[dict]:
    jobs = []
    for line in probe_log.read_text(encoding="utf-8").splitlines() if probe_log.exists() else []:
        job = json.loads(line)
        jobs.append({"job": job_label(job), "rule": job["rule"], "wildcards": job["wildcards"],
                     "complete": all(size is not None for size in job["outputs"].values()),
                     "peak_rss_mib": round(max(job["rss_kib"], job["children_rss_kib"]) / 1024, 1),
                     "seconds": job["seconds"], "output_mib": round(sum(v or 0 for v in job["outputs"].values()) / 2**20, 2)})
    return jobs


def folder_mib(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1) if path.exists() else 0.0


def measure(pool_size: int, root: Path, keep: bool) -> dict:
    """Synthesises one scale, runs the workflow on it, and returns its jobs' figures."""
    work = root / f"pool{pool_size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "hook").mkdir()
    (work / "hook" / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    scale = plan(pool_size)
    from transformers import AutoTokenizer

    from swimscale.model import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("bundled:all-MiniLM-L6-v2"))
    maker = TextMaker(vocabulary(tokenizer), seed=pool_size)
    start = time.perf_counter()
    snapshot = write_snapshot(work / "input" / "swim-ir-cross-lingual", maker, pool_size)
    benchmark = write_benchmark(work / "input" / "benchmark", maker, scale["queries"], scale["corpus"])
    teacher = random_bert(work / "input" / "tiny-bert", TINY_SHAPE, tokenizer)
    config = work / "study.yaml"
    config.write_text(yaml.safe_dump(study_config(work, scale, snapshot, benchmark, teacher)), encoding="utf-8")
    synthesis_seconds = round(time.perf_counter() - start, 1)
    run = run_workflow(work, config, work / "probe.jsonl", work / "hook")
    result = {**scale, "synthesis_seconds": synthesis_seconds, **run, "jobs": read_jobs(work / "probe.jsonl"),
              "disk_mib": {"input_snapshot": folder_mib(snapshot), "input_corpus": folder_mib(work / "input" / "benchmark"),
                           "hf_cache": folder_mib(work / "data" / "huggingface"),
                           "results": folder_mib(work / "results")}}
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def table(measurements: list[dict]) -> str:
    """Peak RSS (MiB) and output size (MiB) per job type, one column pair per pool size."""
    scales = [m["pool"] for m in measurements]
    rows: dict[str, dict[int, dict]] = {}
    for m in measurements:
        for job in m["jobs"]:
            label = job["job"].replace(f"n={m['sizes'][-1]}", "n=N_max") if m["sizes"][-1] != 1000 else job["job"]
            rows.setdefault(label, {})[m["pool"]] = job
    header = f"{'job':28}" + "".join(f" | {f'pool {s:,}':^30}" for s in scales)
    lines = [header, f"{'':28}" + "".join(f" | {'RSS MiB':>9} {'out MiB':>9} {'wall s':>8}" for _ in scales)]
    for label in sorted(rows):
        cells = "".join(f" | {rows[label][s]['peak_rss_mib']:>9} {rows[label][s]['output_mib']:>9} {rows[label][s]['seconds']:>7}"
                        + ("!" if not rows[label][s]["complete"] else " ")
                        if s in rows[label] else f" | {'':>28}" for s in scales)
        lines.append(f"{label:28}{cells}")
    if any(not job["complete"] for m in measurements for job in m["jobs"]):
        lines.append("(!: the job failed; its figures are up to the failure)")
    for m in measurements:
        lines.append(f"pool {m['pool']:,}: N = {m['sizes'][1:]}, corpus {m['corpus']:,}, workflow {m['seconds']} s "
                     f"(synthesis {m['synthesis_seconds']} s), exit {m['returncode']}; disk MiB {m['disk_mib']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 10k pool only")
    parser.add_argument("--scales", type=int, nargs="+", default=list(SCALES))
    parser.add_argument("--work", type=Path, default=Path("/tmp/swimscale-scale"), help="scratch folder")
    parser.add_argument("--keep", action="store_true", help="keep each scale's files")
    parser.add_argument("--json", type=Path, help="write measurements and extrapolation here")
    parser.add_argument("--gpu-check", type=Path, help="perf/gpu_check.py's JSON: measured GPU rates")
    parser.add_argument("--from-json", type=Path, nargs="+", help="re-extrapolate earlier measurements (one or more "
                        "--json files of this script), run nothing")
    args = parser.parse_args()
    if args.from_json:
        measurements = sorted((m for path in args.from_json for m in json.loads(path.read_text())["measurements"]),
                              key=lambda m: m["pool"])
    else:
        scales = [10_000] if args.quick else args.scales
        measurements = []
        for pool_size in scales:
            measurements.append(measure(pool_size, args.work, args.keep))
            print(table(measurements[-1:]), flush=True)
    gpu = json.loads(args.gpu_check.read_text()) if args.gpu_check else None
    extrapolation = footprint_model.extrapolate(measurements, ROOT / "config" / "full_study.yaml", gpu)
    if args.json:
        args.json.write_text(json.dumps({"measurements": measurements, "extrapolation": extrapolation}, indent=1) + "\n")
    print(table(measurements))
    print(footprint_model.describe(extrapolation))


if __name__ == "__main__":
    main()
