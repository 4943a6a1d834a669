from pathlib import Path

import numpy as np

from swimscale.jobs import job_log
from swimscale.model import encode_texts, load_encoder, read_passages, require_device, set_threads

with job_log(snakemake.log[0]):
    dev = require_device(snakemake.config["allow_cpu"], snakemake.resources.get("gpu", 0))
    set_threads(snakemake.threads)
    docids, passages = read_passages(Path(snakemake.input.corpus), snakemake.params.passage_format)
    tokenizer, model = load_encoder(snakemake.params.teacher, dev)
    embeddings = encode_texts(
        tokenizer,
        model,
        passages,
        snakemake.params.batch_size,
        snakemake.params.max_length,
        desc="corpus",
        pooling=snakemake.params.pooling,
        normalize=snakemake.params.normalize,
    )
    np.save(snakemake.output.embeddings, embeddings)
    Path(snakemake.output.docids).write_text("\n".join(docids) + "\n", encoding="utf-8")
    print(f"{len(docids)} documents encoded on {dev}")
