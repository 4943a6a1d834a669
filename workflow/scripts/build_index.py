from pathlib import Path

import numpy as np

from swimscale import encode
from swimscale.index import build_flat_ip, save_index
from swimscale.joblog import job_log

with job_log(snakemake.log[0]):
    encode.set_threads(snakemake.threads)
    index = build_flat_ip(np.load(snakemake.input.embeddings))
    save_index(index, Path(snakemake.output[0]))
    print(f"IndexFlatIP with {index.ntotal} vectors")
