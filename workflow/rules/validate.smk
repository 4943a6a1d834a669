# Checks of a language's prepared data before any training (swimscale.data.check_language); the
# config itself is checked when the DAG is built (common.smk: swimscale.config.check_config).
# teacher_tokens, and so every train job of the language, needs this rule's report (subsample_files).


localrules:
    missing_runs,


rule validate:
    input:
        pool=f"{RESULTS}/prepare/pools/{{language}}.jsonl",
        benchmarks=lambda wc: [
            path
            for name in benchmarks_of(wc.language)
            for path in benchmark_files(name).values()
        ],
    output:
        f"{RESULTS}/validate/{{language}}.json",
    log:
        f"{RESULTS}/logs/validate/{{language}}.log",
    benchmark:
        f"{RESULTS}/timings/validate/{{language}}.tsv"
    priority: 100  # before the language's other jobs that are ready at the same time
    conda:
        "../../envs/data.yaml"
    threads: 1
    params:
        sizes=lambda wc: trained_sizes(wc.language),
        cap_sizes=lambda wc: config["pools"][wc.language]["cap_sizes"],
        benchmarks=lambda wc: {
            name: benchmark_files(name) for name in benchmarks_of(wc.language)
        },
    script:
        "../scripts/validate.py"


# The runs of the sweep that are not in the tables: none unless `partial: true` (see sweep_points).
rule missing_runs:
    input:
        f"{RESULTS}/tables/recall.tsv",
    output:
        f"{RESULTS}/tables/missing.tsv",
    log:
        f"{RESULTS}/logs/correlate/missing_runs.log",
    benchmark:
        f"{RESULTS}/timings/correlate/missing_runs.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    params:
        missing=missing_points(),
    script:
        "../scripts/missing_runs.py"
