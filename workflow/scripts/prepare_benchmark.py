from pathlib import Path

from swimscale.data.benchmarks import prepare_benchmark
from swimscale.data import DataMissingError
from swimscale.jobs import job_log

try:
    with job_log(snakemake.log[0]):
        manifest = prepare_benchmark(
            snakemake.wildcards.benchmark,
            snakemake.params.settings,
            queries_path=Path(snakemake.output.queries),
            corpus_path=Path(snakemake.output.corpus),
            qrels_path=Path(snakemake.output.qrels),
            manifest_path=Path(snakemake.output.manifest),
            data_dir=snakemake.params.data_dir,
        )
        print(manifest["counts"])
except (DataMissingError, ValueError) as err:
    # What to download or fix, in one message, not a traceback.
    raise SystemExit(f"prepare_benchmark {snakemake.wildcards.benchmark}: {err}") from None
