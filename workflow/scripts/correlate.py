# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

from swimscale.analysis import build_recall_table, run, sweep_records
from swimscale.jobs import checked_job

with checked_job(snakemake):
    # One record per run: its metrics, training log and its language's validate report.
    records = sweep_records(
        snakemake.params.points,
        snakemake.params.reports,
        budget=snakemake.params.budget,  # of the N = 0 rows, which are not trained
        collections=snakemake.params.collections,  # {benchmark: its collection's manifest}
    )
    recall = build_recall_table(records)
    # Run and qrels paths are relative to the working directory, where this job runs.
    run(
        recall,
        dict(snakemake.output.items()),
        tiers_path=snakemake.input.tiers[0] if snakemake.input.tiers else None,  # an optional input: a list
        literature_path=snakemake.input.literature[0] if snakemake.input.literature else None,
        settings=snakemake.params.analysis,
        moderator_values_path=snakemake.input.moderator_values or None,  # none with `partial: true`  # the config's analysis section, defaults filled in by the schema
    )
    print(recall.to_string())
