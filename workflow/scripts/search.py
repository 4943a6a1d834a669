from pathlib import Path

from swimscale.data import read_queries
from swimscale.jobs import job_log
from swimscale.model import encode_texts, load_student, set_threads
from swimscale.retrieval import load_index, search, write_run

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    queries = read_queries(Path(snakemake.input.queries))
    docids = Path(snakemake.input.docids).read_text(encoding="utf-8").split()
    student = snakemake.input.get("student")  # absent for N = 0: the untrained student is the teacher
    tokenizer, model = load_student(snakemake.params.teacher, Path(student) if student else None)
    qids = list(queries)
    embeddings = encode_texts(
        tokenizer, model, [queries[q] for q in qids], snakemake.params.batch_size, snakemake.params.max_length,
        desc="queries",
        pooling=snakemake.params.pooling,
    )
    results = search(load_index(Path(snakemake.input.index)), embeddings, qids, docids, snakemake.params.k)
    write_run(Path(snakemake.output[0]), results, snakemake.params.tag)
    print(f"{len(qids)} queries searched")
