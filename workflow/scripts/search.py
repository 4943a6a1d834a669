# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

from swimscale.config import Settings
from swimscale.jobs import checked_job
from swimscale.model import BenchmarkFiles, load_student, search_benchmark, set_threads

with checked_job(snakemake):
    set_threads(snakemake.threads)
    settings = Settings.from_params(snakemake.params)  # its teacher, train and search params
    # The untrained student (N = 0) is the teacher, split as the trained students are.
    tokenizer, student = load_student(settings.teacher, settings.train, None)
    files = BenchmarkFiles.from_paths({**dict(snakemake.input.items()), **dict(snakemake.output.items())})
    record = search_benchmark(student, tokenizer, files, settings, tag="zero_shot")
    print(f"searched: {record}")  # scored by evaluate_zero_shot (workflow/rules/evaluate.smk)
