# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

from pathlib import Path

from swimscale.data import sample_pool, write_jsonl
from swimscale.jobs import checked_job

with checked_job(snakemake):
    size = int(snakemake.wildcards.size)
    # Streamed: memory holds the sample, not the pool (SWIM-IR pools have ~900k records).
    sample, available = sample_pool(
        Path(snakemake.input.pool),
        size,
        int(snakemake.wildcards.seed),
        code=snakemake.wildcards.language,
        cap=snakemake.params.cap,
    )
    write_jsonl(Path(snakemake.output[0]), sample)
    capped = f" (size {size} capped to the pool's {available}: pools.{snakemake.wildcards.language}.cap_sizes)" if len(sample) < size else ""
    print(f"{len(sample)} of {available} records{capped}")
