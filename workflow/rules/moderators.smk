# Measured moderators of each (language, test benchmark) of the tables (swimscale.moderators): the
# teacher tokenizer's fertility and [UNK] rate on the benchmark's queries, the script (languages.tsv and
# detected), and the untrained student's (N = 0) Recall@50. One small CPU job reading the prepared
# queries and the zero-shot metrics; results/tables/moderators.tsv is joined to recall.tsv on
# (language, benchmark) by the analysis. Its paths are spelled once, in moderator_paths().


def moderator_paths():
    """The moderators rule's files: its table, log and timing."""
    return {
        "table": f"{RESULTS}/tables/moderators.tsv",
        "log": f"{RESULTS}/logs/moderators/moderators.log",
        "timing": f"{RESULTS}/timings/moderators/moderators.tsv",
    }


def moderator_units():
    """[language, test benchmark, its queries.tsv, the N = 0 metrics file] of every language of the tables."""
    units = []
    for language in dict.fromkeys(point["language"] for point in sweep_points()):
        zero_shot = SWEEP.zero_shot_dirs(language)
        for benchmark in test_benchmarks_of(language):
            metrics = SWEEP.evaluation_files(*zero_shot, benchmark)["metrics"]
            units.append([language, benchmark, benchmark_files(benchmark)["queries"], metrics])
    return units


MODERATOR_UNITS = moderator_units()


# Light (a tokenizer and the queries' text, seconds): run by Snakemake itself, never submitted.
localrules:
    moderators,


rule moderators:
    input:
        queries=sorted({unit[2] for unit in MODERATOR_UNITS}),
        metrics=sorted({unit[3] for unit in MODERATOR_UNITS}),
        model=TEACHER_FILES,
        languages=lambda wildcards: [str(p) for p in TIERS_CANDIDATES if p.is_file()][:1],
    output:
        table=moderator_paths()["table"],
    log:
        moderator_paths()["log"],
    benchmark:
        moderator_paths()["timing"]
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
