from pathlib import Path

import numpy as np

from swimscale.model import _encode as encode
from swimscale.data import read_corpus
from swimscale.jobs import job_log

with job_log(snakemake.log[0]):
    encode.set_threads(snakemake.threads)
    docids, texts = read_corpus(Path(snakemake.input.corpus))
    tokenizer, model = encode.load_encoder(snakemake.params.teacher)
    embeddings = encode.encode_texts(
        tokenizer, model, texts, snakemake.params.batch_size, snakemake.params.max_length, desc="corpus", pooling=snakemake.params.pooling
    )
    np.save(snakemake.output.embeddings, embeddings)
    Path(snakemake.output.docids).write_text("\n".join(docids) + "\n", encoding="utf-8")
    print(f"{len(docids)} documents encoded")
