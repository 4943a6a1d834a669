from pathlib import Path

from swimscale.data import read_pool, write_jsonl
from swimscale.joblog import job_log
from swimscale.sampling import subsample

with job_log(snakemake.log[0]):
    pool = read_pool(Path(snakemake.input.pool), code=snakemake.wildcards.language)
    sample = subsample(pool, int(snakemake.wildcards.size), int(snakemake.wildcards.seed), source=snakemake.input.pool)
    write_jsonl(Path(snakemake.output[0]), sample)
    print(f"{len(sample)} of {len(pool)} records")
