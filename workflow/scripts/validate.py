# First, before any other import: in a --use-conda job this takes off sys.path what Snakemake's script
# preamble appended from the host, so every later import comes from the job's env (swimscale.jobs).
from swimscale.jobs import isolate_job_imports

isolate_job_imports()

import json
import sys
from pathlib import Path

from swimscale.data import check_language, write_report
from swimscale.formats import write_text_atomic
from swimscale.jobs import checked_job

language = snakemake.wildcards.language
with checked_job(snakemake):
    report = check_language(
        language,
        Path(snakemake.input.pool),
        Path(snakemake.output.pool),
        snakemake.params.sizes,
        snakemake.params.benchmarks,  # name -> {queries, qrels, corpus, manifest, role}
        cap_sizes=snakemake.params.cap_sizes,
        overlap=snakemake.params.overlap,
        near_duplicate_jaccard=snakemake.params.near_duplicate_jaccard,
    )
    # What the screen read of each benchmark, for evaluation to check the current judgements against.
    screened = report.pop("screened")
    write_text_atomic(Path(snakemake.output.screened), json.dumps(screened, indent=1, sort_keys=True) + "\n")
    write_report(report, Path(snakemake.output.report))
    print(report)
# Overlaps and small corpora where the user sees them (the terminal), not only in the report.
overlap = report["overlap"]
touched = {name: c for name, c in overlap["benchmarks"].items() if c["relevant"] or c["other"] or c["query"]}
if touched:
    counts = "; ".join(f"{name}: {c['relevant']} relevant ({c['near_duplicate']} near-duplicates), {c['other']} other, "
                       f"{c['query']} queries" for name, c in touched.items())
    print(
        f"validate {language}: pool records whose passage is a benchmark document or whose query is a benchmark query ({counts}); "
        f"{overlap['dropped']} left out of training (pools.{language}.overlap: {overlap['mode']}); see {snakemake.output.report}",
        file=sys.stderr,
    )
for name, checked in report["benchmarks"].items():
    for warning in checked["warnings"]:
        print(f"validate {language}: benchmark '{name}': {warning}", file=sys.stderr)
