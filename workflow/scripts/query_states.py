from pathlib import Path

from swimscale.data import read_queries
from swimscale.jobs import job_log
from swimscale.model import encode_query_states, load_student, set_threads, state_settings

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    queries = read_queries(Path(snakemake.input.queries))
    tokenizer, student = load_student(
        snakemake.params.teacher,
        None,
        trainable_layers=snakemake.params.trainable_layers,
        freeze_embeddings=snakemake.params.freeze_embeddings,
    )
    qids = list(queries)
    max_length = snakemake.params.max_length
    states = encode_query_states(
        tokenizer, student, qids, [queries[q] for q in qids], max_length, snakemake.params.batch_size,
        state_settings(snakemake.params.teacher, student, max_length),
    )
    states.save(Path(snakemake.output[0]))
    print(f"{len(qids)} queries, {states.states.shape[0]} token states after {student.prefix_depth} frozen layers")
