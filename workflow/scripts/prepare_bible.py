from pathlib import Path

from swimscale.data import BenchmarkFiles, prepare_bible
from swimscale.jobs import job_log

with job_log(snakemake.log[0]):
    out = snakemake.output
    manifest = prepare_bible(
        code=snakemake.wildcards.language,
        language_name=snakemake.params.language_name,
        settings=snakemake.params.bible,
        pool_path=Path(out.pool),
        files=BenchmarkFiles.at(out.queries, out.corpus, out.qrels, out.manifest),
    )
    print(manifest["alignment"], manifest["counts"])
