# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

from pathlib import Path

import numpy as np

from swimscale.config import TeacherSettings
from swimscale.jobs import checked_job
from swimscale.model import encode_texts, load_encoder, read_passages, require_device, set_threads

with checked_job(snakemake):
    device = require_device(snakemake.config["allow_cpu"], snakemake.resources.get("gpu", 0))
    set_threads(snakemake.threads)
    teacher = TeacherSettings.from_params(snakemake.params.teacher)
    docids, passages = read_passages(Path(snakemake.input.corpus), teacher.passage_format)
    tokenizer, model = load_encoder(teacher.model, device)
    embeddings = encode_texts(tokenizer, model, passages, teacher, desc="corpus")
    np.save(snakemake.output.embeddings, embeddings)
    Path(snakemake.output.docids).write_text("\n".join(docids) + "\n", encoding="utf-8")
    print(f"{len(docids)} documents encoded on {device}")
