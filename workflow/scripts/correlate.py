import json
from pathlib import Path

from swimscale.joblog import job_log
from swimscale.stats import build_recall_table, correlation_table, plot_recall_vs_n, write_tsv

with job_log(snakemake.log[0]):
    records = []
    for point in snakemake.params.points:
        metrics = json.loads(Path(point["metrics_file"]).read_text())
        train = json.loads(Path(point["train_log"]).read_text()) if point["train_log"] else {}
        records.append(
            {
                **{key: point[key] for key in ("language", "benchmark", "method", "size", "seed", "run_file", "qrels_file")},
                **metrics,
                "steps": train.get("steps", 0),
                "examples_seen": train.get("examples_seen", 0),
                "train_seconds": train.get("train_seconds", 0.0),
            }
        )
    recall = build_recall_table(records)
    write_tsv(recall, snakemake.output.recall)
    write_tsv(correlation_table(recall), snakemake.output.correlation)
    plot_recall_vs_n(recall, snakemake.output.plot)
    print(recall.to_string())
