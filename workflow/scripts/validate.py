from pathlib import Path

from swimscale.jobs import job_log
from swimscale.data import check_language, write_report

with job_log(snakemake.log[0]):
    report = check_language(
        snakemake.wildcards.language,
        Path(snakemake.input.pool),
        snakemake.params.sizes,
        snakemake.params.benchmarks,
        cap_sizes=snakemake.params.cap_sizes,
    )
    write_report(report, Path(snakemake.output[0]))
    print(report)
