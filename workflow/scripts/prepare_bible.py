from pathlib import Path

from swimscale.data import prepare_bible
from swimscale.jobs import job_log

with job_log(snakemake.log[0]):
    bible = snakemake.params.bible
    manifest = prepare_bible(
        code=snakemake.wildcards.language,
        language_name=snakemake.params.language_name,
        test_book_every=bible["test_book_every"],
        n_queries=bible["n_queries"],
        query_seed=bible["query_seed"],
        corpus_size=bible["corpus_size"],
        max_pool_records=bible["max_pool_records"],
        pool_path=Path(snakemake.output.pool),
        queries_path=Path(snakemake.output.queries),
        corpus_path=Path(snakemake.output.corpus),
        qrels_path=Path(snakemake.output.qrels),
        manifest_path=Path(snakemake.output.manifest),
    )
    print(manifest["alignment"], manifest["counts"])
