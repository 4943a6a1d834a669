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
# screen's record says that its training never saw a document now judged relevant (trained students).
with checked_job(snakemake):
    # A trained student's runs need the screen's record; the untrained one's (N = 0) saw no training data,
    # so its score does not wait for its language's pool (a broken pool leaves N = 0 scored).
    screened = (json.loads(Path(snakemake.input.screened).read_text(encoding="utf-8"))
                if "screened" in snakemake.input.keys() else None)
    for name, files in snakemake.params.tests.items():
        try:
            if screened is not None:
                check_screened(name, files, screened, snakemake.params.rescreen)
            summary = evaluate_search(files, snakemake.params.search_again)
        except InputError as error:  # one line on the terminal, naming the file and the command
            raise SystemExit(str(error)) from None
        print(f"{name}: {summary}")
