import json
from pathlib import Path

from swimscale import encode
from swimscale.data import read_pool
from swimscale.joblog import job_log
from swimscale.train import TeacherCache, TrainConfig, save_student, train_student

with job_log(snakemake.log[0]):
    encode.set_threads(snakemake.threads)
    cfg = TrainConfig(**snakemake.params.train, seed=int(snakemake.wildcards.seed))
    records = read_pool(Path(snakemake.input.sample))
    cache = TeacherCache.load(Path(snakemake.input.teacher_tokens))
    model, log = train_student(records, snakemake.params.teacher, cache, cfg)
    log["method"] = snakemake.wildcards.method
    log["device"] = str(encode.device())
    save_student(model, Path(snakemake.output.student))
    Path(snakemake.output.train_log).write_text(json.dumps(log, indent=1) + "\n")
