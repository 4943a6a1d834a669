from swimscale.data import BenchmarkFiles, DataMissingError
from swimscale.data.benchmarks import prepare_benchmark
from swimscale.jobs import job_log

try:
    with job_log(snakemake.log[0]):
        out = snakemake.output
        manifest = prepare_benchmark(
            snakemake.wildcards.benchmark,
            snakemake.params.settings,  # benchmarks.<name>, validated: the schema's defaults filled in
            BenchmarkFiles.at(out.queries, out.corpus, out.qrels, out.manifest),
            data_dir=snakemake.params.data_dir,
        )
        print(manifest["counts"])
except (DataMissingError, ValueError) as err:
    # What to download or fix, in one message, not a traceback.
    raise SystemExit(f"prepare_benchmark {snakemake.wildcards.benchmark}: {err}") from None
