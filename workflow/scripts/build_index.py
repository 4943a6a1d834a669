# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

from pathlib import Path

import numpy as np

from swimscale.config import TeacherSettings
from swimscale.jobs import checked_job
from swimscale.model import set_threads
from swimscale.retrieval import build_flat_ip, save_index

with checked_job(snakemake):
    set_threads(snakemake.threads)
    teacher = TeacherSettings.from_params(snakemake.params.teacher)
    index = build_flat_ip(np.load(snakemake.input.embeddings), teacher.normalize)
    save_index(index, Path(snakemake.output[0]))
    space = "cosine (L2-normalised)" if teacher.normalize else "raw inner product"
    print(f"IndexFlatIP with {index.ntotal} vectors, {space}")
