from pathlib import Path

import numpy as np

from swimscale.jobs import job_log
from swimscale.model import set_threads
from swimscale.retrieval import build_flat_ip, save_index

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    index = build_flat_ip(np.load(snakemake.input.embeddings), normalize=snakemake.params.normalize)
    save_index(index, Path(snakemake.output[0]))
    space = "cosine (L2-normalised)" if snakemake.params.normalize else "raw inner product"
    print(f"IndexFlatIP with {index.ntotal} vectors, {space}")
