import json
from pathlib import Path

from swimscale.data import read_queries
from swimscale.jobs import job_log
from swimscale.model import QueryStates, TextQueries, encode_queries, load_student, set_threads, state_settings
from swimscale.retrieval import check_run, evaluate, load_index, read_qrels, search, write_run

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    queries = read_queries(Path(snakemake.input.queries))
    qids = list(queries)
    docids = Path(snakemake.input.docids).read_text(encoding="utf-8").split()
    student_file = snakemake.input.get("student")  # absent for N = 0: the untrained student is the teacher
    tokenizer, student = load_student(
        snakemake.params.teacher,
        Path(student_file) if student_file else None,
        trainable_layers=snakemake.params.trainable_layers,
        freeze_embeddings=snakemake.params.freeze_embeddings,
    )
    max_length = snakemake.params.max_length  # train.max_length: queries are read as in training
    if student.cached:
        inputs = QueryStates.load(Path(snakemake.input.states))
        inputs.check(state_settings(snakemake.params.teacher, student, max_length))
    else:
        inputs = TextQueries(tokenizer, max_length, queries)
    embeddings = encode_queries(
        student, inputs, qids, snakemake.params.batch_size, snakemake.params.pooling, snakemake.params.normalize
    )
    index = load_index(Path(snakemake.input.index))
    results = search(index, embeddings, qids, docids, snakemake.params.k)
    write_run(Path(snakemake.output.run), results, snakemake.params.tag)
    # Evaluated from the run file as written, as trec_eval would read it, once it is known to be whole.
    qrels = read_qrels(Path(snakemake.input.qrels))
    run = check_run(Path(snakemake.output.run), qids, snakemake.params.k, index.ntotal)
    per_query = evaluate(run, qrels)
    per_query.to_csv(snakemake.output.per_query, sep="\t", index=False)
    summary = {column: float(per_query[column].mean()) for column in per_query.columns if column != "qid"}
    summary["n_queries"] = len(per_query)
    Path(snakemake.output.metrics).write_text(json.dumps(summary, indent=1) + "\n")
    print(f"{len(qids)} queries searched: {summary}")
