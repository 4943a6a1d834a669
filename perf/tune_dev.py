"""Choosing the training settings on the dev benchmark only: a grid of settings, each trained with the
``converged`` budget on the samples the pipeline draws, scored by the best dev Recall@50 of the run.

It reads what the pipeline prepared in a results directory — the validated pool, the dev benchmark's
queries and judgements, the teacher's encoding of the dev collection — and never a test benchmark. Run
the pipeline up to those files first, e.g. for the demo:

    snakemake --cores 2 results/validate/ny/pool.jsonl \\
        results/encode/minilm-l6/bible-ny-en-dev/corpus.npy
    python perf/tune_dev.py --results results --language ny --dev bible-ny-en-dev \\
        --sizes 32 1000 --lr 1e-4 2e-4 5e-4 --trainable-layers 1 2 --out dev_grid.tsv

Every other setting is the config's (``--config``, default config/config.yaml, its schema defaults
filled in); ``--set key=value`` overrides a ``train`` key for the whole grid. Each row: the setting, N,
seed, the best dev Recall@50 and its update, why the run stopped, the dev curve, and the run's CPU and
wall seconds (the CPU time is the figure to compare on a shared machine). The best dev recall of a run
is an optimistic estimate of that run (it was selected on the same queries); the grid compares
settings on equal terms, which is what it is for.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import time
from pathlib import Path

import numpy as np
import yaml

from swimscale.config import TeacherSettings, TrainSettings, validated
from swimscale.data import read_queries, sample_pool
from swimscale.jobs import set_job_environment
from swimscale.retrieval import read_qrels


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def parse_value(text: str):
    return yaml.safe_load(text)


def dev_set(results: Path, teacher: TeacherSettings, dev: str, collection: str):
    from swimscale.model import DevSet

    encoded = results / "encode" / teacher.name / collection
    bench = results / "prepare" / "benchmarks" / dev
    docids = (encoded / "docids.txt").read_text(encoding="utf-8").split()
    return DevSet(read_queries(bench / "queries.tsv"), np.load(encoded / "corpus.npy"), docids,
                  read_qrels(bench / "qrels.txt"), teacher)


def with_states(dev, teacher: TeacherSettings, train: TrainSettings):
    """The dev set with its queries' prefix states for this split (what the query_states rule writes)."""
    from swimscale.model import DevSet, encode_query_states, load_student

    tokenizer, student = load_student(teacher, train, None)
    if not student.cached:
        return dev
    qids = sorted(dev.queries)
    states = encode_query_states(tokenizer, student, qids, [dev.queries[q] for q in qids], teacher, train)
    return DevSet(dev.queries, dev.corpus, dev.docids, dev.qrels, teacher, states)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    parser.add_argument("--language", default="ny")
    parser.add_argument("--dev", default="bible-ny-en-dev", help="the dev benchmark (role: dev)")
    parser.add_argument("--collection", help="its collection (default: the benchmark's name)")
    parser.add_argument("--method", default="optical")
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--lr", type=float, nargs="+", default=[1e-4, 2e-4, 5e-4])
    parser.add_argument("--trainable-layers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a train key for every run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("dev_grid.tsv"))
    args = parser.parse_args()
    set_job_environment()
    import torch

    from swimscale.model import train_student

    torch.set_num_threads(args.threads)
    config = validated(yaml.safe_load(args.config.read_text()))
    if config["benchmarks"][args.dev]["role"] != "dev":
        raise SystemExit(f"{args.dev} is not a dev benchmark: settings are chosen on dev only")
    train = {**config["train"], **{k: parse_value(v) for k, v in (item.split("=", 1) for item in args.set)}}
    teacher = TeacherSettings.from_config(config)
    base = dev_set(args.results, teacher, args.dev, args.collection or args.dev)
    pool = args.results / "validate" / args.language / "pool.jsonl"
    rows = []
    for layers, lr in itertools.product(args.trainable_layers, args.lr):
        settings = {**train, "trainable_layers": layers, "freeze_embeddings": True, "lr": lr}
        cfg = TrainSettings.from_section(settings)
        dev = with_states(base, teacher, cfg)
        for size, seed in itertools.product(args.sizes, args.seeds):
            records, _ = sample_pool(pool, size, seed, code=args.language)
            cpu, wall = cpu_seconds(), time.perf_counter()
            _, log = train_student(records, teacher, cfg, args.method, seed, dev=dev, checkpoint_every=0, checkpoint_minutes=0)
            row = {"trainable_layers": layers, "lr": lr, "size": size, "seed": seed,
                   "dev_recall_at_50": log["dev_recall_at_best"], "untrained": log["dev_curve"][0][1],
                   "steps_at_best": log["steps_at_best"], "steps": log["steps"], "stopped_by": log["stopped_by"],
                   "cpu_seconds": round(cpu_seconds() - cpu, 1), "wall_seconds": round(time.perf_counter() - wall, 1),
                   "dev_curve": json.dumps(log["dev_curve"])}
            rows.append(row)
            print("\t".join(str(v) for k, v in row.items() if k != "dev_curve"), flush=True)
    with open(args.out, "w") as handle:
        handle.write("\t".join(rows[0]) + "\n")
        for row in rows:
            handle.write("\t".join(str(v) for v in row.values()) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
