# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

from pathlib import Path

from swimscale.config import TeacherSettings, TrainSettings
from swimscale.data import read_queries
from swimscale.jobs import checked_job
from swimscale.model import encode_query_states, load_student, set_threads

with checked_job(snakemake):
    set_threads(snakemake.threads)
    teacher = TeacherSettings.from_params(snakemake.params.teacher)
    train = TrainSettings.from_params(snakemake.params.train)
    queries = read_queries(Path(snakemake.input.queries))
    tokenizer, student = load_student(teacher, train, None)
    qids = list(queries)
    states = encode_query_states(tokenizer, student, qids, [queries[q] for q in qids], teacher, train)
    states.save(Path(snakemake.output[0]))
    print(f"{len(qids)} queries, {states.states.shape[0]} token states after {student.prefix_depth} frozen layers")
