# Measured moderators of each (language, test benchmark) of the tables (swimscale.moderators): the
# teacher tokenizer's fertility and [UNK] rate on the benchmark's queries, the script (languages.tsv and
# detected), and the untrained student's (N = 0) Recall@50. One small CPU job reading the prepared
# queries and the zero-shot metrics; results/tables/moderators.tsv is joined to recall.tsv on
# (language, benchmark) by the analysis. Its paths are spelled once, in MODERATOR_PATHS.


# The moderators rule's files: its table, log and timing.
MODERATOR_PATHS = {
    "table": f"{RESULTS}/tables/moderators.tsv",
    "log": f"{RESULTS}/logs/moderators/moderators.log",
    "timing": f"{RESULTS}/timings/moderators/moderators.tsv",
}
# [language, test benchmark, its queries.tsv, the N = 0 metrics file] of every language of the tables.
MODERATOR_UNITS = [
    [
        language,
        benchmark,
        benchmark_files(benchmark)["queries"],
        SWEEP.evaluation_files(*SWEEP.zero_shot_dirs(language), benchmark)["metrics"],
    ]
    for language in dict.fromkeys(point["language"] for point in sweep_points())
    for benchmark in test_benchmarks_of(language)
]


# Light (a tokenizer and the queries' text, seconds): run by Snakemake itself, never submitted.
localrules:
    moderators,


rule moderators:
    input:
        queries=sorted({unit[2] for unit in MODERATOR_UNITS}),
        metrics=sorted({unit[3] for unit in MODERATOR_UNITS}),
        model=TEACHER_FILES,
        languages=lambda wildcards: [str(p) for p in TIERS_CANDIDATES if p.is_file()][
            :1
        ],
    output:
        table=MODERATOR_PATHS["table"],
    log:
        MODERATOR_PATHS["log"],
    benchmark:
        MODERATOR_PATHS["timing"]
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=2000,
        disk_mb=10,
    params:
        units=MODERATOR_UNITS,
        teacher=config["teacher"]["model"],
    script:
        "../scripts/moderators.py"
