from pathlib import Path

import numpy as np

from swimscale.model import _encode as encode
from swimscale.retrieval import build_flat_ip, save_index
from swimscale.jobs import job_log

with job_log(snakemake.log[0]):
    encode.set_threads(snakemake.threads)
    index = build_flat_ip(np.load(snakemake.input.embeddings))
    save_index(index, Path(snakemake.output[0]))
    print(f"IndexFlatIP with {index.ntotal} vectors")
