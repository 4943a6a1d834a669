# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

from pathlib import Path

from swimscale.data import DataMissingError, prepare_pool
from swimscale.jobs import checked_job

try:
    with checked_job(snakemake):
        manifest = prepare_pool(
            code=snakemake.wildcards.language,
            pool=snakemake.params.pool,  # pools.<code>, validated: the schema's defaults filled in
            pool_path=Path(snakemake.output.pool),
            manifest_path=Path(snakemake.output.manifest),
            sizes=snakemake.params.sizes,
            data_dir=snakemake.params.data_dir,
        )
        print(manifest["counts"], manifest["sizes"])
except (DataMissingError, ValueError) as err:
    # What to download or fix, in one message, not a traceback.
    raise SystemExit(f"prepare_pool {snakemake.wildcards.language}: {err}") from None
