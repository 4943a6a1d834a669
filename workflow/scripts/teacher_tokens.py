from pathlib import Path

from swimscale.data import read_pool
from swimscale.jobs import job_log
from swimscale.model import build_teacher_cache, load_encoder, set_threads

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    # The union of every sample: each English text is encoded once, whatever the runs that use it.
    records = {}
    for path in snakemake.input:
        if not path.endswith(".jsonl"):  # the language's validation report (a gate, not data)
            continue
        for record in read_pool(Path(path)):
            records[record["_id"]] = record
    tokenizer, model = load_encoder(snakemake.params.teacher)
    cache = build_teacher_cache(
        tokenizer, model, [records[k] for k in sorted(records)], snakemake.params.max_length, snakemake.params.batch_size,
        pooling=snakemake.params.pooling,
    )
    cache.save(Path(snakemake.output[0]))
    print(f"{len(records)} records, {cache.tokens.shape[0]} tokens")
