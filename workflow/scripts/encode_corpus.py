from pathlib import Path

import numpy as np

from swimscale.data import read_corpus
from swimscale.jobs import job_log
from swimscale.model import encode_texts, load_encoder, set_threads

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    docids, texts = read_corpus(Path(snakemake.input.corpus))
    tokenizer, model = load_encoder(snakemake.params.teacher)
    embeddings = encode_texts(
        tokenizer, model, texts, snakemake.params.batch_size, snakemake.params.max_length, desc="corpus", pooling=snakemake.params.pooling
    )
    np.save(snakemake.output.embeddings, embeddings)
    Path(snakemake.output.docids).write_text("\n".join(docids) + "\n", encoding="utf-8")
    print(f"{len(docids)} documents encoded")
