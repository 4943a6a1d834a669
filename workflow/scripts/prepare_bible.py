# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

from pathlib import Path

from swimscale.data import BenchmarkFiles, CollectionFiles, HeldOutFiles, PoolFiles, prepare_bible
from swimscale.jobs import checked_job


def held_out(out, split):
    """The files of one held-out split (`test` or `dev`) among the rule's named outputs."""
    return HeldOutFiles(
        BenchmarkFiles.at(out[f"{split}_queries"], out[f"{split}_qrels"], out[f"{split}_manifest"]),
        CollectionFiles.at(out[f"{split}_corpus"], out[f"{split}_collection_manifest"]),
    )


with checked_job(snakemake):
    out = snakemake.output
    manifests = prepare_bible(
        code=snakemake.wildcards.language,
        language_name=snakemake.params.language_name,
        settings=snakemake.params.bible,
        pool=PoolFiles.at(out.pool, out.pool_manifest),
        test=held_out(out, "test"),
        dev=held_out(out, "dev"),
    )
    print({split: manifest["counts"] for split, manifest in manifests.items()})
