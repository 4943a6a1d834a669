# Checks of a language's prepared data before any training (swimscale.data.check_language), and the
# overlap screen: the validated pool leaves out (overlap: drop) every record whose passage is a relevant
# document of a test or dev benchmark the language is evaluated on. The config itself is checked when
# the DAG is built (common.smk: swimscale.config.check_config). subsample reads the validated pool, so
# no training starts before the checks have passed. A test benchmark's prepared files are read through
# ancient() (common.smk: screen_inputs): a qrels edit rescores, and evaluation checks that the screen
# saw every document now judged relevant (swimscale.data.check_screened).


localrules:
    missing_runs,


rule validate:
    input:
        pool=lambda wc: LAYOUT.pool(wc.language),
        benchmarks=lambda wc: screen_inputs(wc.language),
    output:
        pool=LAYOUT.validated_pool("{language}"),
        report=LAYOUT.validation_report("{language}"),
        # What the screen read of each benchmark: evaluation checks the current judgements against it.
        screened=LAYOUT.screened("{language}"),
    log:
        LAYOUT.logs.validate("{language}"),
    benchmark:
        LAYOUT.timings.validate("{language}")
    priority: 100  # before the language's other jobs that are ready at the same time
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        disk_mb=2000,
    params:
        sizes=lambda wc: trained_sizes(wc.language),
        cap_sizes=lambda wc: config["pools"][wc.language]["cap_sizes"],
        overlap=lambda wc: config["pools"][wc.language]["overlap"],
        near_duplicate_jaccard=lambda wc: config["pools"][wc.language][
            "near_duplicate_jaccard"
        ],
        benchmarks=lambda wc: validate_benchmarks(wc.language),
    script:
        "../scripts/validate.py"


# The runs of the sweep that are not in the tables: none unless `partial: true` (see sweep_points).
rule missing_runs:
    input:
        LAYOUT.table("recall"),
    output:
        LAYOUT.table("missing"),
    log:
        LAYOUT.logs.missing_runs(),
    benchmark:
        LAYOUT.timings.missing_runs()
    conda:
        "../../envs/data.yaml"
    threads: 1
    params:
        missing=missing_points(),
    script:
        "../scripts/missing_runs.py"
