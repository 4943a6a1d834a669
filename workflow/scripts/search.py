from swimscale.jobs import job_log
from swimscale.model import BenchmarkFiles, SearchSettings, load_student, search_benchmark, set_threads

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    settings = SearchSettings.from_params(snakemake.params.search)
    # The untrained student (N = 0) is the teacher, split as the trained students are.
    tokenizer, student = load_student(
        settings.teacher,
        None,
        trainable_layers=snakemake.params.trainable_layers,
        freeze_embeddings=snakemake.params.freeze_embeddings,
    )
    files = BenchmarkFiles.from_paths({**dict(snakemake.input.items()), **dict(snakemake.output.items())})
    summary = search_benchmark(student, tokenizer, files, settings, tag="zero_shot")
    print(f"{summary['n_queries']} queries searched: {summary}")
