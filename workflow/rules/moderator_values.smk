# Measured moderators of each (language, test benchmark) of the tables (swimscale.moderators): the
# teacher tokenizer's fertility and [UNK] rate on the benchmark's queries, the script (languages.tsv and
# detected), and the untrained student's (N = 0) Recall@50. One small CPU job reading the prepared
# queries and the zero-shot metrics; results/tables/moderator_values.tsv is joined to the
# recall table on (language, benchmark) by the analysis (its moderators: tables/moderators.tsv).


# [language, test benchmark, its queries.tsv, the N = 0 metrics file] of every language of the tables.
MODERATOR_UNITS = [
    [
        language,
        benchmark,
        LAYOUT.benchmark_files(benchmark)["queries"],
        LAYOUT.zero_shot_files(language, benchmark)["metrics"],
    ]
    for language in dict.fromkeys(point["language"] for point in sweep_points())
    for benchmark in test_benchmarks_of(language)
]


# Light (a tokenizer and the queries' text, seconds): run by Snakemake itself, never submitted.
localrules:
    moderator_values,


rule moderator_values:
    input:
        queries=sorted({unit[2] for unit in MODERATOR_UNITS}),
        metrics=sorted({unit[3] for unit in MODERATOR_UNITS}),
        model=TEACHER_FILES,
        languages=lambda wildcards: [str(p) for p in TIERS_CANDIDATES if p.is_file()][
            :1
        ],
    output:
        table=LAYOUT.table("moderator_values"),
    log:
        LAYOUT.logs.moderator_values(),
    benchmark:
        LAYOUT.timings.moderator_values()
    conda:
        TORCH_ENV
    threads: 1
    resources:
        mem_mb=2000,
        disk_mb=10,
    params:
        units=MODERATOR_UNITS,
        teacher=SETTINGS.teacher.to_params(),
    script:
        "../scripts/moderator_values.py"
