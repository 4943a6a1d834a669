# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

import csv

from swimscale.jobs import checked_job

COLUMNS = ["language", "benchmark", "method", "size", "seed", "missing"]

with checked_job(snakemake):
    with open(snakemake.output[0], "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS, delimiter="\t", extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(snakemake.params.missing)
    print(f"{len(snakemake.params.missing)} runs of the sweep are not in the tables")
