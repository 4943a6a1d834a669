# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

import json
from pathlib import Path

from swimscale.data import check_screened
from swimscale.errors import InputError
from swimscale.jobs import checked_job
from swimscale.retrieval import evaluate_search

# A student's runs scored against the current judgements (workflow/rules/evaluate.smk), once the overlap
# screen's record says that its training never saw a document now judged relevant.
with checked_job(snakemake):
    screened = json.loads(Path(snakemake.input.screened).read_text(encoding="utf-8"))
    for name, files in snakemake.params.tests.items():
        try:
            check_screened(name, files, screened, snakemake.params.rescreen)
            summary = evaluate_search(files, snakemake.params.search_again)
        except InputError as error:  # one line on the terminal, naming the file and the command
            raise SystemExit(str(error)) from None
        print(f"{name}: {summary}")
