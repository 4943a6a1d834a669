import json
from pathlib import Path

from swimscale.jobs import job_log
from swimscale.retrieval import evaluate, read_qrels, read_run

with job_log(snakemake.log[0]):
    per_query = evaluate(read_run(Path(snakemake.input.run)), read_qrels(Path(snakemake.input.qrels)))
    per_query.to_csv(snakemake.output.per_query, sep="\t", index=False)
    summary = {column: float(per_query[column].mean()) for column in per_query.columns if column != "qid"}
    summary["n_queries"] = len(per_query)
    Path(snakemake.output.metrics).write_text(json.dumps(summary, indent=1) + "\n")
    print(summary)
