from pathlib import Path

from swimscale.data import check_language, write_report
from swimscale.jobs import job_log

with job_log(snakemake.log[0]):
    report = check_language(
        snakemake.wildcards.language,
        Path(snakemake.input.pool),
        Path(snakemake.output.pool),
        snakemake.params.sizes,
        snakemake.params.benchmarks,  # name -> {queries, qrels, corpus, manifest, role}
        cap_sizes=snakemake.params.cap_sizes,
        overlap=snakemake.params.overlap,
    )
    write_report(report, Path(snakemake.output.report))
    print(report)
