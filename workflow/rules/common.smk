import os
import re
import sys
from pathlib import Path

from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

# Jobs import the tested library from this checkout, also inside --use-conda environments and on
# cluster nodes (where Snakemake re-reads this file).
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(
            None, [str(Path(workflow.basedir) / "src"), os.environ.get("PYTHONPATH")]
        )
    )
)
# Idle OpenMP threads sleep instead of spinning: spinning threads of two jobs sharing two cores made
# work up to 35x slower on our machines. Set here, before any job starts torch (too late inside it).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Checks that stop bad input before any job (names in paths, the model, input files): swimscale.validate,
# imported from this checkout (it needs neither torch nor the installed package).
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from swimscale import config as checks
from swimscale.data import HF_LANGUAGES

checks.check_config(config)

RESULTS = config["results_dir"]
TEACHER = config["teacher"]["name"]


def check_config():
    """Cross-key checks the schema cannot express; each names the offending key. Nothing here reads
    the data or the network: a dry run works offline."""
    for code in config["languages"]:
        if code not in config["pools"]:
            raise ValueError(
                f"config 'languages': '{code}' has no entry under 'pools' (known: {', '.join(config['pools'])})"
            )
    for name, bench in config["benchmarks"].items():
        if bench["language"] not in config["pools"]:
            raise ValueError(
                f"config 'benchmarks.{name}.language': unknown language '{bench['language']}'"
            )
        for code in bench.get("pools") or []:
            if code not in config["pools"]:
                raise ValueError(
                    f"config 'benchmarks.{name}.pools': unknown language '{code}'"
                )
        if bench["source"] == "bible" and name != f"bible-{bench['language']}-en":
            raise ValueError(
                f"config 'benchmarks.{name}': a bible benchmark must be named bible-{bench['language']}-en"
            )
        for key in BENCHMARK_KEYS.get(bench["source"], ()):
            if not bench.get(key):
                raise ValueError(
                    f"config 'benchmarks.{name}.{key}': required for source {bench['source']}"
                )
        if (
            bench["source"] == "xtreme_up"
            and bench["language"] not in XTREME_UP_LANGUAGES
        ):
            raise ValueError(
                f"config 'benchmarks.{name}.language': XTREME-UP's cross-language retrieval has no "
                f"'{bench['language']}' (it has {', '.join(XTREME_UP_LANGUAGES)})"
            )
    for code, pool in config["pools"].items():
        if pool["source"] == "bible" and code != "ny":
            raise ValueError(
                f"config 'pools.{code}': the bundled Bible pairs are Chichewa only (code ny)"
            )
        if pool["source"] == "bible" and not pool.get("language_name"):
            raise ValueError(
                f"config 'pools.{code}.language_name': required for source bible"
            )
        if pool["source"] == "swimir_local" and not pool.get("path"):
            raise ValueError(
                f"config 'pools.{code}.path': required for source swimir_local (the extracted SWIM-IR release)"
            )
        known = HF_LANGUAGES.get(pool.get("dataset"))
        if pool["source"] == "swimir_hf" and known is not None and code not in known:
            raise ValueError(
                f"config 'pools.{code}': {pool['dataset']} has no language '{code}' (it has {', '.join(known)})"
            )
    for code in config["languages"]:
        if not benchmarks_of(code):
            raise ValueError(f"config 'benchmarks': no benchmark has language '{code}'")


# Keys each benchmark source needs (the schema documents them all).
BENCHMARK_KEYS = {"ir_datasets": ("id",), "trec": ("queries", "corpus", "qrels")}
# XTREME-UP's cross-language retrieval languages (google-research/xtreme-up, evaluation/constants.py).
XTREME_UP_LANGUAGES = "ar bn fi ko ru te as bho brx gbm gom gu hi hne kn mai ml mni mr mwr or pa ps sa ta ur".split()
DATA_DIR = config["data_dir"]


def benchmarks_of(code):
    """The benchmarks a language's students are evaluated on: those in its language, and those whose
    `pools` list names it (one corpus encoding per benchmark and teacher, however many use it).
    """
    return [
        name
        for name, bench in config["benchmarks"].items()
        if code in (bench.get("pools") or [bench["language"]])
    ]


def pool_sizes(code):
    """The sizes N of a language: its pool's own `sizes`, else the global `sizes`."""
    return sorted(config["pools"][code].get("sizes") or config["sizes"])


def one_of(names):
    """A wildcard regex matching exactly these names (and nothing when there are none)."""
    names = sorted(names)
    return "|".join(re.escape(n) for n in names) if names else "(?!)"


def pools_from(*sources):
    return [c for c, p in config["pools"].items() if p["source"] in sources]


def benchmarks_from(*sources):
    return [n for n, b in config["benchmarks"].items() if b["source"] in sources]


check_config()


wildcard_constraints:
    language="[a-z]{2,3}",
    benchmark="[A-Za-z0-9][A-Za-z0-9_.-]*",
    method="[a-z_]+",
    seed="[0-9]+",
    size="[1-9][0-9]*",


def trained_sizes(code=None):
    """Sizes N > 0 of a language (per-pool `sizes`), or of the global `sizes` without a code."""
    sizes = pool_sizes(code) if code is not None else sorted(config["sizes"])
    return [size for size in sizes if size > 0]


def subsample_files(wildcards):
    """Every sample of a language's pool that some training run uses, and the language's validation
    report: no training (teacher_tokens, then train) starts before its input has passed the checks.
    """
    return expand(
        f"{RESULTS}/subsample/{wildcards.language}/seed{{seed}}/n{{size}}.jsonl",
        seed=config["seeds"],
        size=trained_sizes(wildcards.language),
    ) + [f"{RESULTS}/validate/{wildcards.language}.json"]


def benchmark_files(name):
    """The prepared files of a benchmark, by role."""
    return {
        role: f"{RESULTS}/prepare/benchmarks/{name}/{file}"
        for role, file in (
            ("queries", "queries.tsv"),
            ("corpus", "corpus.jsonl"),
            ("qrels", "qrels.txt"),
        )
    }


def sweep_points():
    """One dict per recall-table row: where its run, evaluation and training log are.

    With `partial: true`, only the points whose files all exist (the runs that finished, e.g. after a
    --keep-going run in which some jobs failed): the tables are built from what finished, and
    missing_points() lists the rest (results/tables/missing.tsv)."""
    points = all_sweep_points()
    if config["partial"]:
        points = [point for point in points if point_finished(point)]
        if not points:
            raise checks.InputError(
                "config 'partial': no run of the sweep has finished yet, so there is nothing to tabulate"
            )
    return points


def point_files(point):
    return [
        point[key]
        for key in ("metrics_file", "train_log", "run_file", "qrels_file")
        if point[key]
    ]


def point_finished(point):
    return all(os.path.exists(path) for path in point_files(point))


def missing_points():
    """The points of the sweep that are not in the tables (only with `partial: true`), each with the
    first file it lacks."""
    if not config["partial"]:
        return []
    return [
        {
            **point,
            "missing": next(p for p in point_files(point) if not os.path.exists(p)),
        }
        for point in all_sweep_points()
        if not point_finished(point)
    ]


def all_sweep_points():
    points = []
    for code in config["languages"]:
        for bench in benchmarks_of(code):
            qrels = f"{RESULTS}/prepare/benchmarks/{bench}/qrels.txt"
            for method in config["methods"]:
                for size in pool_sizes(code):
                    for seed in config["seeds"]:
                        if size == 0:
                            # The untrained student is the same for every method and seed: run once.
                            run = f"{RESULTS}/search/{bench}/{code}/zero_shot.trec"
                            train_log = None
                        else:
                            run = f"{RESULTS}/search/{bench}/{code}/{method}/seed{seed}/n{size}.trec"
                            train_log = f"{RESULTS}/train/{code}/{method}/seed{seed}/n{size}/train_log.json"
                        points.append(
                            dict(
                                language=code,
                                benchmark=bench,
                                method=method,
                                size=size,
                                seed=seed,
                                run_file=run,
                                qrels_file=qrels,
                                metrics_file=run.replace(
                                    f"{RESULTS}/search/", f"{RESULTS}/evaluate/", 1
                                ).replace(".trec", ".json"),
                                train_log=train_log,
                            )
                        )
    return points


def final_outputs():
    return [
        f"{RESULTS}/tables/recall.tsv",
        f"{RESULTS}/tables/correlation.tsv",
        f"{RESULTS}/plots/recall_vs_n.png",
        f"{RESULTS}/tables/missing.tsv",
    ]


include: "validate.smk"
include: "targets.smk"
