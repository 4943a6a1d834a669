import json
from pathlib import Path

from swimscale.analysis import build_recall_table, run
from swimscale.jobs import job_log

with job_log(snakemake.log[0]):
    records = []
    for point in snakemake.params.points:
        metrics = json.loads(Path(point["metrics_file"]).read_text())
        train = json.loads(Path(point["train_log"]).read_text()) if point["train_log"] else {}
        records.append(
            {
                **{key: point[key] for key in ("language", "benchmark", "method", "size", "seed", "run_file", "qrels_file")},
                **metrics,
                # N = 0 is not trained: no budget, no updates.
                "budget": train.get("budget", ""),
                "steps": train.get("steps", 0),
                "steps_at_best": train.get("steps_at_best", 0),
                "cap_bound": bool(train.get("cap_bound")),
                "examples_seen": train.get("examples_seen", 0),
                "train_seconds": train.get("train_seconds", 0.0),
            }
        )
    recall = build_recall_table(records)
    # Run and qrels paths are relative to the working directory, where this job runs.
    run(
        recall,
        dict(snakemake.output.items()),
        tiers_path=snakemake.input.tiers[0] if snakemake.input.tiers else None,  # an optional input: a list
        literature_path=snakemake.input.literature[0] if snakemake.input.literature else None,
        settings=snakemake.params.analysis,  # the config's analysis section, defaults filled in by the schema
    )
    print(recall.to_string())
