import os
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

RESULTS = config["results_dir"]
TEACHER = config["teacher"]["name"]


def check_config():
    """Cross-key checks the schema cannot express; each names the offending key."""
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
        if bench["source"] == "bible" and name != f"bible-{bench['language']}-en":
            raise ValueError(
                f"config 'benchmarks.{name}': a bible benchmark must be named bible-{bench['language']}-en"
            )
    for code, pool in config["pools"].items():
        if pool["source"] == "bible" and code != "ny":
            raise ValueError(
                f"config 'pools.{code}': the bundled Bible pairs are Chichewa only (code ny)"
            )
    for code in config["languages"]:
        if not benchmarks_of(code):
            raise ValueError(f"config 'benchmarks': no benchmark has language '{code}'")


def benchmarks_of(code):
    return [
        name
        for name, bench in config["benchmarks"].items()
        if bench["language"] == code
    ]


check_config()


wildcard_constraints:
    language="[a-z]{2,3}",
    benchmark="[A-Za-z0-9_.-]+",
    method="[a-z_]+",
    seed="[0-9]+",
    size="[1-9][0-9]*",


def trained_sizes():
    return sorted(size for size in config["sizes"] if size > 0)


def subsample_files(wildcards):
    """Every sample of a language's pool that some training run uses."""
    return expand(
        f"{RESULTS}/subsample/{wildcards.language}/seed{{seed}}/n{{size}}.jsonl",
        seed=config["seeds"],
        size=trained_sizes(),
    )


def sweep_points():
    """One dict per recall-table row: where its run, evaluation and training log are."""
    points = []
    for code in config["languages"]:
        for bench in benchmarks_of(code):
            qrels = f"{RESULTS}/prepare/benchmarks/{bench}/qrels.txt"
            for method in config["methods"]:
                for size in sorted(config["sizes"]):
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
    ]
