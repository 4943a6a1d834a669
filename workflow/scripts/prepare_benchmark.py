# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

import sys

from swimscale.data import BenchmarkFiles, DataMissingError
from swimscale.data.benchmarks import prepare_benchmark
from swimscale.jobs import checked_job

name = snakemake.wildcards.benchmark
try:
    with checked_job(snakemake):
        out = snakemake.output
        manifest = prepare_benchmark(
            name,
            snakemake.params.settings,  # benchmarks.<name>, validated: the schema's defaults filled in
            snakemake.input.corpus,  # its collection's prepared corpus
            BenchmarkFiles.at(out.queries, out.qrels, out.manifest),
            data_dir=snakemake.params.data_dir,
        )
        print(manifest["counts"], manifest["dropped"])
except (DataMissingError, ValueError) as err:
    # What to download or fix, in one message, not a traceback.
    raise SystemExit(f"prepare_benchmark {name}: {err}") from None
# What on_bad_judgement: drop left out, where the user sees it (the terminal), not only in the manifest.
dropped = {kind: n for kind, n in manifest["dropped"].items() if n}
if dropped:
    counts = manifest["counts"]
    print(
        f"prepare_benchmark {name}: dropped {', '.join(f'{n} {kind}' for kind, n in dropped.items())}; "
        f"{counts['queries_lost']} of {counts['queries_read']} queries lost (see {out.manifest})",
        file=sys.stderr,
    )
