import json
from pathlib import Path

import torch

from swimscale.data import read_pool
from swimscale.jobs import job_log
from swimscale.model import (
    TeacherCache,
    TrainConfig,
    save_student,
    set_threads,
    train_student,
)

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    cfg = TrainConfig.from_config(
        snakemake.params.train, pooling=snakemake.params.pooling, seed=int(snakemake.wildcards.seed)
    )
    records = read_pool(Path(snakemake.input.sample))
    cache = TeacherCache.load(Path(snakemake.input.teacher_tokens))
    checkpoint = Path(snakemake.params.checkpoint)
    try:
        model, log = train_student(
            records,
            snakemake.params.teacher,
            cache,
            cfg,
            method=snakemake.wildcards.method,
            checkpoint=checkpoint,
            checkpoint_every=snakemake.params.checkpoint_every,
            micro_batch_size=snakemake.resources.micro_batch,
        )
    except torch.cuda.OutOfMemoryError:
        raise SystemExit(
            f"out of GPU memory at micro-batch {snakemake.resources.micro_batch}; "
            "run again with --retries 1 (or more): each retry halves it and resumes from the checkpoint"
        ) from None
    save_student(model, Path(snakemake.output.student))
    Path(snakemake.output.train_log).write_text(json.dumps(log, indent=1) + "\n")
    checkpoint.unlink(missing_ok=True)  # the finished student supersedes it
