# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

from pathlib import Path

from swimscale.config import TeacherSettings
from swimscale.data import read_pool
from swimscale.jobs import checked_job
from swimscale.model import (
    TeacherEncoder,
    autocast_for,
    load_encoder,
    require_device,
    set_threads,
    write_teacher_states,
)

with checked_job(snakemake):
    set_threads(snakemake.threads)
    # A GPU job stops here without a usable GPU (unless allow_cpu: true).
    device = require_device(snakemake.config["allow_cpu"], snakemake.resources.get("gpu", 0))
    teacher = TeacherSettings.from_params(snakemake.params.teacher)
    records = read_pool(Path(snakemake.input.pool))
    tokenizer, model = load_encoder(teacher.model, device)
    # bf16 under the CUDA autocast (the students' policy), float32 on the CPU.
    encoder = TeacherEncoder(tokenizer, model, teacher, autocast_for(device))
    metadata = write_teacher_states(Path(snakemake.output[0]), encoder, records)
    print(f"{metadata['count']} records, {metadata['tokens']} token states ({metadata['dtype']}) on {device}")
