# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

from swimscale.data import CollectionFiles, DataMissingError
from swimscale.data.benchmarks import prepare_collection
from swimscale.jobs import checked_job

try:
    with checked_job(snakemake):
        manifest = prepare_collection(
            snakemake.wildcards.collection,
            snakemake.params.members,  # {benchmark: validated entry} of every benchmark searching it
            CollectionFiles.at(snakemake.output.corpus, snakemake.output.manifest),
            data_dir=snakemake.params.data_dir,
        )
        print(manifest["counts"], manifest["formed"])
except (DataMissingError, ValueError) as err:
    # What to download or fix, in one message, not a traceback.
    raise SystemExit(f"prepare_collection {snakemake.wildcards.collection}: {err}") from None
