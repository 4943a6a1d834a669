"""Choosing the learning rate and its warm-up (and, for the demo, the trained layers) on dev queries only:
a grid of settings, each trained with the config's budget on the samples the pipeline draws, scored by
the best dev Recall@50 of the run.

It reads what the pipeline prepared in the results folder (its paths from ``swimscale.config.Layout``)
— each language's validated pool, its dev benchmark's (``role: dev``) queries and judgements, the
teacher's encoding of that benchmark's collection — and never a test benchmark. ``--prepare`` first
runs Snakemake for exactly those files.

The full study's sweep (mDPR; docs/training.md, "lr and warm-up for mDPR"), one command on a GPU
machine with the data staged as docs/full_study.md says:

    python perf/tune_dev.py --preset mdpr --prepare

— 3 learning rates × {no warm-up, 100 updates of linear warm-up} on one high-resource language (hi,
CLIRMatrix dev) and one very-low-resource one (bho, XTREME-UP dev), N = 1,000 and 10,000, seed 0, full
fine-tuning, the ``optical`` arm, the full study's budget; it writes tune_dev_mdpr.tsv. Until it has
been run, config/full_study.yaml says its ``lr`` and ``warmup_steps`` are provisional.

The demo's grid (the figures are in docs/training.md):

    snakemake --cores 2 results/validate/ny/pool.jsonl results/encode/minilm-l6/bible-ny-en-dev/corpus.npy
    python perf/tune_dev.py --sizes 32 1000 --lr 1e-4 2e-4 5e-4 --trainable-layers 1 2 --out dev_grid.tsv

Every other setting is the config's (``--config``, default config/config.yaml, its schema defaults
filled in); ``--set key=value`` overrides a ``train`` key for the whole grid. Each row: the setting, the
language, N, seed, the best dev Recall@50 and its update and pass, why the run stopped, the dev curve,
and the run's CPU and wall seconds (the CPU time is the figure to compare on a shared machine). The best
dev recall of a run is an optimistic estimate of that run (it was selected on the same queries); the
grid compares settings on equal terms, which is what it is for.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from swimscale.config import Layout, TeacherSettings, TrainSettings, validated
from swimscale.data import read_queries, sample_pool
from swimscale.data.benchmarks import collection_of
from swimscale.jobs import set_job_environment
from swimscale.retrieval import read_qrels

#: The full study's sweep: --preset mdpr sets these (an explicit option still wins).
PRESETS = {
    "mdpr": {"config": "config/full_study.yaml", "languages": ["hi", "bho"], "sizes": [1000, 10000], "seeds": [0],
             "lr": [1e-5, 2e-5, 5e-5], "warmup_steps": [0, 100], "trainable_layers": ["config"],
             "out": "tune_dev_mdpr.tsv"},
}
DEFAULTS = {"config": "config/config.yaml", "languages": ["ny"], "sizes": [32, 1000], "seeds": [0],
            "lr": [1e-4, 2e-4, 5e-4], "warmup_steps": [0], "trainable_layers": ["1", "2"], "out": "dev_grid.tsv"}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def parse_value(text: str):
    return yaml.safe_load(text)


def dev_benchmark(config: dict, language: str) -> str:
    """The language's one dev benchmark (``role: dev``, its `language` or `pools`)."""
    found = [name for name, bench in config["benchmarks"].items()
             if bench["role"] == "dev" and language in (bench["pools"] or [bench["language"]])]
    if len(found) != 1:
        raise SystemExit(f"language {language}: {len(found)} dev benchmarks ({found}); settings are chosen on one")
    return found[0]


def inputs(layout: Layout, config: dict, language: str) -> dict[str, str]:
    """The files a language's grid reads: its validated pool, its dev benchmark's queries and qrels, the
    teacher's encoding of the dev collection."""
    dev = dev_benchmark(config, language)
    encoding = layout.encoding(collection_of(dev, config["benchmarks"][dev]))
    return {"pool": layout.validated_pool(language), **layout.benchmark_files(dev), **encoding}


def dev_set(files: dict[str, str], teacher: TeacherSettings):
    from swimscale.model import DevSet

    docids = Path(files["docids"]).read_text(encoding="utf-8").split()
    return DevSet(read_queries(Path(files["queries"])), np.load(files["embeddings"]), docids,
                  read_qrels(Path(files["qrels"])), teacher)


def with_states(dev, teacher: TeacherSettings, train: TrainSettings):
    """The dev set with its queries' prefix states for this split (what the query_states rule writes)."""
    from swimscale.model import DevSet, encode_query_states, load_student

    tokenizer, student = load_student(teacher, train, None)
    if not student.cached:
        return dev
    qids = sorted(dev.queries)
    states = encode_query_states(tokenizer, student, qids, [dev.queries[q] for q in qids], teacher, train)
    return DevSet(dev.queries, dev.corpus, dev.docids, dev.qrels, teacher, states)


def layers_setting(value: str) -> dict:
    """``--trainable-layers`` value → train keys: k (top k layers, frozen embeddings), or 'config'."""
    return {} if value == "config" else {"trainable_layers": int(value), "freeze_embeddings": True}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), help="a prepared sweep (its settings, unless given)")
    parser.add_argument("--prepare", action="store_true", help="run Snakemake for the files the grid reads first")
    parser.add_argument("--results", type=Path, help="the results folder (default: the config's results_dir)")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--languages", nargs="+")
    parser.add_argument("--method", default="optical")
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+")
    parser.add_argument("--lr", type=float, nargs="+")
    parser.add_argument("--warmup-steps", type=int, nargs="+")
    parser.add_argument("--trainable-layers", nargs="+", help="k (top k layers) or 'config' (the config's)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a train key for every run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    for key, value in {**DEFAULTS, **PRESETS.get(args.preset, {})}.items():
        if getattr(args, key) is None:
            setattr(args, key, Path(value) if key in ("config", "out") else value)
    return args


def prepare(config_path: Path, files: list[str]) -> None:
    """Runs the pipeline up to `files` (the pools, dev benchmarks and dev collections' encodings)."""
    command = [sys.executable, "-m", "snakemake", "--cores", "all", "--configfile", str(config_path), *files]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True)


def main():
    args = arguments()
    set_job_environment()
    import torch

    from swimscale.model import train_student

    torch.set_num_threads(args.threads)
    config = validated(yaml.safe_load(args.config.read_text()))
    teacher = TeacherSettings.from_config(config)
    layout = Layout(str(args.results or config["results_dir"]), teacher.name)
    files = {language: inputs(layout, config, language) for language in args.languages}
    if args.prepare:
        prepare(args.config, sorted({path for f in files.values() for path in f.values()}))
    train = {**config["train"], **{k: parse_value(v) for k, v in (item.split("=", 1) for item in args.set)}}
    rows = []
    for language in args.languages:
        base = dev_set(files[language], teacher)
        for layers, lr, warmup in itertools.product(args.trainable_layers, args.lr, args.warmup_steps):
            cfg = TrainSettings.from_section({**train, **layers_setting(layers), "lr": lr, "warmup_steps": warmup})
            dev = with_states(base, teacher, cfg)
            for size, seed in itertools.product(args.sizes, args.seeds):
                records, _ = sample_pool(Path(files[language]["pool"]), size, seed, code=language)
                cpu, wall = cpu_seconds(), time.perf_counter()
                _, log = train_student(records, teacher, cfg, args.method, seed, dev=dev, checkpoint_every=0,
                                       checkpoint_minutes=0)
                row = {"language": language, "trainable_layers": cfg.trainable_layers, "lr": lr, "warmup_steps": warmup,
                       "size": size, "seed": seed, "dev_recall_at_50": log["dev_recall_at_best"],
                       "untrained": log["dev_curve"][0][1], "steps_at_best": log["steps_at_best"],
                       "passes_at_best": log["passes_at_best"], "steps": log["steps"], "stopped_by": log["stopped_by"],
                       "cpu_seconds": round(cpu_seconds() - cpu, 1),
                       "wall_seconds": round(time.perf_counter() - wall, 1), "dev_curve": json.dumps(log["dev_curve"])}
                rows.append(row)
                print("\t".join(str(v) for k, v in row.items() if k != "dev_curve"), flush=True)
    with open(args.out, "w") as handle:
        handle.write("\t".join(rows[0]) + "\n")
        for row in rows:
            handle.write("\t".join(str(v) for v in row.values()) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
