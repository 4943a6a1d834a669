from pathlib import Path

from swimscale.data import DataMissingError
from swimscale.jobs import job_log
from swimscale.data import prepare_swimir_pool

pool = snakemake.params.pool
try:
    with job_log(snakemake.log[0]):
        manifest = prepare_swimir_pool(
            code=snakemake.wildcards.language,
            source=pool["source"],
            pool_path=Path(snakemake.output.pool),
            manifest_path=Path(snakemake.output.manifest),
            sizes=snakemake.params.sizes,
            cap_sizes=pool.get("cap_sizes", False),
            on_bad_record=pool.get("on_bad_record", "stop"),
            language_name=pool.get("language_name"),
            data_dir=snakemake.params.data_dir,
            dataset=pool.get("dataset") or "nthakur/swim-ir-cross-lingual",
            revision=pool.get("revision"),
            path=pool.get("path"),
            section=pool.get("section") or "cross_lingual",
        )
        print(manifest["counts"], manifest["sizes"])
except (DataMissingError, ValueError) as err:
    # What to download or fix, in one message, not a traceback.
    raise SystemExit(f"prepare_pool {snakemake.wildcards.language}: {err}") from None
